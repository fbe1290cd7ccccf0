"""billing-rules.md §11: the nine public worked examples, table-driven."""

from __future__ import annotations

import pytest

from bridge.domain.catalog import Policy
from bridge.domain.membership import Holding, Selection
from bridge.domain.proration import apply_quote, quote_change
from tests.unit.domain.builders import KEEP, MONTH, RESTART, YEAR, at, membership, worked_catalog

# name, policy, membership, selection, at, kind, timing, credit, due_now, balance_after,
# next billing (date, amount, covered), scheduled effective_at
EXAMPLES = [
    (
        "1 upgrade to Premium",
        RESTART,
        membership(),
        Selection("premium"),
        "2026-04-11",
        "upgrade",
        "immediate",
        2000,
        4000,
        0,
        ("2026-05-11", 6000, 0),
        None,
    ),
    (
        "2 upgrade with policy keep",
        KEEP,
        membership(),
        Selection("premium"),
        "2026-04-11",
        "upgrade",
        "immediate",
        2000,
        2000,
        0,
        ("2026-05-01", 6000, 0),
        None,
    ),
    (
        "3 downgrade at end of term",
        RESTART,
        membership("premium", 6000),
        Selection("basic"),
        "2026-04-11",
        "downgrade",
        "end_of_term",
        0,
        0,
        0,
        ("2026-05-01", 3000, 0),
        "2026-05-01",
    ),
    (
        "4 monthly to yearly is immediate",
        RESTART,
        membership(),
        Selection("premium", YEAR),
        "2026-04-11",
        "upgrade",
        "immediate",
        2000,
        58000,
        0,
        ("2027-04-11", 60000, 0),
        None,
    ),
    (
        "4 same under keep",
        KEEP,
        membership(),
        Selection("premium", YEAR),
        "2026-04-11",
        "upgrade",
        "immediate",
        2000,
        58000,
        0,
        ("2027-04-11", 60000, 0),
        None,
    ),
    (
        "5 add one Extra disk",
        RESTART,
        membership(),
        Selection("basic", addons={"extra-disk": 1}),
        "2026-04-11",
        "addon",
        "immediate",
        0,
        333,
        0,
        ("2026-05-01", 3500, 0),
        None,
    ),
    (
        "7 yearly to monthly at end of term",
        RESTART,
        membership("premium", 60000, YEAR, "2026-01-01", "2027-01-01"),
        Selection("premium", MONTH),
        "2026-07-02T12:00",
        "crossgrade",
        "end_of_term",
        0,
        0,
        0,
        ("2027-01-01", 6000, 0),
        "2027-01-01",
    ),
    (
        "8 immediate downgrade keeps the credit",
        Policy(downgrade="immediate"),
        membership("premium", 6000),
        Selection("basic"),
        "2026-04-11",
        "downgrade",
        "immediate",
        4000,
        0,
        1000,
        ("2026-05-11", 3000, 1000),
        None,
    ),
    (
        "9 second change in one period",
        RESTART,
        membership(paid=3500, addons={"extra-disk": Holding(1, 500)}),
        Selection("premium", addons={"extra-disk": 1}),
        "2026-04-21",
        "upgrade",
        "immediate",
        1167,
        5333,
        0,
        ("2026-05-21", 6500, 0),
        None,
    ),
]


@pytest.mark.parametrize(
    (
        "policy",
        "member",
        "selection",
        "when",
        "kind",
        "timing",
        "credit",
        "due",
        "balance_after",
        "nxt",
        "scheduled",
    ),
    [pytest.param(*row[1:], id=row[0]) for row in EXAMPLES],
)
def test_worked_example(
    policy, member, selection, when, kind, timing, credit, due, balance_after, nxt, scheduled
):  # type: ignore[no-untyped-def]
    quote = quote_change(worked_catalog(), policy, member, selection, at(when))
    assert (quote.kind, quote.timing) == (kind, timing)
    assert quote.totals.credit_minor == credit
    assert quote.totals.due_now_minor == due
    assert quote.totals.balance_after_minor == balance_after
    assert quote.next_billing is not None
    assert (
        quote.next_billing.date,
        quote.next_billing.amount_minor,
        quote.next_billing.covered_by_balance_minor,
    ) == (at(nxt[0]), nxt[1], nxt[2])
    assert (quote.scheduled.effective_at if quote.scheduled else None) == (
        at(scheduled) if scheduled else None
    )
    assert not quote.blocked


def test_same_plan_same_billing_no_addons_is_no_change_with_a_message():
    quote = quote_change(
        worked_catalog(), RESTART, membership(), Selection("basic"), at("2026-04-11")
    )
    assert quote.kind == "no_change"
    assert quote.timing is None
    assert quote.lines == ()
    assert quote.message == "This change leaves your membership as it is."
    assert not quote.committable


def test_example_nine_follows_from_example_five_applied():
    catalog = worked_catalog()
    first = quote_change(
        catalog,
        RESTART,
        membership(),
        Selection("basic", addons={"extra-disk": 1}),
        at("2026-04-11"),
    )
    after_five = apply_quote(membership(), first)
    assert after_five.paid_value_minor == 3500
    assert after_five.addons == {"extra-disk": Holding(1, 500)}
    second = quote_change(
        catalog,
        RESTART,
        after_five,
        Selection("premium", addons={"extra-disk": 1}),
        at("2026-04-21"),
    )
    # exactly the unused 10.00 of Basic plus 1.67 of the disk
    assert second.totals.credit_minor == 1167
    assert second.totals.due_now_minor == 5333
    assert [line.amount_minor for line in second.lines] == [6000, 500, -1167]


def test_example_one_lines_carry_their_formula_inputs():
    quote = quote_change(
        worked_catalog(), RESTART, membership(), Selection("premium"), at("2026-04-11")
    )
    plan_line, credit_line = quote.lines
    assert plan_line.inputs == {"price": "60.00", "quantity": 1, "fraction": "1/1"}
    assert (plan_line.period_start, plan_line.period_end) == (at("2026-04-11"), at("2026-05-11"))
    assert credit_line.description == "Unused time on Basic"
    assert credit_line.inputs == {
        "paid_value": "30.00",
        "seconds_left": 1728000,
        "seconds_in_period": 2592000,
        "fraction": "2/3",
    }
