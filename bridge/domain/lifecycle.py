"""Time passing: renewals, trial end, dunning, fallback and cancellation (billing-rules.md §7)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bridge.domain.catalog import Catalog, Product
from bridge.domain.membership import Holding, Membership, ScheduledChange
from bridge.domain.money import format_amount, round_minor
from bridge.domain.periods import BillingOption, boundary, period_index_after, period_ratio
from bridge.domain.preflight import Block, preflight
from bridge.domain.proration import (
    addon_period_value,
    fraction_left,
    limits_of,
    recurring_total,
    require_utc,
)
from bridge.domain.quote import QuoteLine, Totals, settle


@dataclass(frozen=True)
class Renewal:
    """One roll-over: the membership after it and the renewal invoice (balance already applied)."""

    membership: Membership
    lines: tuple[QuoteLine, ...]
    totals: Totals
    warnings: tuple[Block, ...]
    applied_scheduled: bool
    paid_value_minor: int  # what `paid_value` becomes once the invoice is paid


def _plan(catalog: Catalog, plan_id: str) -> Product:
    plan = catalog.get(plan_id)
    if plan is None or plan.kind != "plan":
        raise ValueError(f"'{plan_id}' is not a plan of the catalog")
    return plan


def _renewal_lines(
    catalog: Catalog,
    plan: Product,
    billing: BillingOption,
    price_minor: int,
    addons: dict[str, Holding],
    start: datetime,
    end: datetime,
    currency: str,
) -> list[QuoteLine]:
    lines = [
        QuoteLine(
            "plan",
            plan.id,
            f"{plan.name}, {billing.describe()}",
            price_minor,
            {"price": format_amount(price_minor, currency), "quantity": 1, "fraction": "1/1"},
            start,
            end,
        )
    ]
    for addon_id, holding in sorted(addons.items()):
        product = catalog.get(addon_id)
        if product is None or product.billing.is_once or holding.quantity <= 0:
            continue
        ratio = period_ratio(product.billing, billing)
        if ratio is None:
            continue
        inputs: dict[str, str | int] = {
            "price": format_amount(holding.price_minor, currency),
            "quantity": holding.quantity,
            "fraction": "1/1",
        }
        if ratio != 1:
            inputs["period_ratio"] = f"{ratio.numerator}/{ratio.denominator}"
        amount = round_minor(
            addon_period_value(holding.price_minor, product.billing, billing, holding.quantity)
        )
        lines.append(
            QuoteLine(
                "addon",
                addon_id,
                f"{product.name} × {holding.quantity}, {billing.describe()}",
                amount,
                inputs,
                start,
                end,
            )
        )
    return lines


def renew(catalog: Catalog, membership: Membership, at: datetime) -> Renewal | None:
    """At period end (or trial end): apply a due scheduled change, roll one period, invoice it."""
    at = require_utc(at)
    m = membership
    if m.period_end is None or at < m.period_end or m.billing.is_once or m.status == "cancelled":
        return None
    end = m.period_end
    currency = catalog.currency
    applied = False
    warnings: tuple[Block, ...] = ()
    plan_id, billing, price, addons = m.plan, m.billing, m.plan_price_minor, dict(m.addons)
    anchor = m.anchor
    sc = m.scheduled_change
    if sc is not None and sc.effective_at <= end:
        applied = True
        if sc.billing != m.billing:
            anchor = end  # a new interval counts its periods from the day it starts
        plan_id, billing, price, addons = sc.plan, sc.billing, sc.plan_price_minor, dict(sc.addons)
        new_limits = limits_of(
            catalog, plan_id, {k: h.quantity for k, h in addons.items()}, m.overrides
        )
        warnings = tuple(preflight(m.sites, new_limits, _plan(catalog, plan_id).name))
    if m.status == "trialing":
        anchor = end  # the first paid period starts when the trial ends
    k = period_index_after(anchor, billing, end)
    new_end = boundary(anchor, billing, k)
    plan = _plan(catalog, plan_id)
    lines = _renewal_lines(catalog, plan, billing, price, addons, end, new_end, currency)
    setup_fee_paid = m.setup_fee_paid_minor
    if plan.setup_fee_minor > setup_fee_paid and (plan_id != m.plan or m.status == "trialing"):
        difference = plan.setup_fee_minor - setup_fee_paid
        lines.append(
            QuoteLine(
                "setup_fee",
                plan_id,
                f"Setup fee for {plan.name} (difference)",
                difference,
                {
                    "price": format_amount(plan.setup_fee_minor, currency),
                    "setup_fee_paid": format_amount(setup_fee_paid, currency),
                    "quantity": 1,
                    "fraction": "1/1",
                },
            )
        )
        setup_fee_paid = plan.setup_fee_minor
    totals = settle(sum(line.amount_minor for line in lines), 0, m.balance_minor)
    quantities = {pid: h.quantity for pid, h in addons.items()}
    value = recurring_total(catalog, m, price, billing, quantities)
    paid = totals.due_now_minor == 0
    rolled = replace(
        m,
        plan=plan_id,
        billing=billing,
        plan_price_minor=price,
        addons=addons,
        anchor=anchor,
        period_start=end,
        period_end=new_end,
        status="active" if paid else "past_due",
        paid_value_minor=value if paid else 0,
        setup_fee_paid_minor=setup_fee_paid,
        balance_minor=totals.balance_after_minor,
        scheduled_change=None if applied else m.scheduled_change,
        version=m.version + 1,
    )
    return Renewal(rolled, tuple(lines), totals, warnings, applied, value)


def renewal_paid(membership: Membership, paid_value_minor: int) -> Membership:
    """A past-due renewal invoice was paid: active again, its value in force."""
    return replace(
        membership,
        status="active",
        paid_value_minor=paid_value_minor,
        version=membership.version + 1,
    )


def mark_past_due(membership: Membership) -> Membership:
    """The renewal is unpaid at period end."""
    return replace(membership, status="past_due", version=membership.version + 1)


def grace_over(membership: Membership, grace: timedelta, at: datetime) -> bool:
    """True when a past-due membership has been unpaid for longer than the grace period."""
    return membership.status == "past_due" and at >= membership.period_start + grace


def fall_back(
    catalog: Catalog, membership: Membership, fallback_plan_id: str, at: datetime
) -> Membership:
    """Move to the fallback plan (normally Free) from `at`; add-ons go; nothing is deleted."""
    at = require_utc(at)
    plan = _plan(catalog, fallback_plan_id)
    period_end = None if plan.billing.is_once else boundary(at, plan.billing, 1)
    return replace(
        membership,
        plan=plan.id,
        billing=plan.billing,
        plan_price_minor=plan.price_minor,
        addons={},
        anchor=at,
        period_start=at,
        period_end=period_end,
        trial_end=None,
        status="active" if plan.price_minor == 0 else "past_due",
        paid_value_minor=0,
        scheduled_change=None,
        version=membership.version + 1,
    )


def cancel_at_period_end(
    catalog: Catalog, membership: Membership, fallback_plan_id: str
) -> Membership:
    """Cancel at the end of the term: access until period end, then the fallback plan; no refund."""
    plan = _plan(catalog, fallback_plan_id)
    effective = membership.period_end or membership.period_start
    change = ScheduledChange(
        effective_at=effective,
        plan=plan.id,
        billing=plan.billing,
        plan_price_minor=plan.price_minor,
        addons={},
        cancels=True,
    )
    return replace(membership, scheduled_change=change, version=membership.version + 1)


def cancel_now(
    catalog: Catalog, membership: Membership, at: datetime, fallback_plan_id: str
) -> tuple[Membership, int]:
    """Cancel at once: the unused value goes to the balance, then the fallback plan applies."""
    at = require_utc(at)
    credit = 0
    m = membership
    if m.status != "trialing" and m.period_end is not None and m.paid_value_minor > 0:
        f, _, _ = fraction_left(m.period_start, m.period_end, at)
        credit = round_minor(m.paid_value_minor * f)
    fallen = fall_back(
        catalog, replace(m, balance_minor=m.balance_minor + credit), fallback_plan_id, at
    )
    return fallen, credit


def start_membership(
    catalog: Catalog,
    plan_id: str,
    billing: BillingOption | None,
    at: datetime,
    currency: str | None = None,
) -> Membership:
    """A new membership on a plan from `at`: a trial when the plan has trial days."""
    at = require_utc(at)
    plan = _plan(catalog, plan_id)
    billing = billing or plan.billing
    price = plan.price_for(billing)
    if price is None:
        raise ValueError(f"{plan.name} is not billed every {billing.describe()}")
    if plan.trial_days > 0 and not billing.is_once:
        trial_end = at + timedelta(days=plan.trial_days)
        return Membership(
            plan=plan.id,
            billing=billing,
            plan_price_minor=price,
            status="trialing",
            anchor=at,
            period_start=at,
            period_end=trial_end,
            trial_end=trial_end,
            currency=currency or catalog.currency,
        )
    period_end = None if billing.is_once else boundary(at, billing, 1)
    return Membership(
        plan=plan.id,
        billing=billing,
        plan_price_minor=price,
        status="active",
        anchor=at,
        period_start=at,
        period_end=period_end,
        currency=currency or catalog.currency,
        paid_value_minor=0,  # nothing paid yet; a paid plan is invoiced by the service
    )
