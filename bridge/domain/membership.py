"""What the domain knows of a membership, its sites and a customer's selection (§3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bridge.domain.limits import Limits
from bridge.domain.periods import BillingOption

Status = Literal["trialing", "active", "past_due", "cancelled"]
STATUSES: tuple[str, ...] = ("trialing", "active", "past_due", "cancelled")


@dataclass(frozen=True)
class Holding:
    """An add-on the membership holds: quantity and the agreed unit price (in its own billing)."""

    quantity: int
    price_minor: int


@dataclass(frozen=True)
class Usage:
    """A site's last reported usage."""

    posts: Mapping[str, int] = field(default_factory=dict)
    disk_mb: int = 0
    users: int = 0
    visits: int = 0
    custom_domains: int = 0


@dataclass(frozen=True)
class Site:
    id: int
    name: str
    usage: Usage = field(default_factory=Usage)
    overrides: Limits | None = None


@dataclass(frozen=True)
class Selection:
    """The desired final state; None fields mean "as today" (see quote-cli.md)."""

    plan: str
    billing: BillingOption | None = None
    addons: Mapping[str, int] | None = None


@dataclass(frozen=True)
class ScheduledChange:
    """An end-of-term change, effective at `effective_at`."""

    effective_at: datetime
    plan: str
    billing: BillingOption
    plan_price_minor: int
    addons: Mapping[str, Holding]
    cancels: bool = False  # a cancellation at period end: the plan is the fallback plan

    def addon_quantities(self) -> dict[str, int]:
        return {pid: h.quantity for pid, h in self.addons.items() if h.quantity > 0}


@dataclass(frozen=True)
class Membership:
    plan: str
    billing: BillingOption
    plan_price_minor: int
    status: Status
    anchor: datetime
    period_start: datetime
    period_end: datetime | None
    currency: str = "USD"
    addons: Mapping[str, Holding] = field(default_factory=dict)
    trial_end: datetime | None = None
    paid_value_minor: int = 0
    setup_fee_paid_minor: int = 0
    # The tax rate (percent text, "25") of the invoice that started the current period; None:
    # that period was paid without tax, so its credit carries none (billing-rules.md §12).
    tax_rate_paid: str | None = None
    balance_minor: int = 0
    scheduled_change: ScheduledChange | None = None
    sites: tuple[Site, ...] = ()
    overrides: Limits | None = None
    version: int = 1

    def addon_quantities(self) -> dict[str, int]:
        return {pid: h.quantity for pid, h in self.addons.items() if h.quantity > 0}
