"""Receipts and credit notes (snapshots with gapless numbers per kind) and the buyer's details."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.models import BillingDetailsRow, Counter, ReceiptRow
from bridge.domain.documents import instant
from bridge.domain.quote import QuoteLine
from bridge.domain.receipt import Party, Receipt
from bridge.domain.tax import TAX_MODES, Tax, TaxTotal
from bridge.services.records import parse_instant

RECEIPTS = cast(Table, ReceiptRow.__table__)
DETAILS = cast(Table, BillingDetailsRow.__table__)
COUNTERS = cast(Table, Counter.__table__)
COUNTER_OF = {"receipt": "receipt_number", "credit_note": "credit_note_number"}


def _line_json(line: QuoteLine) -> dict[str, Any]:
    return {
        "type": line.type,
        "product": line.product,
        "description": line.description,
        "amount_minor": line.amount_minor,
        "tax_minor": line.tax_minor,
        "inputs": dict(line.inputs),
        "period_start": instant(line.period_start),
        "period_end": instant(line.period_end),
    }


def _line(raw: dict[str, Any]) -> QuoteLine:
    return QuoteLine(
        type=raw["type"],
        product=raw.get("product"),
        description=str(raw.get("description", "")),
        amount_minor=int(raw["amount_minor"]),
        inputs=raw.get("inputs") or {},
        period_start=parse_instant(raw["period_start"]) if raw.get("period_start") else None,
        period_end=parse_instant(raw["period_end"]) if raw.get("period_end") else None,
        tax_minor=None if raw.get("tax_minor") is None else int(raw["tax_minor"]),
    )


def _party(raw: dict[str, Any] | None) -> Party:
    raw = raw or {}
    return Party(
        str(raw.get("name") or ""),
        str(raw.get("address") or ""),
        raw.get("tax_number"),
        raw.get("email"),
    )


def _receipt(row: RowMapping) -> Receipt:
    tax = None
    if row["tax_name"] is not None and row["tax_mode"] in TAX_MODES:
        tax = TaxTotal(
            Tax(row["tax_name"], row["tax_rate"], row["tax_mode"]), row["tax_minor"] or 0
        )
    return Receipt(
        kind=row["kind"],
        number=row["number"],
        invoice_id=row["invoice_id"],
        invoice_number=row["invoice_number"],
        membership_id=row["membership_id"],
        site_id=row["site_id"],
        currency=row["currency"],
        issued_at=row["issued_at"],
        lines=tuple(_line(raw) for raw in row["lines"] or []),
        total_minor=row["total_minor"],
        tax=tax,
        balance_applied_minor=row["balance_applied_minor"],
        paid_minor=row["paid_minor"],
        reference=row["reference"],
        seller=_party(row["seller"]),
        buyer=_party(row["buyer"]),
        receipt_number=row["receipt_number"],
        reason=row["reason"],
    )


class SqlSalesReceipts:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def next_number(self, kind: str) -> int:
        """Gapless per kind: the counter row stays locked until the transaction ends."""
        value = self._s.execute(
            update(COUNTERS)
            .where(COUNTERS.c.name == COUNTER_OF[kind])
            .values(value=COUNTERS.c.value + 1)
            .returning(COUNTERS.c.value)
        ).scalar_one()
        return int(value)

    def add(self, receipt: Receipt) -> None:
        tax = receipt.tax
        self._s.execute(
            insert(RECEIPTS).values(
                kind=receipt.kind,
                number=receipt.number,
                invoice_id=receipt.invoice_id,
                invoice_number=receipt.invoice_number,
                membership_id=receipt.membership_id,
                site_id=receipt.site_id,
                currency=receipt.currency,
                issued_at=receipt.issued_at,
                lines=[_line_json(line) for line in receipt.lines],
                total_minor=receipt.total_minor,
                tax_name=None if tax is None else tax.tax.name,
                tax_rate=None if tax is None else tax.tax.rate,
                tax_mode=None if tax is None else tax.tax.mode,
                tax_minor=None if tax is None else tax.amount_minor,
                balance_applied_minor=receipt.balance_applied_minor,
                paid_minor=receipt.paid_minor,
                reference=receipt.reference,
                seller=receipt.seller.to_json(),
                buyer=receipt.buyer.to_json(),
                receipt_number=receipt.receipt_number,
                reason=receipt.reason,
            )
        )

    def get(self, kind: str, number: int) -> Receipt | None:
        row = (
            self._s.execute(
                select(RECEIPTS).where(RECEIPTS.c.kind == kind, RECEIPTS.c.number == number)
            )
            .mappings()
            .first()
        )
        return None if row is None else _receipt(row)

    def of_invoice(self, invoice_id: str) -> list[Receipt]:
        """The receipt of an invoice and its credit notes, in the order they were issued."""
        stmt = select(RECEIPTS).where(RECEIPTS.c.invoice_id == invoice_id).order_by(RECEIPTS.c.id)
        return [_receipt(r) for r in self._s.execute(stmt).mappings()]

    def of_membership(self, membership_id: int, limit: int | None = None) -> list[Receipt]:
        """Newest first; at most `limit` when given."""
        stmt = (
            select(RECEIPTS)
            .where(RECEIPTS.c.membership_id == membership_id)
            .order_by(RECEIPTS.c.id.desc())
            .limit(limit)
        )
        return [_receipt(r) for r in self._s.execute(stmt).mappings()]

    def issued_between(self, start: datetime, end: datetime) -> list[Receipt]:
        """Receipts and credit notes issued from `start` (inclusive) to `end` (exclusive)."""
        stmt = (
            select(RECEIPTS)
            .where(RECEIPTS.c.issued_at >= start, RECEIPTS.c.issued_at < end)
            .order_by(RECEIPTS.c.issued_at, RECEIPTS.c.id)
        )
        return [_receipt(r) for r in self._s.execute(stmt).mappings()]

    def buyer_of(self, membership_id: int) -> Party | None:
        row = (
            self._s.execute(select(DETAILS).where(DETAILS.c.membership_id == membership_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return Party(row["name"], row["address"], row["tax_number"])

    def set_buyer(self, membership_id: int, buyer: Party, at: datetime) -> None:
        values = {
            "name": buyer.name,
            "address": buyer.address,
            "tax_number": buyer.tax_number,
            "updated_at": at,
        }
        done = self._s.execute(
            update(DETAILS).where(DETAILS.c.membership_id == membership_id).values(**values)
        )
        if done.rowcount == 0:
            self._s.execute(insert(DETAILS).values(membership_id=membership_id, **values))

    def remove_buyer(self, membership_id: int) -> bool:
        done = self._s.execute(delete(DETAILS).where(DETAILS.c.membership_id == membership_id))
        return bool(done.rowcount)
