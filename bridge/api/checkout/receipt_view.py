"""A receipt or credit note in the reader's words: lines, tax, totals and the payment.

Shared by the owner's receipt page (opened with a receipt token from the Account page) and the
operator's console, so both show the same document. Product names come in the reader's language
where the catalog has them; the amounts and the tax are the issued snapshot's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.api.checkout.i18n import Habits
from bridge.domain.money import format_amount
from bridge.domain.receipt import Receipt


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    detail: str
    amount: str
    tax: str | None


@dataclass(frozen=True)
class ReceiptPage:
    title: str
    issued: str
    about: str  # "For invoice 12" or "Refund of receipt 3"
    seller: Mapping[str, str | None]
    buyer: Mapping[str, str | None]
    lines: tuple[ReceiptLine, ...]
    has_tax: bool
    net: str
    tax_label: str | None
    tax: str | None
    total: str
    from_balance: str | None
    paid: str | None
    paid_in_full_from_balance: bool
    reference: str | None
    reason: str | None
    credit_note: bool


def _money(h: Habits, minor: int, currency: str) -> str:
    return h.money(format_amount(minor, currency), currency)


def receipt_page(h: Habits, receipt: Receipt, names: Mapping[str, str]) -> ReceiptPage:
    """The document as the reader `h` reads it."""
    c = receipt.currency
    tax = receipt.tax.tax if receipt.tax is not None else None
    tax_label = h.tax_label(tax.to_json()) if tax is not None else None
    lines = []
    for line in receipt.lines:
        product = names.get(line.product or "", line.product or "")
        if line.type == "tax":
            label = tax_label or line.description
        elif line.type == "credit" and receipt.kind == "credit_note":
            label = h.gettext("Refund of receipt %(number)s") % {"number": receipt.receipt_number}
        elif line.type == "credit":
            label = h.gettext("Credit for unused time")
        elif line.type == "setup_fee":
            label = h.gettext("Setup fee for %(plan)s") % {"plan": product}
        elif line.product:
            quantity = int(line.inputs.get("quantity", 1) or 1)
            label = product if quantity == 1 else f"{product} × {h.number(quantity)}"
        else:
            label = line.description
        detail = ""
        if line.period_start is not None and line.period_end is not None:
            detail = h.gettext("%(start)s to %(end)s") % {
                "start": h.date(line.period_start),
                "end": h.date(line.period_end),
            }
        lines.append(
            ReceiptLine(
                label,
                detail,
                _money(h, line.amount_minor, c),
                None if line.tax_minor is None else _money(h, line.tax_minor, c),
            )
        )
    note = receipt.kind == "credit_note"
    number = {"number": receipt.number}
    return ReceiptPage(
        title=(h.gettext("Credit note %(number)s") if note else h.gettext("Receipt %(number)s"))
        % number,
        issued=h.gettext("Issued on %(date)s") % {"date": h.date(receipt.issued_at)},
        about=(
            h.gettext("Refund of receipt %(number)s") % {"number": receipt.receipt_number}
            if note
            else h.gettext("For invoice %(number)s") % {"number": receipt.invoice_number}
        ),
        seller=receipt.seller.to_json(),
        buyer=receipt.buyer.to_json(),
        lines=tuple(lines),
        has_tax=tax is not None,
        net=_money(h, receipt.net_minor, c),
        tax_label=tax_label,
        tax=None if tax is None else _money(h, receipt.tax_minor, c),
        total=_money(h, receipt.total_minor, c),
        from_balance=(
            _money(h, receipt.balance_applied_minor, c)
            if receipt.balance_applied_minor > 0
            else None
        ),
        paid=_money(h, receipt.paid_minor, c) if receipt.paid_minor > 0 else None,
        paid_in_full_from_balance=receipt.paid_from_balance,
        reference=receipt.reference if receipt.paid_minor > 0 else None,
        reason=receipt.reason,
        credit_note=note,
    )
