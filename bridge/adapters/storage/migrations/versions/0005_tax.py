"""tax: the rate a membership's period was paid at, each invoice's tax and each line's;
receipts and credit notes (gapless numbers), the buyer's billing details

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.adapters.storage.types

revision: str = "0005"
down_revision: str | None = "0004"
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
    _receipts()


def _receipts() -> None:
    when = bridge.adapters.storage.types.UTCDateTime(timezone=True)
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("invoice_number", sa.BigInteger(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_at", when, nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_name", sa.String(length=50), nullable=True),
        sa.Column("tax_rate", sa.String(length=16), nullable=True),
        sa.Column("tax_mode", sa.String(length=10), nullable=True),
        sa.Column("tax_minor", sa.BigInteger(), nullable=True),
        sa.Column("balance_applied_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("receipt_number", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("uq_receipts_kind_number", ["kind", "number"], unique=True)
        batch_op.create_index(batch_op.f("ix_receipts_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipts_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_receipts_membership_id"), ["membership_id"], unique=False
        )
    op.create_table(
        "billing_details",
        sa.Column("membership_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("tax_number", sa.String(length=50), nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.PrimaryKeyConstraint("membership_id", name=op.f("pk_billing_details")),
    )
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(
        counters,
        [{"name": "receipt_number", "value": 0}, {"name": "credit_note_number", "value": 0}],
    )


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name IN ('receipt_number', 'credit_note_number')")
    op.drop_table("billing_details")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_membership_id"))
        batch_op.drop_index(batch_op.f("ix_receipts_issued_at"))
        batch_op.drop_index(batch_op.f("ix_receipts_invoice_id"))
        batch_op.drop_index("uq_receipts_kind_number")
    op.drop_table("receipts")
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
