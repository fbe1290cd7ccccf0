"""Card payments on SQLAlchemy Core: Stripe customers, one payment per invoice, refunds, disputes."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.card_models import (
    CardPaymentRow,
    CardRefundRequestRow,
    CardRefundRow,
    DisputeRow,
    StripeCustomerRow,
)
from bridge.adapters.storage.models import (
    InvoiceRow,
    MembershipRow,
)
from bridge.services.card_ports import (
    CardCustomer,
    CardPayment,
    DisputeRecord,
    RefundRequest,
    SavedCard,
)

CUSTOMERS = cast(Table, StripeCustomerRow.__table__)
PAYMENTS = cast(Table, CardPaymentRow.__table__)
REFUNDS = cast(Table, CardRefundRow.__table__)
REFUND_REQUESTS = cast(Table, CardRefundRequestRow.__table__)
DISPUTES = cast(Table, DisputeRow.__table__)
INVOICES = cast(Table, InvoiceRow.__table__)
MEMBERSHIPS = cast(Table, MembershipRow.__table__)

_SETTLED = ("succeeded", "canceled")


def _payment(row: RowMapping) -> CardPayment:
    return CardPayment(
        invoice_id=row["invoice_id"],
        attempt=row["attempt"],
        intent_id=row["intent_id"],
        status=row["status"],
        last_error=row["last_error"],
        off_session=bool(row["off_session"]),
        retries=row["retries"],
        next_retry_at=row["next_retry_at"],
        updated_at=row["updated_at"],
    )


class SqlCards:
    """The invoice's row is the lock of its payment: every write of a payment (and a locked read)
    first locks the invoice, as the use cases do, so two transactions always take the two rows in
    the same order (PostgreSQL would otherwise find a deadlock: an update's foreign-key check
    waits for the invoice another transaction holds while it waits for the payment)."""

    def __init__(self, session: Connection) -> None:
        self._s = session

    def _lock_invoice(self, invoice_id: str) -> None:
        self._s.execute(select(INVOICES.c.id).where(INVOICES.c.id == invoice_id).with_for_update())

    def customer_id_of(self, membership_id: int) -> int | None:
        found = self._s.execute(
            select(MEMBERSHIPS.c.customer_id).where(MEMBERSHIPS.c.id == membership_id)
        ).scalar()
        return int(found) if found is not None else None

    def customer(self, customer_id: int) -> CardCustomer | None:
        row = (
            self._s.execute(select(CUSTOMERS).where(CUSTOMERS.c.customer_id == customer_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        card = (
            SavedCard(row["payment_method"], row["card_brand"], row["card_last4"])
            if row["payment_method"]
            else None
        )
        return CardCustomer(customer_id, row["stripe_customer"], card)

    def add_customer(self, customer_id: int, stripe_customer: str, at: datetime) -> None:
        self._s.execute(
            insert(CUSTOMERS).values(
                customer_id=customer_id, stripe_customer=stripe_customer, updated_at=at
            )
        )

    def save_card(self, customer_id: int, card: SavedCard, at: datetime) -> None:
        self._s.execute(
            update(CUSTOMERS)
            .where(CUSTOMERS.c.customer_id == customer_id)
            .values(
                payment_method=card.payment_method_id,
                card_brand=card.brand,
                card_last4=card.last4,
                updated_at=at,
            )
        )

    def payment(self, invoice_id: str, *, lock: bool = False) -> CardPayment | None:
        stmt = select(PAYMENTS).where(PAYMENTS.c.invoice_id == invoice_id)
        if lock:
            self._lock_invoice(invoice_id)
            stmt = stmt.with_for_update()
        row = self._s.execute(stmt).mappings().first()
        return _payment(row) if row is not None else None

    def start_payment(self, invoice_id: str, off_session: bool, at: datetime) -> CardPayment:
        found = self.payment(invoice_id, lock=True)
        if found is None:
            self._s.execute(
                insert(PAYMENTS).values(
                    invoice_id=invoice_id,
                    attempt=1,
                    intent_id=None,
                    status="creating",
                    off_session=off_session,
                    retries=0,
                    created_at=at,
                    updated_at=at,
                )
            )
        else:
            self._s.execute(
                update(PAYMENTS)
                .where(PAYMENTS.c.invoice_id == invoice_id)
                .values(
                    attempt=found.attempt + 1,
                    intent_id=None,
                    status="creating",
                    off_session=off_session,
                    updated_at=at,
                )
            )
        started = self.payment(invoice_id)
        assert started is not None
        return started

    def set_intent(self, invoice_id: str, intent_id: str, at: datetime) -> None:
        self._lock_invoice(invoice_id)
        self._s.execute(
            update(PAYMENTS)
            .where(PAYMENTS.c.invoice_id == invoice_id)
            .values(intent_id=intent_id, updated_at=at)
        )

    def set_outcome(
        self,
        invoice_id: str,
        status: str,
        error: str | None,
        at: datetime,
        next_retry_at: datetime | None = None,
        retries: int | None = None,
    ) -> None:
        values: dict[str, object] = {
            "status": status,
            "last_error": error,
            "updated_at": at,
            "next_retry_at": next_retry_at,
        }
        if retries is not None:
            values["retries"] = retries
        self._lock_invoice(invoice_id)
        self._s.execute(
            update(PAYMENTS).where(PAYMENTS.c.invoice_id == invoice_id).values(**values)
        )

    def invoice_of_intent(self, intent_id: str) -> str | None:
        found = self._s.execute(
            select(PAYMENTS.c.invoice_id).where(PAYMENTS.c.intent_id == intent_id)
        ).scalar()
        return str(found) if found is not None else None

    def renewals_due(self, at: datetime, stale_before: datetime) -> list[tuple[str, int, datetime]]:
        stmt = (
            select(INVOICES.c.id, PAYMENTS.c.retries, INVOICES.c.created_at)
            .select_from(INVOICES.outerjoin(PAYMENTS, PAYMENTS.c.invoice_id == INVOICES.c.id))
            .where(
                INVOICES.c.status == "open",
                INVOICES.c.kind == "renewal",
                or_(
                    PAYMENTS.c.invoice_id.is_(None),
                    and_(PAYMENTS.c.status == "failed", PAYMENTS.c.next_retry_at <= at),
                    and_(
                        PAYMENTS.c.status.in_(("creating", "created")),
                        PAYMENTS.c.updated_at <= stale_before,
                    ),
                ),
            )
            .order_by(INVOICES.c.number)
        )
        return [(str(r[0]), int(r[1] or 0), r[2]) for r in self._s.execute(stmt)]

    def _joined(self, invoice_statuses: tuple[str, ...], alive: bool) -> list[CardPayment]:
        stmt = (
            select(PAYMENTS)
            .join(INVOICES, INVOICES.c.id == PAYMENTS.c.invoice_id)
            .where(PAYMENTS.c.intent_id.is_not(None), INVOICES.c.status.in_(invoice_statuses))
            .order_by(PAYMENTS.c.created_at)
        )
        if alive:
            stmt = stmt.where(PAYMENTS.c.status.not_in(_SETTLED))
        return [_payment(row) for row in self._s.execute(stmt).mappings()]

    def with_intent(self, invoice_statuses: tuple[str, ...]) -> list[CardPayment]:
        return self._joined(invoice_statuses, alive=False)

    def unsettled(self, invoice_statuses: tuple[str, ...]) -> list[CardPayment]:
        return self._joined(invoice_statuses, alive=True)

    def add_refund(self, refund_id: str, invoice_id: str, amount_minor: int, at: datetime) -> bool:
        known = self._s.execute(select(REFUNDS.c.id).where(REFUNDS.c.id == refund_id)).first()
        if known is not None:
            return False
        self._s.execute(
            insert(REFUNDS).values(
                id=refund_id, invoice_id=invoice_id, amount_minor=amount_minor, created_at=at
            )
        )
        return True

    def refunded_minor(self, invoice_id: str) -> int:
        total = self._s.execute(
            select(func.coalesce(func.sum(REFUNDS.c.amount_minor), 0)).where(
                REFUNDS.c.invoice_id == invoice_id
            )
        ).scalar()
        return int(total or 0)

    def start_refund(self, key: str, invoice_id: str, amount_minor: int, at: datetime) -> None:
        self._s.execute(
            insert(REFUND_REQUESTS).values(
                key=key,
                invoice_id=invoice_id,
                amount_minor=amount_minor,
                status="pending",
                refund_id=None,
                created_at=at,
                updated_at=at,
            )
        )

    def pending_refund(self, invoice_id: str) -> RefundRequest | None:
        row = (
            self._s.execute(
                select(REFUND_REQUESTS)
                .where(
                    REFUND_REQUESTS.c.invoice_id == invoice_id,
                    REFUND_REQUESTS.c.status == "pending",
                )
                .order_by(REFUND_REQUESTS.c.created_at)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return RefundRequest(
            key=row["key"],
            invoice_id=row["invoice_id"],
            amount_minor=row["amount_minor"],
            status=row["status"],
            refund_id=row["refund_id"],
            created_at=row["created_at"],
        )

    def finish_refund(self, key: str, status: str, refund_id: str | None, at: datetime) -> None:
        self._s.execute(
            update(REFUND_REQUESTS)
            .where(REFUND_REQUESTS.c.key == key)
            .values(status=status, refund_id=refund_id, updated_at=at)
        )

    def add_dispute(self, dispute: DisputeRecord) -> bool:
        known = self._s.execute(select(DISPUTES.c.id).where(DISPUTES.c.id == dispute.id)).first()
        if known is not None:
            return False
        self._s.execute(
            insert(DISPUTES).values(
                id=dispute.id,
                invoice_id=dispute.invoice_id,
                membership_id=dispute.membership_id,
                charge_id=dispute.charge_id,
                amount_minor=dispute.amount_minor,
                currency=dispute.currency,
                reason=dispute.reason,
                status=dispute.status,
                created_at=dispute.created_at,
            )
        )
        return True

    def disputes(self, offset: int, limit: int) -> tuple[list[DisputeRecord], int]:
        total = int(self._s.execute(select(func.count()).select_from(DISPUTES)).scalar() or 0)
        rows = self._s.execute(
            select(DISPUTES)
            .order_by(DISPUTES.c.created_at.desc(), DISPUTES.c.id)
            .offset(offset)
            .limit(limit)
        ).mappings()
        return [
            DisputeRecord(
                id=r["id"],
                invoice_id=r["invoice_id"],
                membership_id=r["membership_id"],
                charge_id=r["charge_id"],
                amount_minor=r["amount_minor"],
                currency=r["currency"],
                reason=r["reason"],
                status=r["status"],
                created_at=r["created_at"],
            )
            for r in rows
        ], total
