"""Classify a change, time it, and price it: the quote of billing-rules.md §5 and §6."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction

from bridge.domain.catalog import Catalog, Policy
from bridge.domain.change_pricing import (
    immediate_plan_change,
    one_time_plan_purchase,
    partial_change,
)
from bridge.domain.change_terms import fraction_left as fraction_left
from bridge.domain.change_terms import human_date as human_date
from bridge.domain.change_terms import limits_of as limits_of
from bridge.domain.eligibility import Resolved, resolve_selection
from bridge.domain.invoicing import addon_period_value as addon_period_value
from bridge.domain.invoicing import next_invoice
from bridge.domain.invoicing import recurring_total as recurring_total
from bridge.domain.limits import EffectiveLimits, lowers_any
from bridge.domain.membership import Membership, Selection
from bridge.domain.preflight import Block, preflight
from bridge.domain.quote import (
    ChangeKind,
    Quote,
    Timing,
    settle,
    taxed_lines,
)
from bridge.domain.tax import Tax, TaxTotal

NO_CHANGE_MESSAGE = "This change leaves your membership as it is."


def require_utc(at: datetime) -> datetime:
    """Instants are aware UTC, to the second."""
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise ValueError("instants must be timezone-aware UTC")
    return at.replace(microsecond=0)


def _classify(catalog: Catalog, membership: Membership, target: Resolved) -> ChangeKind:
    plan_changed = target.plan.id != membership.plan
    if not plan_changed:
        return "crossgrade" if target.billing != membership.billing else "addon"
    if target.billing.is_once:
        return "upgrade"
    if membership.billing.is_once:
        return "downgrade"  # unreachable: a perpetual plan never moves to a recurring one
    current = Fraction(membership.plan_price_minor) / membership.billing.nominal_days()
    new = Fraction(target.plan_price_minor) / target.billing.nominal_days()
    if new > current:
        return "upgrade"
    if new < current:
        return "downgrade"
    return "crossgrade"


def _plan_timing(
    policy: Policy, membership: Membership, target: Resolved, kind: ChangeKind
) -> Timing:
    if membership.status == "trialing" or target.billing.is_once or membership.billing.is_once:
        return "immediate"
    if (
        target.plan.id != membership.plan
        and target.plan_price_minor == 0
        and membership.plan_price_minor > 0
    ):
        # Paid → free: a year of Free is no bigger commitment, so the downgrade policy decides.
        return "end_of_term" if policy.downgrade == "end_of_term" else "immediate"
    old_days = membership.billing.nominal_days()
    new_days = target.billing.nominal_days()
    if new_days > old_days:
        return "immediate"  # a bigger commitment, whatever the price per day
    if new_days < old_days:
        return "end_of_term"
    if kind == "downgrade" and policy.downgrade == "end_of_term":
        return "end_of_term"
    return "immediate"


def classify_change(
    catalog: Catalog, policy: Policy, membership: Membership, target: Resolved
) -> tuple[ChangeKind, Timing]:
    """The kind and the timing of the plan part of a change (§5), as every quote decides them."""
    kind = _classify(catalog, membership, target)
    return kind, _plan_timing(policy, membership, target, kind)


def _block_message(plan_name: str) -> str:
    return (
        f"Your sites use more than {plan_name} allows, so this change cannot be made yet. "
        "See what to do below."
    )


def quote_change(
    catalog: Catalog,
    policy: Policy,
    membership: Membership,
    selection: Selection,
    at: datetime,
    tax: Tax | None = None,
) -> Quote:
    """The quote for moving `membership` to `selection` at instant `at` (§5, §6, §7, §8), taxed
    with `tax` when the network has one (§12)."""
    at = require_utc(at)
    target = resolve_selection(catalog, membership, selection)
    currency = catalog.currency
    current_addons = membership.addon_quantities()
    plan_changed = target.plan.id != membership.plan
    billing_changed = target.billing != membership.billing
    if not plan_changed and not billing_changed and target.addons == current_addons:
        current_limits = limits_of(catalog, membership.plan, current_addons, membership.overrides)
        no_change = _no_change(membership, currency, at, current_limits)
        return no_change if tax is None else replace(no_change, tax=TaxTotal(tax, 0))

    kind = _classify(catalog, membership, target)
    trialing = membership.status == "trialing"
    plan_part = plan_changed or billing_changed
    plan_timing: Timing | None = (
        _plan_timing(policy, membership, target, kind) if plan_part else None
    )
    added = {
        pid: q - current_addons.get(pid, 0)
        for pid, q in target.addons.items()
        if q > current_addons.get(pid, 0)
    }
    removed = any(target.addons.get(pid, 0) < q for pid, q in current_addons.items())

    if not plan_part and (membership.billing.is_once or membership.period_end is None):
        quote = one_time_plan_purchase(catalog, membership, target, at)
    elif trialing or plan_timing == "immediate":
        quote = immediate_plan_change(catalog, policy, membership, target, kind, at)
    else:
        quote = partial_change(catalog, membership, target, kind, at, added, removed, plan_part)
    quote = _taxed(quote, tax, membership)
    next_billing = next_invoice(catalog, apply_quote(membership, quote), tax)
    quote = replace(quote, next_billing=next_billing)
    return _with_preflight(catalog, policy, membership, quote, target)


def _taxed(quote: Quote, tax: Tax | None, membership: Membership) -> Quote:
    """Each line's tax, the tax line and the totals again from the gross lines (§12); an invoice
    that starts a new period records its rate as the membership's `tax_rate_paid`."""
    if tax is None:
        return quote  # a new period paid without tax: the terms' `tax_rate_paid` is already None
    lines, total = taxed_lines(quote.lines, tax, membership.tax_rate_paid)
    terms = quote.terms
    if terms is not None and terms.restarts:
        terms = replace(terms, tax_rate_paid=tax.rate)
    gross = sum(line.amount_minor for line in lines)
    totals = settle(gross, quote.totals.credit_minor, membership.balance_minor)
    return replace(quote, lines=lines, totals=totals, terms=terms, tax=total)


