"""Issue 9, part B: the amended billing-rules.md §4–§10, one behaviour per test."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.domain.catalog import Policy
from bridge.domain.errors import NotEligible
from bridge.domain.lifecycle import renew
from bridge.domain.membership import Holding, Membership, Selection
from bridge.domain.periods import ONCE, BillingOption
from bridge.domain.proration import apply_quote, quote_change
from tests.unit.domain.builders import RESTART, YEAR, at, catalog_of, membership
from tests.unit.domain.test_changes import GROUPED, grouped

WITH_SERVICES = catalog_of(
    {
        **GROUPED,
        "lifetime": {**GROUPED["lifetime"], "addons": ["migration"]},
    }
)


def lifetime_member() -> Membership:
    return replace(membership("lifetime", 90000, ONCE), period_end=None)


def trialing(plan: str, price: int, **fields: object) -> Membership:
    member = membership(plan, price, end="2026-04-15", status="trialing", paid=0, **fields)
    return replace(member, trial_end=at("2026-04-15"))


# 1. A one-time plan buying a one-time service ------------------------------------------------


def test_a_one_time_plan_buys_a_one_time_service_in_full_with_no_next_billing():
    member = lifetime_member()
    quote = quote_change(
        WITH_SERVICES,
        RESTART,
        member,
        Selection("lifetime", addons={"migration": 1}),
        at("2026-04-11"),
    )
    assert (quote.kind, quote.timing) == ("addon", "immediate")
    assert [(line.type, line.amount_minor) for line in quote.lines] == [("service", 4900)]
    assert (quote.totals.credit_minor, quote.totals.due_now_minor) == (0, 4900)
    assert quote.next_billing is None
    after = apply_quote(member, quote)
    assert (after.plan, after.period_end, after.paid_value_minor) == ("lifetime", None, 90000)


# 2. Next billing is the next invoice ----------------------------------------------------------


def test_next_billing_at_trial_end_carries_the_setup_fee_when_the_plan_does_not_change():
    member = trialing("premium", 6000)
    quote = quote_change(
        grouped(), RESTART, member, Selection("premium", addons={"extra-disk": 1}), at("2026-04-05")
    )
    assert quote.next_billing is not None
    # Premium 60.00 + Extra disk 5.00 + the setup fee 25.00 the first invoice carries
    assert (quote.next_billing.date, quote.next_billing.amount_minor) == (at("2026-04-15"), 9000)


def test_next_invoice_is_what_the_renewal_invoices_for_every_kind_of_membership():
    from bridge.domain.invoicing import next_invoice

    cat = grouped()
    scheduled = apply_quote(
        membership("premium", 6000, addons={"extra-disk": Holding(2, 500)}, paid=7000),
        quote_change(
            cat,
            RESTART,
            membership("premium", 6000, addons={"extra-disk": Holding(2, 500)}, paid=7000),
            Selection("free"),
            at("2026-04-11"),
        ),
    )
    cases = [
        membership("premium", 6000, balance_minor=1500),
        trialing("premium", 6000, addons={"extra-disk": Holding(1, 500)}),
        trialing("free", 0),
        scheduled,
        membership("free", 0, setup_fee_paid_minor=0),
    ]
    for member in cases:
        assert member.period_end is not None
        renewal = renew(cat, member, member.period_end)
        assert renewal is not None
        invoice = next_invoice(cat, member)
        assert invoice is not None
        assert invoice.date == member.period_end
        assert invoice.amount_minor == sum(line.amount_minor for line in renewal.lines)
        assert invoice.covered_by_balance_minor == renewal.totals.balance_applied_minor
    assert next_invoice(cat, lifetime_member()) is None
    assert next_invoice(cat, membership("premium", 6000, status="cancelled")) is None


def test_next_billing_of_an_end_of_term_change_to_a_plan_with_a_setup_fee_includes_it():
    cat = catalog_of(
        {
            **GROUPED,
            "premium": {**GROUPED["premium"], "variations": [], "price": "60.00"},
            "pro": {"name": "Pro", "kind": "plan", "price": "90.00", "group": "High End"},
        }
    )
    quote = quote_change(
        cat, RESTART, membership("pro", 9000), Selection("premium"), at("2026-04-11")
    )
    assert quote.timing == "end_of_term"
    assert quote.next_billing is not None and quote.next_billing.amount_minor == 8500


# 3. paid_value from the items in force ---------------------------------------------------------

QUARTERLY = catalog_of(
    {
        "basic": {"name": "Basic", "kind": "plan", "price": "28.00", "addons": ["backup"]},
        "backup": {
            "name": "Backup",
            "kind": "package",
            "price": "1.00",
            "billing": {"every": 3, "unit": "month"},
        },
    }
)


def test_paid_value_stays_exact_after_eleven_addon_purchases():
    member = membership("basic", 2800)
    for day in range(2, 13):
        quantity = member.addon_quantities().get("backup", 0) + 1
        quote = quote_change(
            QUARTERLY,
            RESTART,
            member,
            Selection("basic", addons={"backup": quantity}),
            at(f"2026-04-{day:02d}"),
        )
        member = apply_quote(member, quote)
    # 28.00 + 11 × 1.00 a quarter = 28.00 + 3.666… a month, rounded once: 31.67 (not 28.00 + 11 × 0.33)
    assert member.paid_value_minor == 3167
    assert quote.next_billing is not None and quote.next_billing.amount_minor == 3167


def test_a_paid_renewal_keeps_addons_bought_while_it_was_open():
    from bridge.domain.lifecycle import renewal_paid

    renewal = renew(QUARTERLY, membership("basic", 2800), at("2026-05-01"))
    assert renewal is not None and renewal.membership.status == "past_due"
    # the operator adds two Backups while the renewal invoice is still open
    open_renewal = replace(renewal.membership, addons={"backup": Holding(2, 100)})
    paid = renewal_paid(open_renewal, QUARTERLY)
    assert (paid.status, paid.paid_value_minor) == ("active", 2867)


# 4. Trial → one-time plan ------------------------------------------------------------------------


def test_a_trial_moving_to_a_one_time_plan_ends_the_trial_and_charges_the_price_now():
    quote = quote_change(
        grouped(), RESTART, trialing("free", 0), Selection("lifetime"), at("2026-04-05")
    )
    assert (quote.kind, quote.timing) == ("upgrade", "immediate")
    assert [(line.type, line.amount_minor) for line in quote.lines] == [("plan", 90000)]
    assert (quote.totals.credit_minor, quote.totals.due_now_minor) == (0, 90000)
    assert quote.next_billing is None
    assert quote.terms is not None
    assert (quote.terms.status, quote.terms.trial_end, quote.terms.period_end) == (
        "active",
        None,
        None,
    )
    assert quote.terms.paid_value_minor == 90000


# 5. An added add-on the current plan does not offer waits with the plan part ---------------------


def test_an_added_addon_the_current_plan_does_not_offer_waits_for_the_new_plan():
    cat = catalog_of(
        {
            "pro": {"name": "Pro", "kind": "plan", "price": "90.00"},
            "premium": {
                "name": "Premium",
                "kind": "plan",
                "price": "60.00",
                "addons": ["extra-disk"],
            },
            "extra-disk": {"name": "Extra disk", "kind": "package", "price": "5.00"},
        }
    )
    quote = quote_change(
        cat,
        RESTART,
        membership("pro", 9000),
        Selection("premium", addons={"extra-disk": 1}),
        at("2026-04-11"),
    )
    assert (quote.kind, quote.timing) == ("downgrade", "end_of_term")
    assert quote.lines == () and quote.totals.due_now_minor == 0
    assert quote.scheduled is not None and quote.scheduled.addon_quantities() == {"extra-disk": 1}
    assert quote.next_billing is not None and quote.next_billing.amount_minor == 6500


# 6. past_due ---------------------------------------------------------------------------------------


def test_a_past_due_membership_is_asked_to_pay_the_open_renewal_first():
    with pytest.raises(NotEligible) as info:
        quote_change(
            grouped(),
            RESTART,
            membership("premium", 6000, status="past_due"),
            Selection("free"),
            at("2026-04-11"),
        )
    assert info.value.code == "payment_due"
    assert "renewal invoice" in info.value.message and "pay" in info.value.message


# 7. One refusal order across the plan and every add-on ------------------------------------------


@pytest.mark.parametrize(
    ("member", "selection", "code"),
    [
        # an add-on's unknown product comes before the plan's inactive
        (membership("free", 0), Selection("legacy", addons={"ghost": 1}), "unknown_product"),
        # an add-on's inactive comes before the plan's other_group
        (membership("free", 0), Selection("basic", addons={"old-pack": 1}), "inactive"),
        (lifetime_member(), Selection("premium", BillingOption(1, "week")), "perpetual_plan"),
        (
            membership("free", 0),
            Selection("free", addons={"extra-disk": 1000}),
            "not_offered_with_plan",
        ),
        (
            membership("free", 0),
            Selection("premium", addons={"extra-disk": 1000}),
            "invalid_quantity",
        ),
        (
            membership("free", 0, status="past_due"),
            Selection("ghost", addons={"extra-disk": -1}),
            "payment_due",
        ),
        (
            membership("free", 0, status="cancelled"),
            Selection("ghost"),
            "membership_inactive",
        ),
        (
            membership("free", 0),
            Selection("premium", BillingOption(1, "week"), addons={"extra-disk": "1"}),  # type: ignore[dict-item]
            "billing_not_offered",
        ),
    ],
)
def test_the_first_reason_in_the_contract_order_is_given(member, selection, code):  # type: ignore[no-untyped-def]
    with pytest.raises(NotEligible) as info:
        quote_change(grouped(), RESTART, member, selection, at("2026-04-11"))
    assert info.value.code == code


# 9. A one-time service already held is not charged again ---------------------------------------


def test_an_immediate_plan_change_does_not_charge_a_held_one_time_service_again():
    member = membership("premium", 6000, addons={"migration": Holding(1, 4900)})
    quote = quote_change(grouped(), RESTART, member, Selection("premium", YEAR), at("2026-04-11"))
    assert quote.timing == "immediate"
    assert [line.type for line in quote.lines] == ["plan", "credit"]
    more = quote_change(
        grouped(),
        RESTART,
        member,
        Selection("premium", YEAR, addons={"migration": 2}),
        at("2026-04-11"),
    )
    assert [(line.type, line.amount_minor) for line in more.lines if line.type == "service"] == [
        ("service", 4900)
    ]


# 10. Paid → free follows the downgrade policy, whatever the intervals ----------------------------

FREE_YEARLY = catalog_of(
    {
        "free": {
            "name": "Free",
            "kind": "plan",
            "price": "0.00",
            "variations": [{"billing": {"every": 1, "unit": "year"}, "price": "0.00"}],
        },
        "premium": {"name": "Premium", "kind": "plan", "price": "60.00"},
    }
)


@pytest.mark.parametrize(
    ("policy", "timing", "credit"),
    [(RESTART, "end_of_term", 0), (Policy(downgrade="immediate"), "immediate", 4000)],
)
def test_a_move_from_a_paid_plan_to_a_free_one_follows_the_downgrade_policy(policy, timing, credit):  # type: ignore[no-untyped-def]
    quote = quote_change(
        FREE_YEARLY, policy, membership("premium", 6000), Selection("free", YEAR), at("2026-04-11")
    )
    assert (quote.kind, quote.timing, quote.totals.credit_minor) == ("downgrade", timing, credit)


def test_a_free_plan_monthly_to_yearly_is_still_immediate():
    quote = quote_change(
        FREE_YEARLY, RESTART, membership("free", 0), Selection("free", YEAR), at("2026-04-11")
    )
    assert (quote.kind, quote.timing) == ("crossgrade", "immediate")
