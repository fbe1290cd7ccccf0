"""The bridge's tables (SQLAlchemy 2, typed). Money is BigInteger minor units; instants aware UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bridge.adapters.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Customer(Base):
    """A WordPress user who owns sites (one network: user ids are unique)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    wp_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(32), default="en_US")
    created_at: Mapped[datetime]


class MembershipRow(Base):
    """A membership: every field of domain Membership; `version` is the optimistic lock."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    plan: Mapped[str] = mapped_column(String(100))
    billing: Mapped[Any] = mapped_column(JSON)  # {"every", "unit"} or "once"
    plan_price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), index=True)
    anchor: Mapped[datetime]
    period_start: Mapped[datetime]
    period_end: Mapped[datetime | None] = mapped_column(index=True)
    trial_end: Mapped[datetime | None]
    addons: Mapped[dict[str, Any]]  # {id: {"quantity", "price_minor"}}
    paid_value_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    setup_fee_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # The tax rate (canonical percent text, "25", "7.5") of the invoice that started the current
    # period; NULL: that period was paid without tax, so its credit carries none (§12).
    tax_rate_paid: Mapped[str | None] = mapped_column(String(16))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    scheduled_change: Mapped[dict[str, Any] | None]
    overrides: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # The services set the next version themselves (the domain bumps it on every change); the ORM
    # still adds "WHERE version = <old>" to every UPDATE and raises StaleDataError on 0 rows.
    __mapper_args__ = {  # noqa: RUF012
        "version_id_col": version,
        "version_id_generator": False,
    }


class SiteRow(Base):
    """A site of the network: its blog id is our id."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(500))
    owner_user_id: Mapped[int | None] = mapped_column(BigInteger)
    owner_email: Mapped[str | None] = mapped_column(String(320))
    owner_locale: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id"), index=True)
    usage: Mapped[dict[str, Any] | None]
    usage_reported_at: Mapped[datetime | None]
    overrides: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Counter(Base):
    """Named counters; `invoice_number` gives gapless sequential invoice numbers."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class InvoiceRow(Base):
    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))  # change | renewal | adjustment
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | paid | void | expired
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)  # the sum of the lines
    credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_applied_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_due_minor: Mapped[int] = mapped_column(BigInteger)
    balance_after_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    quote_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    # Renewals are made once per membership and period start: roll-over twice is a no-op.
    renewal_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Inputs to apply a change when it is paid later: the membership as quoted and the quote.
    apply: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    reference: Mapped[str | None] = mapped_column(String(200))
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    # The tax the invoice was made with (§12); all NULL for an invoice without tax. `tax_mode`
    # of stored invoices fixes the mode: start-up refuses a config.yaml that differs.
    tax_name: Mapped[str | None] = mapped_column(String(50))
    tax_rate: Mapped[str | None] = mapped_column(String(16))
    tax_mode: Mapped[str | None] = mapped_column(String(10), index=True)
    tax_minor: Mapped[int | None] = mapped_column(BigInteger)

    lines: Mapped[list[InvoiceLineRow]] = relationship(
        back_populates="invoice", order_by="InvoiceLineRow.position", cascade="all, delete-orphan"
    )


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]
    type: Mapped[str] = mapped_column(String(20))
    product: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int | None] = mapped_column(BigInteger)  # the line's own tax (§12)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    inputs: Mapped[dict[str, Any]]  # the formula's inputs, so support can explain the amount

    invoice: Mapped[InvoiceRow] = relationship(back_populates="lines")


class LedgerEntry(Base):
    """Every movement of a membership's balance (credit), with its reason and actor."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    kind: Mapped[str] = mapped_column(
        String(30)
    )  # credit | balance_applied | adjustment | refund ...
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # + adds to the balance, − takes from it
    currency: Mapped[str] = mapped_column(String(3))
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class QuoteRow(Base):
    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[int] = mapped_column(BigInteger, index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    version: Mapped[int]
    at: Mapped[datetime]
    expires_at: Mapped[datetime]
    selection: Mapped[dict[str, Any]]
    document: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(200))
    committed: Mapped[bool] = mapped_column(Boolean, default=False)
    committed_at: Mapped[datetime | None]
    # The catalog version the quote was priced on (None: quoted before catalogs were versioned).
    catalog_version: Mapped[int | None]


