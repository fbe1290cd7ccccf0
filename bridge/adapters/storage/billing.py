"""Repositories for invoices (with their lines and gapless numbers), the ledger and the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.models import (
    AuditEntry,
    Counter,
    InvoiceLineRow,
    InvoiceRow,
    LedgerEntry,
)
from bridge.domain.invoice import Invoice
from bridge.domain.quote import QuoteLine
from bridge.errors import NotFound
from bridge.services.ports import LedgerRecord, NewInvoice

INVOICES = cast(Table, InvoiceRow.__table__)
LINES = cast(Table, InvoiceLineRow.__table__)
COUNTERS = cast(Table, Counter.__table__)
LEDGER = cast(Table, LedgerEntry.__table__)
AUDIT = cast(Table, AuditEntry.__table__)


def _line(row: RowMapping) -> QuoteLine:
    return QuoteLine(
        type=row["type"],
        product=row["product"],
        description=row["description"],
        amount_minor=row["amount_minor"],
        inputs=row["inputs"] or {},
        period_start=row["period_start"],
        period_end=row["period_end"],
        tax_minor=row["tax_minor"],
    )


class SqlInvoices:
    def __init__(self, session: Connection) -> None:
        self._s = session
        self._known: dict[str, Invoice] = {}  # invoices this transaction added

    def _invoices(self, rows: list[RowMapping]) -> list[Invoice]:
        ids = [r["id"] for r in rows]
        lines: dict[str, list[QuoteLine]] = {i: [] for i in ids}
        if ids:
            for line in self._s.execute(
                select(LINES)
                .where(LINES.c.invoice_id.in_(ids))
                .order_by(LINES.c.invoice_id, LINES.c.position)
            ).mappings():
                lines[line["invoice_id"]].append(_line(line))
        # The columns are the Invoice's fields, name for name (`add` writes them the same way).
        names = [f.name for f in fields(Invoice) if f.name != "lines"]
        return [
            Invoice(**{name: r[name] for name in names}, lines=tuple(lines[r["id"]])) for r in rows
        ]

    def from_rows(self, rows: list[RowMapping]) -> list[Invoice]:
        """Invoices (with their lines) of rows of the invoices table."""
        return self._invoices(rows)

    def _next_number(self) -> int:
        """Gapless numbers: the counter row stays locked until the invoice's transaction ends."""
        value = self._s.execute(
            update(COUNTERS)
            .where(COUNTERS.c.name == "invoice_number")
            .values(value=COUNTERS.c.value + 1)
            .returning(COUNTERS.c.value)
        ).scalar_one()
        return int(value)

    def add(self, new: NewInvoice) -> Invoice:
        invoice_id = str(uuid.uuid4())
        t = new.totals
        # Built first, written as built, and returned without reading it back (a commit's hot
        # path): the invoice is exactly what was stored.
        invoice = Invoice(
            id=invoice_id,
            number=self._next_number(),
            membership_id=new.membership_id,
            site_id=new.site_id,
            kind=new.kind,
            status="open",
            currency=new.currency,
            total_minor=sum(line.amount_minor for line in new.lines),
            credit_minor=t.credit_minor,
            balance_applied_minor=t.balance_applied_minor,
            amount_due_minor=t.due_now_minor,
            balance_after_minor=t.balance_after_minor,
            lines=tuple(new.lines),
            created_at=new.created_at,
            quote_id=new.quote_id,
            renewal_key=new.renewal_key,
            apply=None if new.apply is None else dict(new.apply),
            expires_at=new.expires_at,
            tax_name=None if new.tax is None else new.tax.tax.name,
            tax_rate=None if new.tax is None else new.tax.tax.rate,
            tax_mode=None if new.tax is None else new.tax.tax.mode,
            tax_minor=None if new.tax is None else new.tax.amount_minor,
        )
        columns = {f.name: getattr(invoice, f.name) for f in fields(Invoice) if f.name != "lines"}
        self._s.execute(insert(INVOICES).values(**columns))
        if new.lines:
            self._s.execute(
                insert(LINES),
                [
                    {
                        "invoice_id": invoice_id,
                        "position": position,
                        "type": line.type,
                        "product": line.product,
                        "description": line.description,
                        "amount_minor": line.amount_minor,
                        "tax_minor": line.tax_minor,
                        "period_start": line.period_start,
                        "period_end": line.period_end,
                        "inputs": dict(line.inputs),
                    }
                    for position, line in enumerate(new.lines)
                ],
            )
        self._known[invoice_id] = invoice
        return invoice

    def tax_modes(self) -> set[str]:
        """The tax modes stored invoices were made with (none, one, or, wrongly, both)."""
        stmt = select(INVOICES.c.tax_mode).where(INVOICES.c.tax_mode.is_not(None)).distinct()
        return {str(mode) for mode in self._s.execute(stmt).scalars()}

    def _must(self, invoice_id: str) -> Invoice:
        invoice = self.get(invoice_id)
        if invoice is None:
            raise NotFound("There is no such invoice.", "invoice_not_found")
        return invoice

    def get(self, invoice_id: str, *, lock: bool = False) -> Invoice | None:
        stmt = select(INVOICES).where(INVOICES.c.id == str(invoice_id))
        if lock:
            stmt = stmt.with_for_update()
        rows = list(self._s.execute(stmt).mappings())
        return self._invoices(rows)[0] if rows else None

    def of_quote(self, quote_id: str) -> Invoice | None:
        rows = list(
            self._s.execute(select(INVOICES).where(INVOICES.c.quote_id == quote_id)).mappings()
        )
        return self._invoices(rows)[0] if rows else None

    def open_of(self, membership_id: int, kind: str | None = None) -> list[Invoice]:
        stmt = select(INVOICES).where(
            INVOICES.c.membership_id == membership_id, INVOICES.c.status == "open"
        )
        if kind is not None:
            stmt = stmt.where(INVOICES.c.kind == kind)
        return self._invoices(list(self._s.execute(stmt.order_by(INVOICES.c.number)).mappings()))

    def _set(self, invoice_id: str, **values: Any) -> None:
        self._known.pop(invoice_id, None)  # changed: read it from the database from now on
        self._s.execute(update(INVOICES).where(INVOICES.c.id == invoice_id).values(**values))

    def close(self, invoice_id: str, status: str, reason: str) -> None:
        self._set(invoice_id, status=status, closed_reason=reason)

    def close_open(
        self, membership_id: int, status: str, reason: str, kind: str | None = None
    ) -> int:
        stmt = (
            update(INVOICES)
            .where(INVOICES.c.membership_id == membership_id, INVOICES.c.status == "open")
            .values(status=status, closed_reason=reason)
        )
        if kind is not None:
            stmt = stmt.where(INVOICES.c.kind == kind)
        self._known.clear()
        return int(self._s.execute(stmt).rowcount)

    def mark_paid(
        self, invoice_id: str, at: datetime, reference: str | None, note: str | None = None
    ) -> Invoice:
        values: dict[str, Any] = {"status": "paid", "paid_at": at, "reference": reference}
        if note is not None:
            values["closed_reason"] = note[:200]
        known = self._known.get(invoice_id)
        self._set(invoice_id, **values)
        if known is not None:  # added in this transaction: no need to read it back
            paid = replace(
                known,
                status="paid",
                paid_at=at,
                reference=reference,
                closed_reason=values.get("closed_reason", known.closed_reason),
            )
            self._known[invoice_id] = paid
            return paid
        return self._must(invoice_id)

    def expire_due(self, at: datetime) -> int:
        """Unpaid change invoices past their expiry become `expired` (one set-based UPDATE)."""
        self._known.clear()
        result = self._s.execute(
            update(INVOICES)
            .where(
                INVOICES.c.status == "open",
                INVOICES.c.kind == "change",
                INVOICES.c.expires_at <= at,
            )
            .values(status="expired", closed_reason="not paid in time")
        )
        return int(result.rowcount)

    def of_membership(self, membership_id: int) -> list[Invoice]:
        stmt = (
            select(INVOICES)
            .where(INVOICES.c.membership_id == membership_id)
            .order_by(INVOICES.c.number)
        )
        return self._invoices(list(self._s.execute(stmt).mappings()))

    def listing(self, status: str | None) -> list[Invoice]:
        stmt = select(INVOICES).order_by(INVOICES.c.number.desc())
        if status is not None:
            stmt = stmt.where(INVOICES.c.status == status)
        return self._invoices(list(self._s.execute(stmt).mappings()))


