"""Classification, timing, proration and eligibility beyond the worked examples."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.domain.catalog import Policy
from bridge.domain.eligibility import eligible_addons, eligible_plans, explain
from bridge.domain.errors import NotEligible
from bridge.domain.limits import Limits
from bridge.domain.membership import Holding, Selection, Site, Usage
from bridge.domain.periods import ONCE, BillingOption
from bridge.domain.proration import apply_quote, quote_change
from tests.unit.domain.builders import (
    KEEP,
    MONTH,
    RESTART,
    YEAR,
    at,
    catalog_of,
    membership,
    worked_catalog,
)

GROUPED = {
    "free": {
        "name": "Free",
        "kind": "plan",
        "price": "0.00",
        "group": "High End",
        "order": 1,
        "limits": {"posts": {"post": 5}, "disk_mb": 100, "users": 1, "sites": 1},
    },
    "basic": {
        "name": "Basic",
        "kind": "plan",
        "price": "30.00",
        "order": 2,
        "limits": {"posts": {"post": 10}},
    },
    "premium": {
        "name": "Premium",
        "kind": "plan",
        "price": "60.00",
        "group": "High End",
        "order": 3,
        "setup_fee": "25.00",
        "addons": ["extra-disk", "migration"],
        "variations": [{"billing": {"every": 1, "unit": "year"}, "price": "600.00"}],
        "limits": {"posts": {"post": "unlimited"}},
    },
    "legacy": {
        "name": "Legacy",
        "kind": "plan",
        "price": "20.00",
        "group": "High End",
        "active": False,
    },
    "lifetime": {
        "name": "Lifetime",
        "kind": "plan",
        "price": "900.00",
        "billing": "once",
        "group": "High End",
        "order": 4,
    },
    "extra-disk": {
        "name": "Extra disk",
        "kind": "package",
        "price": "5.00",
        "limits": {"disk_mb": 1024},
    },
    "migration": {"name": "Site migration", "kind": "service", "price": "49.00", "billing": "once"},
    "old-pack": {"name": "Old pack", "kind": "package", "price": "3.00", "active": False},
}


def grouped():  # type: ignore[no-untyped-def]
    return catalog_of(GROUPED)


def test_free_is_offered_premium_and_never_basic():
    offers = eligible_plans(grouped(), membership("free", 0))
    assert [o.product.id for o in offers] == ["free", "premium", "lifetime"]
    assert [o.current for o in offers] == [True, False, False]


def test_addons_follow_the_selected_plan():
    cat = grouped()
    assert eligible_addons(cat, membership("free", 0), "free") == []
    assert [a.product.id for a in eligible_addons(cat, membership("free", 0), "premium")] == [
        "extra-disk",
        "migration",
    ]


@pytest.mark.parametrize(
    ("member", "selection", "code"),
    [
        (membership("free", 0), Selection("ghost"), "unknown_product"),
        (membership("free", 0), Selection("extra-disk"), "unknown_product"),
        (membership("free", 0), Selection("legacy"), "inactive"),
        (membership("free", 0), Selection("basic"), "other_group"),
        (membership("free", 0), Selection("premium", addons={"old-pack": 1}), "inactive"),
        (
            membership("free", 0),
            Selection("free", addons={"extra-disk": 1}),
            "not_offered_with_plan",
        ),
        (
            membership("free", 0),
            Selection("premium", addons={"extra-disk": -1}),
            "invalid_quantity",
        ),
        (
            membership("free", 0),
            Selection("premium", addons={"extra-disk": 1.5}),
            "invalid_quantity",
        ),
        (membership("lifetime", 90000, ONCE), Selection("premium"), "perpetual_plan"),
        (membership("free", 0, status="cancelled"), Selection("premium"), "membership_inactive"),
        (
            membership("free", 0),
            Selection("premium", BillingOption(1, "week")),
            "billing_not_offered",
        ),
    ],
)
def test_each_ineligible_selection_has_a_reason(member, selection, code):  # type: ignore[no-untyped-def]
    with pytest.raises(NotEligible) as info:
        quote_change(grouped(), RESTART, member, selection, at("2026-04-11"))
    assert info.value.code == code
    assert info.value.message.endswith(".")


def test_other_group_names_both_groups():
    with pytest.raises(NotEligible) as info:
        quote_change(
            grouped(), RESTART, membership("free", 0), Selection("basic"), at("2026-04-11")
        )
    assert "no plan group" in info.value.message and "'High End'" in info.value.message


def test_explain_tells_why_a_product_is_or_is_not_offered():
    cat = grouped()
    assert explain(cat, membership("free", 0), "premium").offered
    basic = explain(cat, membership("free", 0), "basic")
    assert (basic.offered, basic.code) == (False, "other_group")
    assert explain(cat, membership("premium", 6000), "extra-disk").offered


def test_owned_retired_addon_stays_at_its_agreed_price():
    member = membership("premium", 6000, paid=6300, addons={"old-pack": Holding(1, 300)})
    cat = catalog_of(
        {**GROUPED, "premium": {**GROUPED["premium"], "addons": ["extra-disk", "old-pack"]}}
    )
    quote = quote_change(
        cat, RESTART, member, Selection("premium", YEAR, addons={"old-pack": 1}), at("2026-04-11")
    )
    old_pack = next(line for line in quote.lines if line.product == "old-pack")
    assert old_pack.amount_minor == 3600  # 3.00 a month agreed, × 12 on the yearly plan


def test_grandfathered_price_is_kept_and_classifies_the_change():
    # Premium is 60.00 today but this customer agreed 40.00; Basic at 30.00 is still a downgrade,
    # and buying an add-on keeps the agreed plan price.
    member = membership("premium", 4000)
    cat = worked_catalog()
    assert (
        quote_change(cat, RESTART, member, Selection("basic"), at("2026-04-11")).kind == "downgrade"
    )
    addon = quote_change(
        cat, RESTART, member, Selection("premium", addons={"extra-disk": 1}), at("2026-04-11")
    )
    assert addon.next_billing is not None and addon.next_billing.amount_minor == 4500
    assert eligible_plans(cat, member)[1].options[0].price_minor == 4000


def test_addon_on_a_yearly_plan_is_priced_for_the_year_and_prorated():
    member = membership("premium", 60000, YEAR, "2026-01-01", "2027-01-01")
    quote = quote_change(
        worked_catalog(),
        RESTART,
        member,
        Selection("premium", addons={"extra-disk": 1}),
        at("2026-07-02T12:00"),
    )
    (line,) = quote.lines
    assert line.inputs["period_ratio"] == "12/1"
    # 60.00 a year × 182.5/365 of the year left
    assert line.inputs["fraction"] == "1/2"
    assert line.amount_minor == 3000
    assert quote.next_billing is not None and quote.next_billing.amount_minor == 66000


def test_keep_policy_still_restarts_when_the_interval_changes():
    quote = quote_change(
        worked_catalog(), KEEP, membership(), Selection("premium", YEAR), at("2026-04-11")
    )
    plan_line = quote.lines[0]
    assert plan_line.amount_minor == 60000 and plan_line.inputs["fraction"] == "1/1"
    assert quote.terms is not None and quote.terms.anchor == at("2026-04-11")


def test_trial_changes_apply_at_once_and_charge_only_one_time_services():
    member = replace(
        membership("free", 0, end="2026-04-15", status="trialing"), trial_end=at("2026-04-15")
    )
    quote = quote_change(
        grouped(), RESTART, member, Selection("premium", addons={"migration": 1}), at("2026-04-05")
    )
    assert quote.timing == "immediate"
    assert [(line.type, line.amount_minor) for line in quote.lines] == [("service", 4900)]
    assert quote.totals.credit_minor == 0
    assert quote.next_billing is not None
    # first invoice at trial end: Premium 60.00 + setup fee difference 25.00
    assert (quote.next_billing.date, quote.next_billing.amount_minor) == (at("2026-04-15"), 8500)
    assert quote.terms is not None and quote.terms.status == "trialing"


def test_free_to_paid_is_an_upgrade_with_no_credit_and_the_setup_fee():
    quote = quote_change(
        grouped(), RESTART, membership("free", 0), Selection("premium"), at("2026-04-11")
    )
    assert (quote.kind, quote.totals.credit_minor) == ("upgrade", 0)
    assert [(line.type, line.amount_minor) for line in quote.lines] == [
        ("plan", 6000),
        ("setup_fee", 2500),
    ]
    assert quote.totals.due_now_minor == 8500


def test_setup_fee_difference_is_only_what_was_not_paid_before():
    member = membership("free", 0, setup_fee_paid_minor=1000)
    quote = quote_change(grouped(), RESTART, member, Selection("premium"), at("2026-04-11"))
    setup = next(line for line in quote.lines if line.type == "setup_fee")
    assert setup.amount_minor == 1500
    assert setup.inputs["setup_fee_paid"] == "10.00"


def test_blocked_downgrade_tells_the_owner_what_to_do():
    sites = (Site(2, "Blog 2", Usage(posts={"post": 15})),)
    member = membership("premium", 6000, sites=sites)
    quote = quote_change(worked_catalog(), RESTART, member, Selection("basic"), at("2026-04-11"))
    (block,) = quote.blocked
    assert (
        block.message
        == "Blog 2 has 15 published posts; Basic allows 10. Move 5 posts to the trash to downgrade."
    )
    assert (block.site_id, block.limit, block.usage, block.allowed) == (2, "posts.post", 15, 10)
    assert not quote.committable


def test_over_quota_allow_lets_the_downgrade_through_with_warnings():
    sites = (Site(2, "Blog 2", Usage(disk_mb=3000)), Site(3, "Blog 3"))
    member = membership("premium", 6000, sites=sites)
    quote = quote_change(
        worked_catalog(), Policy(over_quota="allow"), member, Selection("basic"), at("2026-04-11")
    )
    assert quote.blocked == ()
    assert {w.limit for w in quote.warnings} == {"disk_mb", "sites"}
    sites_warning = next(w for w in quote.warnings if w.limit == "sites")
    assert sites_warning.site_id is None


def test_site_override_is_used_by_the_preflight():
    sites = (Site(2, "Blog 2", Usage(posts={"post": 15}), overrides=Limits(posts={"post": 20})),)
    quote = quote_change(
        worked_catalog(),
        RESTART,
        membership("premium", 6000, sites=sites),
        Selection("basic"),
        at("2026-04-11"),
    )
    assert quote.blocked == ()


def test_zero_decimal_currency_prorates_to_whole_yen():
    cat = catalog_of(
        {
            "basic": {"name": "Basic", "kind": "plan", "price": "3000"},
            "premium": {"name": "Premium", "kind": "plan", "price": "6500"},
        },
        currency="JPY",
    )
    member = membership("basic", 3000, end="2026-05-01")
    quote = quote_change(cat, KEEP, member, Selection("premium"), at("2026-04-08"))
    # 23 of 30 days left: 6500 × 23/30 = 4983.33 → 4983; credit 3000 × 23/30 = 2300
    assert [line.amount_minor for line in quote.lines] == [4983, -2300]
    assert quote.totals.due_now_minor == 2683


def test_removing_an_addon_is_scheduled_and_buying_one_keeps_a_scheduled_change():
    cat = worked_catalog()
    member = membership("premium", 6000, paid=6500, addons={"extra-disk": Holding(1, 500)})
    removal = quote_change(cat, RESTART, member, Selection("premium", addons={}), at("2026-04-11"))
    assert (removal.kind, removal.timing) == ("addon", "end_of_term")
    downgrade = quote_change(cat, RESTART, member, Selection("basic"), at("2026-04-11"))
    scheduled = apply_quote(member, downgrade)
    assert scheduled.scheduled_change is not None and scheduled.scheduled_change.plan == "basic"
    more = quote_change(
        cat, RESTART, scheduled, Selection("premium", addons={"extra-disk": 2}), at("2026-04-16")
    )
    assert more.timing == "immediate"
    after = apply_quote(scheduled, more)
    assert after.scheduled_change is not None and after.scheduled_change.plan == "basic"
    assert after.scheduled_change.addon_quantities() == {"extra-disk": 2}


def test_plan_end_of_term_with_an_added_addon_is_mixed():
    cat = worked_catalog()
    member = membership("premium", 60000, YEAR, "2026-01-01", "2027-01-01")
    quote = quote_change(
        cat,
        RESTART,
        member,
        Selection("premium", MONTH, addons={"extra-disk": 1}),
        at("2026-07-02T12:00"),
    )
    assert quote.timing == "mixed"
    assert [line.type for line in quote.lines] == ["addon"]
    assert quote.scheduled is not None and quote.scheduled.addon_quantities() == {"extra-disk": 1}
    assert quote.next_billing is not None and quote.next_billing.amount_minor == 6500


def test_moving_to_a_one_time_plan_is_an_immediate_upgrade_without_next_billing():
    quote = quote_change(
        grouped(), RESTART, membership("premium", 6000), Selection("lifetime"), at("2026-04-11")
    )
    assert (quote.kind, quote.timing, quote.next_billing) == ("upgrade", "immediate", None)
    assert quote.totals.credit_minor == 4000


def test_applying_a_quote_bumps_the_version_and_starts_the_new_period_at_the_quote_instant():
    member = membership()
    quote = quote_change(worked_catalog(), RESTART, member, Selection("premium"), at("2026-04-11"))
    after = apply_quote(member, quote)
    assert after.version == member.version + 1
    assert (after.plan, after.period_start, after.period_end) == (
        "premium",
        at("2026-04-11"),
        at("2026-05-11"),
    )
    assert after.paid_value_minor == 6000


def test_instants_must_be_aware_utc():
    from datetime import datetime

    with pytest.raises(ValueError, match="UTC"):
        quote_change(
            worked_catalog(), RESTART, membership(), Selection("premium"), datetime(2026, 4, 11)
        )
