"""Receipts and credit notes (issue 17): issued when an invoice is paid, numbered without gaps,
never deleted; a refund of a payment makes a credit note that points to its receipt.

`issue_receipt` runs inside the transaction that marks an invoice paid (commit, payment,
renewal). `issue_credit_note` is the one function a refund calls, inside the refund's own
transaction (the operator's refund, or a gateway's refund event): it finds the invoice's receipt,
refuses more than is left to refund, and splits the amount into net and tax at the receipt's rate.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from bridge.domain.documents import instant, line_document, tax_document
from bridge.domain.invoice import Invoice
from bridge.domain.money import format_amount
from bridge.domain.receipt import (
    Party,
    Receipt,
    credit_note_for,
    receipt_for,
    refundable_minor,
)
from bridge.errors import InvalidRequest, NotFound, Unprocessable
from bridge.services.context import Actor, Context
from bridge.services.journal import audit
from bridge.services.limits import bump_membership_sites, live_site
from bridge.services.notices import note_receipt
from bridge.services.ports import UnitOfWork

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_BUYER_NAME = 200
MAX_BUYER_ADDRESS = 1000
MAX_TAX_NUMBER = 50


def issue_receipt(
    ctx: Context, uow: UnitOfWork, invoice: Invoice, *, bumped: bool = False
) -> Receipt | None:
    """The receipt of a paid invoice that adds up to more than zero, issued once; None for an
    invoice that takes none (not paid, or it only adds to the balance). `bumped`: the caller
    saved the membership (so bumped its sites' documents) in this same transaction, and that
    version's documents are rewritten to list the receipt (one version, one push); otherwise
    the sites get a new version."""
    for issued in uow.sales_receipts.of_invoice(invoice.id):
        if issued.kind == "receipt":
            return issued
    if invoice.status != "paid" or invoice.total_minor <= 0:
        return None
    buyer = uow.sales_receipts.buyer_of(invoice.membership_id) or Party()
    number = uow.sales_receipts.next_number("receipt")
    receipt = receipt_for(invoice, number, ctx.settings.seller, buyer, invoice.paid_at or ctx.now())
    assert receipt is not None
    uow.sales_receipts.add(receipt)
    note_receipt(ctx, uow, receipt)
    bump_membership_sites(ctx, uow, invoice.membership_id, same_version=bumped)
    return receipt


def issue_credit_note(
    ctx: Context,
    uow: UnitOfWork,
    invoice_id: str,
    amount_minor: int,
    reason: str,
    reference: str | None,
    actor: Actor,
) -> Receipt:
    """A numbered credit note for refunding `amount_minor` of the payment of `invoice_id`,
    pointing to its receipt; more than is left to refund is refused."""
    issued = uow.sales_receipts.of_invoice(invoice_id)
    receipt = next((r for r in issued if r.kind == "receipt"), None)
    if receipt is None:
        raise NotFound("This invoice has no receipt, so nothing of it can be refunded.")
    left = refundable_minor(receipt, [r for r in issued if r.kind == "credit_note"])
    if amount_minor <= 0 or amount_minor > left:
        raise Unprocessable(
            f"A refund of receipt {receipt.number} must be more than zero and at most "
            f"{format_amount(left, receipt.currency)} {receipt.currency}.",
            "refund_too_large",
        )
    number = uow.sales_receipts.next_number("credit_note")
    note = credit_note_for(receipt, number, amount_minor, ctx.now(), reason, reference)
    uow.sales_receipts.add(note)
    note_receipt(ctx, uow, note)
    bump_membership_sites(ctx, uow, receipt.membership_id)
    audit(
        ctx,
        uow,
        actor,
        "credit_note.issue",
        f"invoice:{invoice_id}",
        {"credit_note": number, "receipt": receipt.number, "amount_minor": amount_minor},
    )
    return note


def credit_card_refund(
    ctx: Context,
    uow: UnitOfWork,
    invoice_id: str,
    amount_minor: int,
    refund_id: str,
    actor: Actor,
) -> Receipt | None:
    """A refund made on the card (ours or in Stripe's dashboard) gets its credit note, for at
    most what is left of the receipt; None when the invoice has no receipt (paid before
    receipts existed) or nothing is left to credit."""
    issued = uow.sales_receipts.of_invoice(invoice_id)
    receipt = next((r for r in issued if r.kind == "receipt"), None)
    if receipt is None:
        return None
    left = refundable_minor(receipt, [r for r in issued if r.kind == "credit_note"])
    amount = min(amount_minor, left)
    if amount <= 0:
        return None
    reason = "Refunded to the card"
    return issue_credit_note(ctx, uow, invoice_id, amount, reason, refund_id, actor)


def refund_invoice(
    ctx: Context,
    invoice_id: str,
    amount_minor: int,
    reason: str,
    reference: str | None,
    actor: Actor,
) -> Receipt:
    """Record that `amount_minor` of an invoice's payment was paid back: its credit note."""
    with ctx.uow() as uow:
        note = issue_credit_note(ctx, uow, invoice_id, amount_minor, reason, reference, actor)
        uow.commit()
    return note


def set_buyer(ctx: Context, membership_id: int, buyer: Party) -> Party:
    """The buyer printed on the membership's next receipts (asked once, editable)."""
    name, address = buyer.name.strip(), buyer.address.strip()
    tax_number = (buyer.tax_number or "").strip() or None
    if not name or len(name) > MAX_BUYER_NAME:
        raise InvalidRequest(f"name: give a name of 1 to {MAX_BUYER_NAME} characters.")
    if len(address) > MAX_BUYER_ADDRESS:
        raise InvalidRequest(f"address: at most {MAX_BUYER_ADDRESS} characters.")
    if tax_number is not None and len(tax_number) > MAX_TAX_NUMBER:
        raise InvalidRequest(f"tax_number: at most {MAX_TAX_NUMBER} characters.")
    cleaned = Party(name, address, tax_number)
    with ctx.uow() as uow:
        uow.sales_receipts.set_buyer(membership_id, cleaned, ctx.now())
        uow.commit()
    return cleaned


def buyer_of_site(ctx: Context, site_id: int) -> Party | None:
    """The buyer details of the membership of a live site (None: not given yet)."""
    with ctx.uow() as uow:
        membership_id = live_site(uow, site_id).membership_id
        return None if membership_id is None else uow.sales_receipts.buyer_of(membership_id)


def set_buyer_of_site(ctx: Context, site_id: int, buyer: Party) -> Party:
    """The owner gives (or edits) the buyer details of their site's membership."""
    with ctx.uow() as uow:
        membership_id = live_site(uow, site_id).membership_id
    if membership_id is None:
        raise NotFound(f"Site {site_id} has no membership yet.")
    return set_buyer(ctx, membership_id, buyer)


def receipts_between(ctx: Context, start: datetime, end: datetime) -> list[Receipt]:
    """Receipts and credit notes issued in [start, end), oldest first."""
    with ctx.uow() as uow:
        return uow.sales_receipts.issued_between(start, end)


def receipts_of_membership(ctx: Context, membership_id: int) -> list[Receipt]:
    """A membership's receipts and credit notes, newest first."""
    with ctx.uow() as uow:
        return uow.sales_receipts.of_membership(membership_id)


def find_receipt(ctx: Context, kind: str, number: int) -> Receipt:
    with ctx.uow() as uow:
        found = uow.sales_receipts.get(kind, number)
    if found is None:
        raise NotFound(f"There is no {kind.replace('_', ' ')} {number}.")
    return found


def receipt_of_site(
    ctx: Context, site_id: int, kind: str, number: int
) -> tuple[Receipt, str | None]:
    """A receipt (or credit note) of the membership `site_id` belongs to, with the site's
    timezone; NotFound for anyone else's (the owner's receipt token names both)."""
    with ctx.uow() as uow:
        site = uow.sites.get(site_id)
        found = uow.sales_receipts.get(kind, number)
    if site is None or found is None or site.membership_id != found.membership_id:
        raise NotFound("There is no such receipt for this site.")
    return found, site.timezone


def receipt_view(r: Receipt) -> dict[str, Any]:
    """A receipt or credit note as the JSON API serves it (amounts as decimal strings)."""
    c = r.currency
    return {
        "kind": r.kind,
        "number": r.number,
        "issued_at": instant(r.issued_at),
        "invoice_id": r.invoice_id,
        "invoice_number": r.invoice_number,
        "receipt_number": r.receipt_number,
        "membership_id": r.membership_id,
        "site_id": r.site_id,
        "currency": c,
        "lines": [line_document(line, c) for line in r.lines],
        "net": format_amount(r.net_minor, c),
        "tax": tax_document(r.tax, c),
        "total": format_amount(r.total_minor, c),
        "balance_applied": format_amount(r.balance_applied_minor, c),
        "paid": format_amount(r.paid_minor, c),
        "paid_from_balance": r.paid_from_balance,
        "reference": r.reference,
        "reason": r.reason,
        "seller": r.seller.to_json(),
        "buyer": r.buyer.to_json(),
    }


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CSV_COLUMNS = (
    "kind",
    "number",
    "issued_at",
    "invoice_number",
    "receipt_number",
    "membership_id",
    "site_id",
    "buyer_name",
    "buyer_tax_number",
    "currency",
    "net",
    "tax",
    "total",
    "tax_name",
    "tax_rate",
    "tax_mode",
    "paid",
    "paid_from_balance",
    "reference",
    "reason",
)


def receipts_csv(receipts: list[Receipt]) -> str:
    """The period's receipts and credit notes for an accountant, one row each (amounts as
    decimal strings; a credit note's amounts are what was paid back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in receipts:
        c = r.currency
        tax = r.tax.tax if r.tax is not None else None
        writer.writerow(
            _cell(value)
            for value in (
                r.kind,
                r.number,
                r.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                r.invoice_number,
                r.receipt_number,
                r.membership_id,
                r.site_id,
                r.buyer.name,
                r.buyer.tax_number,
                c,
                format_amount(r.net_minor, c),
                format_amount(r.tax_minor, c),
                format_amount(r.total_minor, c),
                tax.name if tax else None,
                tax.rate if tax else None,
                tax.mode if tax else None,
                format_amount(r.paid_minor, c),
                format_amount(r.balance_applied_minor, c),
                r.reference,
                r.reason,
            )
        )
    return out.getvalue()
