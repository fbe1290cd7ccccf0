"""Classify a change, time it, and price it: the quote of billing-rules.md §5 and §6."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction

from bridge.domain.catalog import Catalog, Policy, Product
from bridge.domain.eligibility import Resolved, resolve_selection
from bridge.domain.invoicing import addon_period_value as addon_period_value
from bridge.domain.invoicing import agreed_price, holdings_value, next_invoice
from bridge.domain.invoicing import recurring_items as _recurring
from bridge.domain.invoicing import recurring_total as recurring_total
from bridge.domain.limits import EffectiveLimits, Limits, apply_overrides, lowers_any, merge_limits
from bridge.domain.membership import Holding, Membership, ScheduledChange, Selection
from bridge.domain.money import format_amount, fraction_text, round_minor
from bridge.domain.periods import boundary, period_ratio, seconds_between
from bridge.domain.preflight import Block, preflight
from bridge.domain.quote import (
    ChangeKind,
    Quote,
    QuoteLine,
    Terms,
    Timing,
    settle,
    taxed_lines,
)
from bridge.domain.tax import Tax, TaxTotal

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
NO_CHANGE_MESSAGE = "This change leaves your membership as it is."
ONE = Fraction(1)


def human_date(at: datetime) -> str:
    """An English date for domain messages ("1 May 2026"); pages format dates with Babel."""
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year}"


def require_utc(at: datetime) -> datetime:
    """Instants are aware UTC, to the second."""
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise ValueError("instants must be timezone-aware UTC")
    return at.replace(microsecond=0)


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


def _one_time(catalog: Catalog, addons: Mapping[str, int]) -> list[tuple[Product, int]]:
    return [
        (catalog.products[pid], q)
        for pid, q in sorted(addons.items())
        if q > 0 and catalog.products[pid].billing.is_once
    ]


def _charge_inputs(
    price_minor: int, currency: str, quantity: int, fraction: Fraction, extra: dict[str, str | int]
) -> dict[str, str | int]:
    inputs: dict[str, str | int] = {
        "price": format_amount(price_minor, currency),
        "quantity": quantity,
        "fraction": fraction_text(fraction),
    }
    inputs.update(extra)
    return inputs


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
        quote = _one_time_plan_purchase(catalog, membership, target, at)
    elif trialing or plan_timing == "immediate":
        quote = _immediate_plan_change(catalog, policy, membership, target, kind, at)
    else:
        quote = _partial_change(catalog, membership, target, kind, at, added, removed, plan_part)
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


def _credit(
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


def _setup_fee_line(membership: Membership, target: Resolved, currency: str) -> QuoteLine | None:
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


def _service_lines(
    catalog: Catalog, membership: Membership, addons: Mapping[str, int], currency: str
) -> list[QuoteLine]:
    """One-time services, in full: only the quantity beyond what the membership already holds."""
    lines = []
    held = membership.addon_quantities()
    for product, quantity in _one_time(catalog, addons):
        bought = quantity - held.get(product.id, 0)
        if bought <= 0:
            continue
        lines.append(
            QuoteLine(
                "service",
                product.id,
                f"{product.name} × {bought}",
                product.price_minor * bought,
                _charge_inputs(product.price_minor, currency, bought, ONE, {}),
            )
        )
    return lines


def _holdings(
    catalog: Catalog, membership: Membership, addons: Mapping[str, int]
) -> dict[str, Holding]:
    return {
        item.product.id: Holding(item.quantity, item.price_minor)
        for item in _recurring(catalog, membership, addons)
    }


def _quote(
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


def _one_time_plan_purchase(
    catalog: Catalog, membership: Membership, target: Resolved, at: datetime
) -> Quote:
    """On a one-time plan only one-time services can be bought: in full now, nothing renews (§6)."""
    lines = _service_lines(catalog, membership, target.addons, catalog.currency)
    terms = Terms(
        plan=membership.plan,
        billing=membership.billing,
        plan_price_minor=membership.plan_price_minor,
        addons=dict(membership.addons),
        anchor=membership.anchor,
        period_start=membership.period_start,
        period_end=membership.period_end,
        trial_end=membership.trial_end,
        status=membership.status,
        paid_value_minor=membership.paid_value_minor,
        setup_fee_paid_minor=membership.setup_fee_paid_minor,
    )
    limits = limits_of(
        catalog, membership.plan, membership.addon_quantities(), membership.overrides
    )
    return _quote(membership, catalog, "addon", "immediate", at, lines, 0, terms, limits)


def _immediate_plan_change(
    catalog: Catalog,
    policy: Policy,
    membership: Membership,
    target: Resolved,
    kind: ChangeKind,
    at: datetime,
) -> Quote:
    """The whole selection at once: a new period (restart) or prorated to the period end (keep)."""
    currency = catalog.currency
    lines: list[QuoteLine] = []
    billing = target.billing
    addons = _holdings(catalog, membership, target.addons)
    full_value = holdings_value(catalog, target.plan_price_minor, billing, addons)
    setup_line = _setup_fee_line(membership, target, currency)
    plan_changed = target.plan.id != membership.plan
    limits = limits_of(catalog, target.plan.id, target.addons, membership.overrides)
    end: datetime | None

    if membership.status == "trialing" and not billing.is_once:
        # The trial goes on with the new selection; only one-time services are charged now.
        assert membership.trial_end is not None, "a trialing membership has a trial end"
        lines = _service_lines(catalog, membership, target.addons, currency)
        terms = Terms(
            plan=target.plan.id,
            billing=billing,
            plan_price_minor=target.plan_price_minor,
            addons=addons,
            anchor=membership.anchor,
            period_start=membership.period_start,
            period_end=membership.trial_end,
            trial_end=membership.trial_end,
            status="trialing",
            paid_value_minor=0,
            setup_fee_paid_minor=membership.setup_fee_paid_minor,
        )
        return _quote(membership, catalog, kind, "immediate", at, lines, 0, terms, limits)

    # A move to a one-time plan also ends a trial: _credit gives nothing for a trial.
    restart = (
        policy.anchor == "restart"
        or billing.is_once
        or membership.billing.is_once
        or membership.period_end is None
        or membership.status == "trialing"
        or not billing.same_interval(membership.billing)
    )
    credit, credit_line = _credit(membership, catalog, at, currency)
    left: int | None
    total: int | None
    if restart:
        start, anchor = at, at
        end = None if billing.is_once else boundary(at, billing, 1)
        f, left, total = ONE, None, None
    else:
        assert membership.period_end is not None
        start, end, anchor = membership.period_start, membership.period_end, membership.anchor
        f, left, total = fraction_left(start, membership.period_end, at)
    extra: dict[str, str | int] = (
        {} if left is None or total is None else {"seconds_left": left, "seconds_in_period": total}
    )
    lines.append(
        QuoteLine(
            "plan",
            target.plan.id,
            f"{target.plan.name}, {billing.describe()}",
            round_minor(target.plan_price_minor * f),
            _charge_inputs(target.plan_price_minor, currency, 1, f, extra),
            at,
            end,
        )
    )
    for item in _recurring(catalog, membership, target.addons):
        value = addon_period_value(item.price_minor, item.product.billing, billing, item.quantity)
        ratio = period_ratio(item.product.billing, billing)
        item_extra = dict(extra)
        if ratio is not None and ratio != 1:
            item_extra["period_ratio"] = fraction_text(ratio)
        lines.append(
            QuoteLine(
                "addon",
                item.product.id,
                f"{item.product.name} × {item.quantity}, {billing.describe()}",
                round_minor(value * f),
                _charge_inputs(item.price_minor, currency, item.quantity, f, item_extra),
                at,
                end,
            )
        )
    lines += _service_lines(catalog, membership, target.addons, currency)
    if setup_line is not None:
        lines.append(setup_line)
    if credit_line is not None:
        lines.append(credit_line)
    terms = Terms(
        plan=target.plan.id,
        billing=billing,
        plan_price_minor=target.plan_price_minor,
        addons=addons,
        anchor=anchor,
        period_start=start,
        period_end=end,
        trial_end=None,
        status="active",
        paid_value_minor=full_value,
        setup_fee_paid_minor=max(membership.setup_fee_paid_minor, target.plan.setup_fee_minor)
        if plan_changed
        else membership.setup_fee_paid_minor,
        restarts=restart,
    )
    return _quote(membership, catalog, kind, "immediate", at, lines, credit, terms, limits)


def _partial_change(
    catalog: Catalog,
    membership: Membership,
    target: Resolved,
    kind: ChangeKind,
    at: datetime,
    added: dict[str, int],
    removed: bool,
    plan_part: bool,
) -> Quote:
    """Added add-ons now, prorated to co-terminate; the plan part and removals at period end.

    An added add-on the current plan does not offer (or cannot bill on its period) starts with
    the new plan, so it waits in the scheduled part and nothing is charged for it now (§5)."""
    currency = catalog.currency
    lines: list[QuoteLine] = []
    assert membership.period_end is not None, "a recurring membership has a period end"
    start, end = membership.period_start, membership.period_end
    f, left, total = fraction_left(start, end, at)
    current = catalog.get(membership.plan)
    offered_now = current.addons if current is not None else ()
    holdings = dict(membership.addons)
    added_now: dict[str, int] = {}
    for addon_id, quantity in sorted(added.items()):
        product = catalog.products[addon_id]
        if product.billing.is_once:
            continue
        ratio = period_ratio(product.billing, membership.billing)
        if ratio is None or addon_id not in offered_now:
            continue  # starts with the new plan: part of the scheduled selection only
        price = agreed_price(catalog, membership, addon_id)
        value = addon_period_value(price, product.billing, membership.billing, quantity)
        extra: dict[str, str | int] = {"seconds_left": left, "seconds_in_period": total}
        if ratio != 1:
            extra["period_ratio"] = fraction_text(ratio)
        lines.append(
            QuoteLine(
                "addon",
                addon_id,
                f"{product.name} × {quantity}, until {human_date(end)}",
                round_minor(value * f),
                _charge_inputs(price, currency, quantity, f, extra),
                at,
                end,
            )
        )
        old = holdings.get(addon_id)
        holdings[addon_id] = Holding((old.quantity if old else 0) + quantity, price)
        added_now[addon_id] = quantity
    lines += _service_lines(catalog, membership, added, currency)

    scheduled: ScheduledChange | None = None  # this change's end-of-term part
    if plan_part or removed:
        scheduled = ScheduledChange(
            effective_at=end,
            plan=target.plan.id,
            billing=target.billing,
            plan_price_minor=target.plan_price_minor,
            addons=_holdings(catalog, membership, target.addons),
        )
        scheduled_after = scheduled
    elif membership.scheduled_change is not None:
        scheduled_after = _carry_into_scheduled(
            catalog, membership.scheduled_change, holdings, added_now
        )
    else:
        scheduled_after = None

    timing: Timing = (
        "end_of_term"
        if not lines and scheduled is not None
        else ("mixed" if scheduled is not None else "immediate")
    )
    terms = Terms(
        plan=membership.plan,
        billing=membership.billing,
        plan_price_minor=membership.plan_price_minor,
        addons=holdings,
        anchor=membership.anchor,
        period_start=start,
        period_end=end,
        trial_end=membership.trial_end,
        status=membership.status,
        # recomputed from the items in force, never the old value plus this purchase (§6)
        paid_value_minor=holdings_value(
            catalog, membership.plan_price_minor, membership.billing, holdings
        ),
        setup_fee_paid_minor=membership.setup_fee_paid_minor,
    )
    now_addons = {pid: h.quantity for pid, h in holdings.items() if h.quantity > 0}
    message = None
    if scheduled is not None:
        plan = catalog.products[scheduled.plan]
        message = (
            f"Your plan changes to {plan.name} on {human_date(end)}."
            if plan_part
            else f"Your add-ons change on {human_date(end)}."
        )
    return Quote(
        kind=kind,
        timing=timing,
        currency=currency,
        at=at,
        version=membership.version,
        lines=tuple(lines),
        totals=settle(sum(line.amount_minor for line in lines), 0, membership.balance_minor),
        next_billing=None,
        scheduled=scheduled,
        limits=limits_of(catalog, membership.plan, now_addons, membership.overrides),
        scheduled_limits=limits_of(
            catalog, scheduled.plan, scheduled.addon_quantities(), membership.overrides
        )
        if scheduled is not None
        else None,
        blocked=(),
        warnings=(),
        message=message,
        terms=terms,
        scheduled_after=scheduled_after,
    )


def _carry_into_scheduled(
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
