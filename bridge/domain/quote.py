"""A quote: lines with their formula inputs, totals, next billing, scheduled part (§6, §9)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from bridge.domain.limits import EffectiveLimits
from bridge.domain.membership import Holding, ScheduledChange, Status
from bridge.domain.periods import BillingOption
from bridge.domain.preflight import Block
from bridge.domain.tax import Tax, TaxTotal, line_tax

ChangeKind = Literal["upgrade", "downgrade", "crossgrade", "addon", "no_change"]
Timing = Literal["immediate", "end_of_term", "mixed"]
LineType = Literal["plan", "addon", "service", "setup_fee", "credit", "renewal", "tax"]


@dataclass(frozen=True)
class QuoteLine:
    type: LineType
    product: str | None
    description: str
    amount_minor: int
    inputs: Mapping[str, str | int]
    period_start: datetime | None = None
    period_end: datetime | None = None
    tax_minor: int | None = None  # the line's own tax (§12); None without a tax


@dataclass(frozen=True)
class NextBilling:
    date: datetime
    amount_minor: int  # gross: what will be charged
    covered_by_balance_minor: int
    tax_minor: int | None = None  # present only with a tax


@dataclass(frozen=True)
class Terms:
    """The membership's terms once the immediate part of a change applies."""

    plan: str
    billing: BillingOption
    plan_price_minor: int
    addons: Mapping[str, Holding]
    anchor: datetime
    period_start: datetime
    period_end: datetime | None
    trial_end: datetime | None
    status: Status
    paid_value_minor: int
    setup_fee_paid_minor: int
    restarts: bool = False  # this invoice starts a new period: it sets `tax_rate_paid` (§12)
    tax_rate_paid: str | None = None  # the rate of that invoice (None: without tax)


@dataclass(frozen=True)
class Totals:
    """How lines, credit and the starting balance settle (quote-cli.md formulas)."""

    credit_minor: int
    balance_applied_minor: int
    due_now_minor: int
    balance_after_minor: int


@dataclass(frozen=True)
class Quote:
    kind: ChangeKind
    timing: Timing | None
    currency: str
    at: datetime
    version: int
    lines: tuple[QuoteLine, ...]
    totals: Totals
    next_billing: NextBilling | None
    scheduled: ScheduledChange | None
    limits: EffectiveLimits
    scheduled_limits: EffectiveLimits | None
    blocked: tuple[Block, ...]
    warnings: tuple[Block, ...]
    message: str | None
    terms: Terms | None
    scheduled_after: ScheduledChange | None = None  # the membership's scheduled change once applied
    tax: TaxTotal | None = None  # None: no tax configured (§12)

    @property
    def committable(self) -> bool:
        return self.kind != "no_change" and not self.blocked

    @property
    def lines_total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


def settle(lines_total_minor: int, credit_minor: int, balance_minor: int) -> Totals:
    """Credit, then balance pay for the charges; what is left over is never lost (§6)."""
    s = lines_total_minor
    applied = min(balance_minor, max(0, s))
    return Totals(
        credit_minor=credit_minor,
        balance_applied_minor=applied,
        due_now_minor=max(0, s) - applied,
        balance_after_minor=balance_minor - applied + max(0, -s),
    )


def taxed_lines(
    lines: Iterable[QuoteLine], tax: Tax | None, credit_rate: str | None
) -> tuple[tuple[QuoteLine, ...], TaxTotal | None]:
    """Every line taxed on its own, the credit at the rate its period was paid at (§12); in
    exclusive mode one last `tax` line holds their sum (none when there is no other line)."""
    if tax is None:
        return tuple(lines), None
    taxed = []
    for line in lines:
        rate = credit_rate if line.type == "credit" else tax.rate
        taxed.append(replace(line, tax_minor=line_tax(line.amount_minor, rate, tax.mode)))
    total = sum(line.tax_minor or 0 for line in taxed)
    if tax.mode == "exclusive" and taxed:
        inputs = {"rate": tax.rate, "mode": tax.mode}
        taxed.append(QuoteLine("tax", None, tax.describe(), total, inputs))
    return tuple(taxed), TaxTotal(tax, total)
