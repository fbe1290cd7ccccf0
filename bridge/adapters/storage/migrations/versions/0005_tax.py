"""tax: the rate a membership's period was paid at; each invoice's tax and each line's

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_rate_paid", sa.String(length=16), nullable=True))
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_name", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("tax_rate", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("tax_mode", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("tax_minor", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_invoices_tax_mode"), ["tax_mode"], unique=False)
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_minor", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_column("tax_minor")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_tax_mode"))
        batch_op.drop_column("tax_minor")
        batch_op.drop_column("tax_mode")
        batch_op.drop_column("tax_rate")
        batch_op.drop_column("tax_name")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("tax_rate_paid")
