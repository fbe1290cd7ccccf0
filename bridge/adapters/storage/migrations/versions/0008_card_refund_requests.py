"""card refund requests: an operator's refund stored before Stripe is asked for it

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 04:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.adapters.storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_refund_requests",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_id", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_card_refund_requests_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_card_refund_requests")),
    )
    with op.batch_alter_table("card_refund_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_refund_requests_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("card_refund_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_refund_requests_invoice_id"))
    op.drop_table("card_refund_requests")
