"""Renewals, dunning, cancellation (§7) and the limits merge (§2)."""

from __future__ import annotations

from datetime import timedelta

from bridge.domain.lifecycle import (
    cancel_at_period_end,
    cancel_now,
    fall_back,
    grace_over,
    renew,
    start_membership,
)
from bridge.domain.limits import UNLIMITED, Limits, apply_overrides, merge_limits
from bridge.domain.membership import Holding, Selection, Site, Usage
from bridge.domain.proration import apply_quote, quote_change
from tests.unit.domain.builders import RESTART, at, membership, worked_catalog
from tests.unit.domain.test_changes import grouped


def test_nothing_renews_before_period_end():
    assert renew(worked_catalog(), membership(), at("2026-04-30T23:59")) is None


def test_renewal_rolls_one_period_from_the_anchor_and_uses_the_balance_first():
    member = membership(balance_minor=1000, start="2026-01-31", end="2026-02-28")
    from dataclasses import replace

    member = replace(member, anchor=at("2026-01-31"))
    renewal = renew(worked_catalog(), member, at("2026-02-28"))
    assert renewal is not None
    assert (renewal.membership.period_start, renewal.membership.period_end) == (
        at("2026-02-28"),
        at("2026-03-31"),
    )
    assert (renewal.totals.balance_applied_minor, renewal.totals.due_now_minor) == (1000, 2000)
    assert renewal.membership.status == "past_due"  # unpaid at period end
    assert renewal.membership.balance_minor == 0


def test_renewal_applies_the_scheduled_change_and_warns_about_usage_over_the_new_limits():
    cat = worked_catalog()
    sites = (Site(2, "Blog 2", Usage(posts={"post": 15})),)
    member = membership("premium", 6000, sites=sites)
    downgrade = quote_change(cat, RESTART, member, Selection("basic"), at("2026-04-11"))
    assert downgrade.blocked  # blocked by default ...
    from bridge.domain.catalog import Policy

    allowed = quote_change(
        cat, Policy(over_quota="allow"), member, Selection("basic"), at("2026-04-11")
    )
    scheduled = apply_quote(member, allowed)
    renewal = renew(cat, scheduled, at("2026-05-01"))
    assert renewal is not None and renewal.applied_scheduled
    assert renewal.membership.plan == "basic" and renewal.membership.scheduled_change is None
    assert [line.amount_minor for line in renewal.lines] == [3000]
    assert (
        renewal.warnings[0].limit == "posts.post"
    )  # ... and when it takes effect, it still happens


def test_roll_over_is_a_no_op_the_second_time():
    cat = worked_catalog()
    first = renew(cat, membership(balance_minor=5000), at("2026-05-01"))
    assert first is not None and first.membership.status == "active"
    assert renew(cat, first.membership, at("2026-05-01")) is None


def test_past_due_falls_back_after_the_grace_period_and_keeps_nothing_unpaid():
    cat = grouped()
    renewal = renew(cat, membership("premium", 6000), at("2026-05-01"))
    assert renewal is not None
    late = renewal.membership
    assert not grace_over(late, timedelta(days=7), at("2026-05-07"))
    assert grace_over(late, timedelta(days=7), at("2026-05-08"))
    fallen = fall_back(cat, late, "free", at("2026-05-08"))
    assert (fallen.plan, fallen.status, fallen.addons, fallen.paid_value_minor) == (
        "free",
        "active",
        {},
        0,
    )


def test_cancel_now_moves_the_unused_value_to_the_balance():
    fallen, credit = cancel_now(grouped(), membership("premium", 6000), at("2026-04-11"), "free")
    assert credit == 4000
    assert (fallen.plan, fallen.balance_minor) == ("free", 4000)


def test_cancel_at_period_end_schedules_the_fallback_plan():
    member = cancel_at_period_end(grouped(), membership("premium", 6000), "free")
    assert member.scheduled_change is not None
    assert (member.scheduled_change.plan, member.scheduled_change.effective_at) == (
        "free",
        at("2026-05-01"),
    )
    assert member.scheduled_change.cancels


def test_trial_end_starts_the_first_paid_period_with_the_setup_fee():
    cat = grouped()
    trial_cat_member = start_membership(cat, "premium", None, at("2026-04-01"))
    assert trial_cat_member.status == "active"  # premium has no trial days in this catalog
    from dataclasses import replace

    trialing = replace(
        trial_cat_member, status="trialing", trial_end=at("2026-04-15"), period_end=at("2026-04-15")
    )
    renewal = renew(cat, trialing, at("2026-04-15"))
    assert renewal is not None
    assert [line.type for line in renewal.lines] == ["plan", "setup_fee"]
    assert renewal.membership.period_end == at("2026-05-15")


def test_limits_merge_adds_packages_and_unlimited_wins():
    plan = Limits(disk_mb=100, posts={"post": 10, "page": 5}, users=1)
    disk = Limits(disk_mb=1024, posts={"post": 5})
    visits = Limits(visits=UNLIMITED)
    merged = merge_limits(plan, [(disk, 2), (visits, 1)])
    assert merged.disk_mb == 100 + 2048
    assert merged.posts == {"post": 20, "page": 5}
    assert merged.visits == UNLIMITED  # the plan omits it: unlimited
    assert merged.users == 1


def test_overrides_replace_key_by_key_and_post_type_by_post_type():
    merged = merge_limits(Limits(disk_mb=100, posts={"post": 10, "page": 5}, users=1), [])
    overridden = apply_overrides(merged, Limits(users=3, posts={"page": UNLIMITED}))
    assert (overridden.users, overridden.disk_mb) == (3, 100)
    assert overridden.posts == {"post": 10, "page": UNLIMITED}


def test_quote_limits_include_the_packages_of_the_selection():
    quote = quote_change(
        worked_catalog(),
        RESTART,
        membership(),
        Selection("basic", addons={"extra-disk": 2}),
        at("2026-04-11"),
    )
    assert quote.limits.disk_mb == 1024 + 2048
    member = membership(paid=3500, addons={"extra-disk": Holding(1, 500)})
    assert member.addon_quantities() == {"extra-disk": 1}