class LimitsDocumentRow(Base):
    """A site's limits document: the version wanted and the version the plugin acknowledged."""

    __tablename__ = "limits_documents"

    site_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    desired_version: Mapped[int] = mapped_column(Integer, default=0)
    applied_version: Mapped[int] = mapped_column(Integer, default=0)
    document: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_limits_documents_behind", "applied_version", "desired_version"),)


class DefaultLimitsRow(Base):
    """The network's default limits (the default plan's), one row."""

    __tablename__ = "default_limits"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    desired_version: Mapped[int] = mapped_column(Integer, default=0)
    applied_version: Mapped[int] = mapped_column(Integer, default=0)
    document: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class WebhookReceipt(Base):
    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to which target, for operator actions and owner changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200), index=True)
    details: Mapped[dict[str, Any]]
    at: Mapped[datetime]


class CheckoutTokenUse(Base):
    """Checkout token ids already used: each token is accepted once."""

    __tablename__ = "checkout_token_uses"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    exp: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime]


class CatalogVersionRow(Base):
    """One version of the catalog: the `catalog:` section as written, who made it, when, why.

    Versions are never changed or deleted; the current catalog is the highest id, and a revert
    is a new version holding an earlier one's document.
    """

    __tablename__ = "catalog_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(30))
    diff: Mapped[list[Any]]
    created_at: Mapped[datetime]


class ImportBatchRow(Base):
    """One run of an import from another system (e.g. Ultimate Multisite), with its report."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    network: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    catalog_before: Mapped[int | None]
    catalog_after: Mapped[int | None]
    report: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class ImportRecordRow(Base):
    """What an import wrote for one row of the source: the bridge's id and what was written, so a
    second run updates it (or sees the bridge changed it) and `--undo` can remove it."""

    __tablename__ = "import_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    last_batch_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[str] = mapped_column(String(100))
    bridge_id: Mapped[str] = mapped_column(String(100))
    written: Mapped[dict[str, Any]]
    written_version: Mapped[int | None]
    data: Mapped[dict[str, Any]]

    __table_args__ = (
        Index(
            "uq_import_records_source_kind_source_id", "source", "kind", "source_id", unique=True
        ),
    )


class ReceiptRow(Base):
    """A receipt or a credit note as issued: a snapshot, never changed or deleted (issue 17).

    No foreign keys on purpose: nothing the bridge deletes later may take a filed document along.
    Numbers are gapless per kind (`counters`: receipt_number, credit_note_number)."""

    __tablename__ = "receipts"
    __table_args__ = (Index("uq_receipts_kind_number", "kind", "number", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # receipt | credit_note
    number: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[str] = mapped_column(String(36), index=True)
    invoice_number: Mapped[int] = mapped_column(BigInteger)
    membership_id: Mapped[int] = mapped_column(BigInteger, index=True)
    site_id: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(index=True)
    lines: Mapped[list[Any]]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_name: Mapped[str | None] = mapped_column(String(50))
    tax_rate: Mapped[str | None] = mapped_column(String(16))
    tax_mode: Mapped[str | None] = mapped_column(String(10))
    tax_minor: Mapped[int | None] = mapped_column(BigInteger)
    balance_applied_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(200))
    seller: Mapped[dict[str, Any]]
    buyer: Mapped[dict[str, Any]]
    receipt_number: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)


class BillingDetailsRow(Base):
    """The buyer's name, address and optional tax number for a membership's receipts."""

    __tablename__ = "billing_details"

    membership_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text)
    tax_number: Mapped[str | None] = mapped_column(String(50))
    updated_at: Mapped[datetime]


__all__ = [
    "AuditEntry",
    "Base",
    "BillingDetailsRow",
    "CatalogVersionRow",
    "CheckoutTokenUse",
    "Counter",
    "Customer",
    "DefaultLimitsRow",
    "ImportBatchRow",
    "ImportRecordRow",
    "InvoiceLineRow",
    "InvoiceRow",
    "LedgerEntry",
    "LimitsDocumentRow",
    "MembershipRow",
    "QuoteRow",
    "ReceiptRow",
    "SiteRow",
    "WebhookReceipt",
]
