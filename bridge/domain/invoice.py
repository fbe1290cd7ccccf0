"""An invoice and its rules: when it can be paid, when it expired, which payment matches (§10)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bridge.domain.money import format_amount
from bridge.domain.quote import QuoteLine
from bridge.domain.tax import TAX_MODES, Tax, TaxTotal

InvoiceKind = Literal["change", "renewal", "adjustment"]
InvoiceStatus = Literal["open", "paid", "void", "expired"]


@dataclass(frozen=True)
class Invoice:
    """A stored invoice: its lines (with their formula inputs), totals and state."""

    id: str
    number: int
    membership_id: int
    site_id: int | None
    kind: str
    status: str
    currency: str
    total_minor: int
    credit_minor: int
    balance_applied_minor: int
    amount_due_minor: int
    balance_after_minor: int
    lines: tuple[QuoteLine, ...]
    created_at: datetime
    quote_id: str | None = None
    renewal_key: str | None = None
    apply: Mapping[str, Any] | None = None
    expires_at: datetime | None = None
    paid_at: datetime | None = None
    reference: str | None = None
    closed_reason: str | None = None
    tax_name: str | None = None  # the tax it was made with (§12); None without a tax
    tax_rate: str | None = None
    tax_mode: str | None = None
    tax_minor: int | None = None  # the sum of its lines' taxes

    @property
    def tax(self) -> TaxTotal | None:
        """The invoice's tax and its amount; None for an invoice made without tax."""
        if self.tax_name is None or self.tax_rate is None or self.tax_mode not in TAX_MODES:
            return None
        tax = Tax(self.tax_name, self.tax_rate, self.tax_mode)  # type: ignore[arg-type]
        return TaxTotal(tax, self.tax_minor or 0)

    def expired(self, at: datetime) -> bool:
        """An open invoice with an expiry at or before `at` can no longer be paid."""
        return self.expires_at is not None and self.expires_at <= at

    def payable(self, at: datetime) -> bool:
        """Open and not expired: a payment now applies what it pays for."""
        return self.status == "open" and not self.expired(at)

    def currency_mismatch(self, currency: str) -> str | None:
        """The sentence refusing a payment in another currency; None when it matches."""
        if currency == self.currency:
            return None
        return f"The invoice is in {self.currency}, not {currency}."

    def amount_mismatch(self, amount_minor: int, given: str) -> str | None:
        """The sentence refusing a payment of another amount; None when it matches exactly."""
        if amount_minor == self.amount_due_minor:
            return None
        due = format_amount(self.amount_due_minor, self.currency)
        return f"Invoice {self.number} is for {due} {self.currency}, not {given}."