def _no_change(
    membership: Membership, currency: str, at: datetime, limits: EffectiveLimits
) -> Quote:
    return Quote(
        kind="no_change",
        timing=None,
        currency=currency,
        at=at,
        version=membership.version,
        lines=(),
        totals=settle(0, 0, membership.balance_minor),
        next_billing=None,
        scheduled=None,
        limits=limits,
        scheduled_limits=None,
        blocked=(),
        warnings=(),
        message=NO_CHANGE_MESSAGE,
        terms=None,
    )


def _with_preflight(
    catalog: Catalog,
    policy: Policy,
    membership: Membership,
    quote: Quote,
    target: Resolved,
) -> Quote:
    """Run the downgrade pre-flight on whatever part lowers a limit (§8)."""
    if not membership.sites:
        return quote  # no usage reported yet: nothing can be over a limit
    current_limits = limits_of(
        catalog, membership.plan, membership.addon_quantities(), membership.overrides
    )
    blocks: list[Block] = []
    if lowers_any(current_limits, quote.limits):
        plan = catalog.products[quote.terms.plan] if quote.terms else target.plan
        blocks += preflight(membership.sites, quote.limits, plan.name)
    if quote.scheduled_limits is not None and lowers_any(current_limits, quote.scheduled_limits):
        assert quote.scheduled is not None
        blocks += preflight(
            membership.sites, quote.scheduled_limits, catalog.products[quote.scheduled.plan].name
        )
    if not blocks:
        return quote
    if policy.over_quota == "allow":
        return replace(quote, warnings=tuple(blocks))
    return replace(quote, blocked=tuple(blocks), message=_block_message(target.plan.name))


def apply_quote(membership: Membership, quote: Quote) -> Membership:
    """The membership once a committed (and paid, when something was due) quote applies."""
    if quote.terms is None:
        raise ValueError("a no_change quote cannot be applied")
    t = quote.terms
    totals = quote.totals
    balance = max(
        0,
        membership.balance_minor - totals.balance_applied_minor + max(0, -quote.lines_total_minor),
    )
    scheduled = quote.scheduled_after
    return replace(
        membership,
        plan=t.plan,
        billing=t.billing,
        plan_price_minor=t.plan_price_minor,
        addons=dict(t.addons),
        anchor=t.anchor,
        period_start=t.period_start,
        period_end=t.period_end,
        trial_end=t.trial_end,
        status=t.status,
        paid_value_minor=t.paid_value_minor,
        setup_fee_paid_minor=t.setup_fee_paid_minor,
        tax_rate_paid=t.tax_rate_paid if t.restarts else membership.tax_rate_paid,
        balance_minor=balance,
        scheduled_change=scheduled,
        version=membership.version + 1,
    )
