"""Receipts and credit notes: what an owner keeps and an accountant files (issue 17).

A paid invoice whose lines add up to more than zero gets a receipt with its own gapless number (a
change that only adds to the balance gets none); a refund of a receipt's payment gets a credit
note with a number of its own series that points to the receipt. Both are snapshots: their lines,
seller and buyer are copied in, so nothing changed later (or deleted) alters a filed document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bridge.domain.invoice import Invoice
from bridge.domain.quote import QuoteLine
from bridge.domain.tax import Tax, TaxTotal, line_tax

ReceiptKind = Literal["receipt", "credit_note"]


@dataclass(frozen=True)
class Party:
    """Seller or buyer as printed: name, postal address, optional tax number."""

    name: str = ""
    address: str = ""
    tax_number: str | None = None
    email: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "address": self.address,
            "tax_number": self.tax_number,
            "email": self.email,
        }


@dataclass(frozen=True)
class Receipt:
    """A receipt (kind `receipt`) or a credit note (kind `credit_note`), as issued."""

    kind: ReceiptKind
    number: int
    invoice_id: str
    invoice_number: int
    membership_id: int
    site_id: int | None
    currency: str
    issued_at: datetime
    lines: tuple[QuoteLine, ...]
    total_minor: int  # gross; a credit note's is the refunded amount, positive
    tax: TaxTotal | None  # the tax inside `total_minor`; None: issued without tax
    balance_applied_minor: int  # paid from the credit balance
    paid_minor: int  # paid with money (the payment and its reference)
    reference: str | None
    seller: Party
    buyer: Party
    receipt_number: int | None = None  # a credit note's receipt
    reason: str | None = None

    @property
    def tax_minor(self) -> int:
        return 0 if self.tax is None else self.tax.amount_minor

    @property
    def net_minor(self) -> int:
        """The total without its tax."""
        return self.total_minor - self.tax_minor

    @property
    def paid_from_balance(self) -> bool:
        """Paid in full from the credit balance: the receipt says so."""
        return self.paid_minor == 0 and self.balance_applied_minor > 0


def receipt_for(
    invoice: Invoice, number: int, seller: Party, buyer: Party, at: datetime
) -> Receipt | None:
    """The receipt of a paid invoice adding up to more than zero; None for any other invoice
    (open, void, expired, or one that only adds to the balance)."""
    if invoice.status != "paid" or invoice.total_minor <= 0:
        return None
    return Receipt(
        kind="receipt",
        number=number,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        membership_id=invoice.membership_id,
        site_id=invoice.site_id,
        currency=invoice.currency,
        issued_at=at,
        lines=invoice.lines,
        total_minor=invoice.total_minor,
        tax=invoice.tax,
        balance_applied_minor=invoice.balance_applied_minor,
        paid_minor=invoice.amount_due_minor,
        reference=invoice.reference,
        seller=seller,
        buyer=buyer,
    )


def refund_tax(amount_minor: int, tax: Tax | None) -> int:
    """The tax inside a refunded amount of money, at the receipt's rate, rounded once: a refund
    is gross money in either mode, so its tax is `amount × rate / (100 + rate)`."""
    if tax is None:
        return 0
    return line_tax(amount_minor, tax.rate, "inclusive")


def refundable_minor(receipt: Receipt, credit_notes: list[Receipt]) -> int:
    """What is left to refund of a receipt's total after its earlier credit notes."""
    return receipt.total_minor - sum(note.total_minor for note in credit_notes)


def credit_note_for(
    receipt: Receipt,
    number: int,
    amount_minor: int,
    at: datetime,
    reason: str,
    reference: str | None,
) -> Receipt:
    """A numbered credit note for refunding `amount_minor` of `receipt`, split into net and tax
    at the receipt's rate (one line, rounded once)."""
    if receipt.kind != "receipt":
        raise ValueError("a credit note points to a receipt")
    if amount_minor <= 0:
        raise ValueError("a refund is more than zero")
    tax = None if receipt.tax is None else receipt.tax.tax
    tax_minor = refund_tax(amount_minor, tax)
    line = QuoteLine(
        "credit",
        None,
        f"Refund of receipt {receipt.number}",
        amount_minor,
        {"receipt": receipt.number, "invoice": receipt.invoice_number},
        tax_minor=None if tax is None else tax_minor,
    )
    return Receipt(
        kind="credit_note",
        number=number,
        invoice_id=receipt.invoice_id,
        invoice_number=receipt.invoice_number,
        membership_id=receipt.membership_id,
        site_id=receipt.site_id,
        currency=receipt.currency,
        issued_at=at,
        lines=(line,),
        total_minor=amount_minor,
        tax=None if tax is None else TaxTotal(tax, tax_minor),
        balance_applied_minor=0,
        paid_minor=amount_minor,
        reference=reference,
        seller=receipt.seller,
        buyer=receipt.buyer,
        receipt_number=receipt.number,
        reason=reason,
    )
