"""Time passing: renewals, trial end, dunning, fallback and cancellation (billing-rules.md §7)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bridge.domain.catalog import Catalog, Product
from bridge.domain.invoicing import paid_value_of, renewal_lines, renewal_terms
from bridge.domain.membership import Membership, ScheduledChange
from bridge.domain.money import round_minor
from bridge.domain.periods import BillingOption, boundary
from bridge.domain.preflight import Block, preflight
from bridge.domain.proration import fraction_left, limits_of, require_utc
from bridge.domain.quote import QuoteLine, Totals, settle, taxed_lines
from bridge.domain.tax import Tax, TaxTotal, line_tax


@dataclass(frozen=True)
class Renewal:
    """One roll-over: the membership after it and the renewal invoice (balance already applied)."""

    membership: Membership
    lines: tuple[QuoteLine, ...]
    totals: Totals
    warnings: tuple[Block, ...]
    applied_scheduled: bool
    paid_value_minor: int  # what `paid_value` becomes once the invoice is paid
    tax: TaxTotal | None = None  # the invoice's tax (§12); None without a tax


def _plan(catalog: Catalog, plan_id: str) -> Product:
    plan = catalog.get(plan_id)
    if plan is None or plan.kind != "plan":
        raise ValueError(f"'{plan_id}' is not a plan of the catalog")
    return plan


def renew(
    catalog: Catalog, membership: Membership, at: datetime, tax: Tax | None = None
) -> Renewal | None:
    """At period end (or trial end): apply a due scheduled change, roll one period, invoice it,
    taxed like any invoice; its rate becomes the membership's `tax_rate_paid` (§12)."""
    at = require_utc(at)
    m = membership
    if m.period_end is None or at < m.period_end:
        return None
    terms = renewal_terms(catalog, m)
    if terms is None:
        return None
    end = m.period_end
    plan = _plan(catalog, terms.plan)
    warnings: tuple[Block, ...] = ()
    if terms.applies_scheduled:
        new_limits = limits_of(
            catalog, terms.plan, {k: h.quantity for k, h in terms.addons.items()}, m.overrides
        )
        warnings = tuple(preflight(m.sites, new_limits, plan.name))
    lines, tax_total = taxed_lines(renewal_lines(catalog, m, terms), tax, None)
    new_end = lines[0].period_end
    assert new_end is not None
    totals = settle(sum(line.amount_minor for line in lines), 0, m.balance_minor)
    paid = totals.due_now_minor == 0
    rolled = replace(
        m,
        plan=terms.plan,
        billing=terms.billing,
        plan_price_minor=terms.plan_price_minor,
        addons=terms.addons,
        anchor=terms.anchor,
        period_start=end,
        period_end=new_end,
        status="active" if paid else "past_due",
        setup_fee_paid_minor=m.setup_fee_paid_minor + terms.setup_fee_minor,
        tax_rate_paid=None if tax is None else tax.rate,
        balance_minor=totals.balance_after_minor,
        scheduled_change=None if terms.applies_scheduled else m.scheduled_change,
        version=m.version + 1,
    )
    value = paid_value_of(catalog, rolled)
    rolled = replace(rolled, paid_value_minor=value if paid else 0)
    return Renewal(rolled, lines, totals, warnings, terms.applies_scheduled, value, tax_total)


def renewal_paid(membership: Membership, catalog: Catalog) -> Membership:
    """A past-due renewal invoice was paid: active again, `paid_value` the full-period value of the
    items in force now (§7), add-ons bought while the invoice was open included."""
    return replace(
        membership,
        status="active",
        paid_value_minor=paid_value_of(catalog, membership),
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
    catalog: Catalog,
    membership: Membership,
    at: datetime,
    fallback_plan_id: str,
    tax: Tax | None = None,
) -> tuple[Membership, int]:
    """Cancel at once: the unused value goes to the balance, then the fallback plan applies.
    With an exclusive tax the unused value is `paid_value` before tax, so the tax it was paid
    with (at `tax_rate_paid`, rounded once) goes to the balance too (§12: credit is money)."""
    at = require_utc(at)
    credit = 0
    m = membership
    if m.status != "trialing" and m.period_end is not None and m.paid_value_minor > 0:
        f, _, _ = fraction_left(m.period_start, m.period_end, at)
        credit = round_minor(m.paid_value_minor * f)
        if tax is not None and tax.mode == "exclusive":
            credit += line_tax(credit, m.tax_rate_paid, "exclusive")
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
    price_minor: int | None = None,
) -> Membership:
    """A new membership on a plan from `at`: a trial when the plan has trial days. An agreed
    `price_minor` (an imported customer's) may be for a billing option the catalog no longer
    lists; without one, the catalog must offer the option."""
    at = require_utc(at)
    plan = _plan(catalog, plan_id)
    billing = billing or plan.billing
    price = price_minor if price_minor is not None else plan.price_for(billing)
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
