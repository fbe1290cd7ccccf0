"""The parts every priced change is made of: the time left in a period, the limits a selection
gives, the credit for unused time, setup fees, one-time services, holdings and the quote
itself (billing-rules.md §6). Used by `change_pricing` and `proration`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from fractions import Fraction

from bridge.domain.catalog import Catalog, Product
from bridge.domain.eligibility import Resolved
from bridge.domain.invoicing import addon_period_value as addon_period_value
from bridge.domain.invoicing import recurring_items as _recurring
from bridge.domain.invoicing import recurring_total as recurring_total
from bridge.domain.limits import EffectiveLimits, Limits, apply_overrides, merge_limits
from bridge.domain.membership import Holding, Membership, ScheduledChange
from bridge.domain.money import format_amount, fraction_text, round_minor
from bridge.domain.periods import seconds_between
from bridge.domain.quote import (
    ChangeKind,
    Quote,
    QuoteLine,
    Terms,
    Timing,
    settle,
)

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ONE = Fraction(1)


def human_date(at: datetime) -> str:
    """An English date for domain messages ("1 May 2026"); pages format dates with Babel."""
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year}"


def fraction_left(start: datetime, end: datetime, at: datetime) -> tuple[Fraction, int, int]:
    """f = (end − at) / (end − start) in exact seconds, clamped to [0, 1]; with both counts."""
    total = seconds_between(start, end)
    left = min(max(seconds_between(at, end), 0), total)
    return (Fraction(left, total) if total > 0 else Fraction(0)), left, total


def limits_of(
    catalog: Catalog, plan_id: str, addons: Mapping[str, int], overrides: Limits | None
) -> EffectiveLimits:
    """Plan + packages × quantity, then the membership's overrides (before per-site overrides)."""
    key = (plan_id, frozenset((pid, q) for pid, q in addons.items() if q > 0))
    merged = catalog.limits_memo.get(key)
    if not isinstance(merged, EffectiveLimits):
        plan = catalog.get(plan_id)
        packages = []
        for pid, quantity in addons.items():
            product = catalog.get(pid)
            if product is not None and product.kind == "package" and quantity > 0:
                packages.append((product.limits, quantity))
        merged = merge_limits(plan.limits if plan is not None else Limits(), packages)
        if len(catalog.limits_memo) >= 16384:
            catalog.limits_memo.clear()  # bounded: a long-running server sees many combinations
        catalog.limits_memo[key] = merged
    return apply_overrides(merged, overrides)


def one_time_products(catalog: Catalog, addons: Mapping[str, int]) -> list[tuple[Product, int]]:
    """The one-time services among chosen add-ons, each with its quantity, by id."""
    return [
        (catalog.products[pid], q)
        for pid, q in sorted(addons.items())
        if q > 0 and catalog.products[pid].billing.is_once
    ]


def charge_inputs(
    price_minor: int, currency: str, quantity: int, fraction: Fraction, extra: dict[str, str | int]
) -> dict[str, str | int]:
    """A charge line's `inputs` (quote-cli.md): price, quantity, fraction, and any extra."""
    inputs: dict[str, str | int] = {
        "price": format_amount(price_minor, currency),
        "quantity": quantity,
        "fraction": fraction_text(fraction),
    }
    inputs.update(extra)
    return inputs


def unused_time_credit(
    membership: Membership, catalog: Catalog, at: datetime, currency: str
) -> tuple[int, QuoteLine | None]:
    """K = round(paid_value × f), or the price paid for a one-time plan; zero while trialing."""
    if membership.status == "trialing" or membership.paid_value_minor <= 0:
        return 0, None
    current = catalog.get(membership.plan)
    name = current.name if current else membership.plan
    if membership.billing.is_once or membership.period_end is None:
        amount = membership.paid_value_minor
        inputs: dict[str, str | int] = {
            "paid_value": format_amount(membership.paid_value_minor, currency),
            "fraction": "1/1",
        }
    else:
        f, left, total = fraction_left(membership.period_start, membership.period_end, at)
        amount = round_minor(membership.paid_value_minor * f)
        inputs = {
            "paid_value": format_amount(membership.paid_value_minor, currency),
            "seconds_left": left,
            "seconds_in_period": total,
            "fraction": fraction_text(f),
        }
    return amount, QuoteLine("credit", None, f"Unused time on {name}", -amount, inputs)


def setup_fee_line(membership: Membership, target: Resolved, currency: str) -> QuoteLine | None:
    """The setup fee still owed for a new plan: its fee less what was paid; None if nothing."""
    difference = max(0, target.plan.setup_fee_minor - membership.setup_fee_paid_minor)
    if difference == 0 or target.plan.id == membership.plan:
        return None
    return QuoteLine(
        "setup_fee",
        target.plan.id,
        f"Setup fee for {target.plan.name} (difference)",
        difference,
        {
            "price": format_amount(target.plan.setup_fee_minor, currency),
            "setup_fee_paid": format_amount(membership.setup_fee_paid_minor, currency),
            "quantity": 1,
            "fraction": "1/1",
        },
    )


def service_lines(
    catalog: Catalog, membership: Membership, addons: Mapping[str, int], currency: str
) -> list[QuoteLine]:
    """One-time services, in full: only the quantity beyond what the membership already holds."""
    lines = []
    held = membership.addon_quantities()
    for product, quantity in one_time_products(catalog, addons):
        bought = quantity - held.get(product.id, 0)
        if bought <= 0:
            continue
        lines.append(
            QuoteLine(
                "service",
                product.id,
                f"{product.name} × {bought}",
                product.price_minor * bought,
                charge_inputs(product.price_minor, currency, bought, ONE, {}),
            )
        )
    return lines


def holdings_of(
    catalog: Catalog, membership: Membership, addons: Mapping[str, int]
) -> dict[str, Holding]:
    """The recurring add-ons a selection holds, each at its agreed price."""
    return {
        item.product.id: Holding(item.quantity, item.price_minor)
        for item in _recurring(catalog, membership, addons)
    }


def quote_of(
    membership: Membership,
    catalog: Catalog,
    kind: ChangeKind,
    timing: Timing,
    at: datetime,
    lines: list[QuoteLine],
    credit: int,
    terms: Terms,
    limits: EffectiveLimits,
) -> Quote:
    """An immediate quote; its next billing is filled in from the terms by `quote_change`."""
    return Quote(
        kind=kind,
        timing=timing,
        currency=catalog.currency,
        at=at,
        version=membership.version,
        lines=tuple(lines),
        totals=settle(sum(line.amount_minor for line in lines), credit, membership.balance_minor),
        next_billing=None,
        scheduled=None,
        limits=limits,
        scheduled_limits=None,
        blocked=(),
        warnings=(),
        message=None,
        terms=terms,
        scheduled_after=None,
    )


def carry_into_scheduled(
    catalog: Catalog,
    scheduled: ScheduledChange,
    holdings: Mapping[str, Holding],
    added: Mapping[str, int],
) -> ScheduledChange:
    """Buying an add-on keeps a scheduled change, and the add-on carries over where offered (§7)."""
    plan = catalog.products.get(scheduled.plan)
    addons = dict(scheduled.addons)
    for addon_id, quantity in added.items():
        if plan is not None and addon_id in plan.addons:
            old = addons.get(addon_id)
            addons[addon_id] = Holding(
                (old.quantity if old else 0) + quantity, holdings[addon_id].price_minor
            )
    return replace(scheduled, addons=addons)
