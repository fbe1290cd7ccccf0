"""card payments: Stripe customers, one payment per invoice, refunds, disputes

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 02:42:10.583042
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.adapters.storage.types

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "disputes",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=True),
        sa.Column("membership_id", sa.Integer(), nullable=True),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_created_at"), ["created_at"], unique=False)

    op.create_table(
        "stripe_customers",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("stripe_customer", sa.String(length=255), nullable=False),
        sa.Column("payment_method", sa.String(length=255), nullable=True),
        sa.Column("card_brand", sa.String(length=40), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column(
            "updated_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_stripe_customers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_stripe_customers")),
        sa.UniqueConstraint("stripe_customer", name=op.f("uq_stripe_customers_stripe_customer")),
    )
    op.create_table(
        "card_payments",
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("off_session", sa.Boolean(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column(
            "next_retry_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_card_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_card_payments")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_card_payments_intent_id")),
    )
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_payments_next_retry_at"), ["next_retry_at"], unique=False
        )

    op.create_table(
        "card_refunds",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", bridge.adapters.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_card_refunds_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_refunds")),
    )
    with op.batch_alter_table("card_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_refunds_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("card_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_refunds_invoice_id"))

    op.drop_table("card_refunds")
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_payments_next_retry_at"))

    op.drop_table("card_payments")
    op.drop_table("stripe_customers")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_created_at"))

    op.drop_table("disputes")