def ledger_record(row: RowMapping) -> LedgerRecord:
    return LedgerRecord(
        id=row["id"],
        kind=row["kind"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        balance_after_minor=row["balance_after_minor"],
        invoice_id=row["invoice_id"],
        reason=row["reason"],
        actor=row["actor"],
        at=row["at"],
    )


class SqlLedger:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def add(
        self,
        membership_id: int,
        kind: str,
        amount_minor: int,
        currency: str,
        balance_after_minor: int,
        reason: str,
        actor: str,
        at: datetime,
        invoice_id: str | None = None,
    ) -> LedgerRecord:
        result = self._s.execute(
            insert(LEDGER)
            .values(
                membership_id=membership_id,
                kind=kind,
                amount_minor=amount_minor,
                currency=currency,
                balance_after_minor=balance_after_minor,
                invoice_id=invoice_id,
                reason=reason,
                actor=actor,
                at=at,
            )
            .returning(LEDGER)
        )
        return ledger_record(result.mappings().one())

    def of_membership(self, membership_id: int) -> list[LedgerRecord]:
        rows = self._s.execute(
            select(LEDGER).where(LEDGER.c.membership_id == membership_id).order_by(LEDGER.c.id)
        ).mappings()
        return [ledger_record(r) for r in rows]


class SqlAudit:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def add(
        self, actor: str, action: str, target: str, details: Mapping[str, Any], at: datetime
    ) -> None:
        self._s.execute(
            insert(AUDIT).values(
                actor=actor, action=action, target=target, details=dict(details), at=at
            )
        )
