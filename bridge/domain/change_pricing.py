"""The three ways an immediate change is priced (billing-rules.md §6): a one-time plan
purchase, a plan change now, and a partial change (add-ons only, or a change kept inside the
period). `proration.quote_change` chooses one."""

from __future__ import annotations

from datetime import datetime

from bridge.domain.catalog import Catalog, Policy
from bridge.domain.change_terms import (
    ONE,
    carry_into_scheduled,
    charge_inputs,
    fraction_left,
    holdings_of,
    human_date,
    limits_of,
    quote_of,
    service_lines,
    setup_fee_line,
    unused_time_credit,
)
from bridge.domain.eligibility import Resolved
from bridge.domain.invoicing import addon_period_value as addon_period_value
from bridge.domain.invoicing import agreed_price, holdings_value
from bridge.domain.invoicing import recurring_items as _recurring
from bridge.domain.invoicing import recurring_total as recurring_total
from bridge.domain.membership import Holding, Membership, ScheduledChange
from bridge.domain.money import fraction_text, round_minor
from bridge.domain.periods import boundary, period_ratio
from bridge.domain.quote import (
    ChangeKind,
    Quote,
    QuoteLine,
    Terms,
    Timing,
    settle,
)


def one_time_plan_purchase(
    catalog: Catalog, membership: Membership, target: Resolved, at: datetime
) -> Quote:
    """On a one-time plan only one-time services can be bought: in full now, nothing renews (§6)."""
    lines = service_lines(catalog, membership, target.addons, catalog.currency)
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
    return quote_of(membership, catalog, "addon", "immediate", at, lines, 0, terms, limits)


def immediate_plan_change(
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
    addons = holdings_of(catalog, membership, target.addons)
    full_value = holdings_value(catalog, target.plan_price_minor, billing, addons)
    setup_line = setup_fee_line(membership, target, currency)
    plan_changed = target.plan.id != membership.plan
    limits = limits_of(catalog, target.plan.id, target.addons, membership.overrides)
    end: datetime | None

    if membership.status == "trialing" and not billing.is_once:
        # The trial goes on with the new selection; only one-time services are charged now.
        assert membership.trial_end is not None, "a trialing membership has a trial end"
        lines = service_lines(catalog, membership, target.addons, currency)
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
        return quote_of(membership, catalog, kind, "immediate", at, lines, 0, terms, limits)

    # A move to a one-time plan also ends a trial: credit_line gives nothing for a trial.
    restart = (
        policy.anchor == "restart"
        or billing.is_once
        or membership.billing.is_once
        or membership.period_end is None
        or membership.status == "trialing"
        or not billing.same_interval(membership.billing)
    )
    credit, credit_line = unused_time_credit(membership, catalog, at, currency)
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
            charge_inputs(target.plan_price_minor, currency, 1, f, extra),
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
                charge_inputs(item.price_minor, currency, item.quantity, f, item_extra),
                at,
                end,
            )
        )
    lines += service_lines(catalog, membership, target.addons, currency)
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
    return quote_of(membership, catalog, kind, "immediate", at, lines, credit, terms, limits)


def partial_change(
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
                charge_inputs(price, currency, quantity, f, extra),
                at,
                end,
            )
        )
        old = holdings.get(addon_id)
        holdings[addon_id] = Holding((old.quantity if old else 0) + quantity, price)
        added_now[addon_id] = quantity
    lines += service_lines(catalog, membership, added, currency)

    scheduled: ScheduledChange | None = None  # this change's end-of-term part
    if plan_part or removed:
        scheduled = ScheduledChange(
            effective_at=end,
            plan=target.plan.id,
            billing=target.billing,
            plan_price_minor=target.plan_price_minor,
            addons=holdings_of(catalog, membership, target.addons),
        )
        scheduled_after = scheduled
    elif membership.scheduled_change is not None:
        scheduled_after = carry_into_scheduled(
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
