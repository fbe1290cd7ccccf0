"""The card gateway's tables (issue 16): the Stripe customer, one card payment per invoice,
refunds (and the operator's refunds asked of Stripe) and disputes. On the same `Base` as every other row (`models.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.adapters.storage.models import Base


class StripeCustomerRow(Base):
    """The one Stripe customer of a bridge customer, and the card saved for it."""

    __tablename__ = "stripe_customers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    stripe_customer: Mapped[str] = mapped_column(String(255), unique=True)
    payment_method: Mapped[str | None] = mapped_column(String(255))
    card_brand: Mapped[str | None] = mapped_column(String(40))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    updated_at: Mapped[datetime]


class CardPaymentRow(Base):
    """One card payment per invoice: stored before Stripe is called, so a retry reuses it."""

    __tablename__ = "card_payments"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    off_session: Mapped[bool] = mapped_column(Boolean, default=False)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CardRefundRow(Base):
    """A refund to the card (ours or made in Stripe's dashboard), recorded once by its id."""

    __tablename__ = "card_refunds"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class CardRefundRequestRow(Base):
    """An operator's refund, stored before Stripe is asked for it: a retry after a crash asks
    Stripe for the refund made with its key (in the refund's metadata) instead of another."""

    __tablename__ = "card_refund_requests"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # pending | done | failed | abandoned
    refund_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DisputeRow(Base):
    """A dispute (chargeback) Stripe told us about, for the operator."""

    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    invoice_id: Mapped[str | None] = mapped_column(String(36))
    membership_id: Mapped[int | None] = mapped_column(Integer)
    charge_id: Mapped[str | None] = mapped_column(String(255))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(index=True)
