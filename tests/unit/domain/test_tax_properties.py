"""Property tests with tax (billing-rules.md §12), in both modes, over the random worlds of
test_properties: every line's tax is within half a minor unit of its exact value (the credit's at
the rate its period was paid at), the exclusive tax line holds their sum, the invoice still adds
up, money is conserved gross, prices are untouched by tax, and over any sequence of changes,
renewals, payments and rate changes the ledger equals the balance and `tax_rate_paid` is the rate
of the invoice that started the period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.catalog import Policy
from bridge.domain.errors import NotEligible
from bridge.domain.lifecycle import renew, renewal_paid
from bridge.domain.membership import Membership, Selection
from bridge.domain.periods import BillingOption, boundary
from bridge.domain.proration import apply_quote, quote_change
from bridge.domain.quote import Quote
from bridge.domain.tax import Tax
from tests.unit.domain.test_properties import (
    SEQUENCE_CATALOG,
    SEQUENCE_PLANS,
    World,
    changes,
    items_in_force_value,
    worlds,
)

RATES = ["25", "11", "6", "20", "7.5", "0.1234", "0", "100"]
taxes = st.builds(
    Tax,
    st.sampled_from(["MVA", "PPN", "SST"]),
    st.sampled_from(RATES),
    st.sampled_from(["exclusive", "inclusive"]),
)
rates_paid = st.none() | st.sampled_from(RATES)


def exact_tax(amount_minor: int, rate: str | None, mode: str) -> Fraction:
    """The test's own exact tax of a line (before the one rounding)."""
    if rate is None:
        return Fraction(0)
    r = Fraction(rate)
    return amount_minor * r / (100 if mode == "exclusive" else 100 + r)


def quoted(w: World, tax: Tax | None, rate_paid: str | None) -> Quote | None:
    m = replace(w.membership, tax_rate_paid=rate_paid)
    try:
        return quote_change(w.catalog, w.policy, m, w.selection, w.at, tax)
    except NotEligible:
        return None


@given(worlds(), taxes, rates_paid)
def test_each_line_is_taxed_on_its_own_within_half_a_minor_unit(
    w: World, tax: Tax, rate_paid: str | None
) -> None:
    quote = quoted(w, tax, rate_paid)
    if quote is None:
        return
    priced = [line for line in quote.lines if line.type != "tax"]
    for line in priced:
        rate = rate_paid if line.type == "credit" else tax.rate
        assert line.tax_minor is not None
        assert abs(line.tax_minor - exact_tax(line.amount_minor, rate, tax.mode)) <= Fraction(1, 2)
    total = sum(line.tax_minor or 0 for line in priced)
    assert quote.tax is not None and quote.tax.amount_minor == total
    tax_lines = [line for line in quote.lines if line.type == "tax"]
    if tax.mode == "exclusive" and priced:
        assert quote.lines[-1].type == "tax" and len(tax_lines) == 1
        assert tax_lines[0].amount_minor == total
    else:
        assert tax_lines == []


@given(worlds(), taxes, rates_paid)
def test_a_taxed_invoice_adds_up_and_money_is_conserved_gross(
    w: World, tax: Tax, rate_paid: str | None
) -> None:
    quote = quoted(w, tax, rate_paid)
    if quote is None:
        return
    t = quote.totals
    balance = w.membership.balance_minor
    s = quote.lines_total_minor
    # quote-cli.md's formulas, unchanged, over the gross lines
    assert t.balance_applied_minor == min(balance, max(0, s))
    assert t.due_now_minor == max(0, s) - t.balance_applied_minor >= 0
    assert t.balance_after_minor == balance - t.balance_applied_minor + max(0, -s) >= 0

    def gross(line: Any) -> int:
        own_tax = line.tax_minor if tax.mode == "exclusive" else 0
        return int(line.amount_minor + own_tax)

    charges = sum(gross(line) for line in quote.lines if line.type not in ("credit", "tax"))
    credit = -sum(gross(line) for line in quote.lines if line.type == "credit")
    assert charges - credit == s
    assert charges == min(credit, charges) + t.balance_applied_minor + t.due_now_minor
    assert t.balance_after_minor == balance - t.balance_applied_minor + max(0, credit - charges)


@given(worlds(), taxes, rates_paid)
def test_tax_never_changes_a_price_and_inclusive_totals_are_the_untaxed_ones(
    w: World, tax: Tax, rate_paid: str | None
) -> None:
    taxed = quoted(w, tax, rate_paid)
    plain = quoted(w, None, rate_paid)
    if taxed is None or plain is None:
        assert taxed is None and plain is None
        return
    assert [(x.type, x.amount_minor) for x in taxed.lines if x.type != "tax"] == [
        (x.type, x.amount_minor) for x in plain.lines
    ]
    assert taxed.totals.credit_minor == plain.totals.credit_minor
    assert (taxed.next_billing is None) == (plain.next_billing is None)
    if tax.mode == "inclusive":
        assert taxed.totals == plain.totals
    if taxed.next_billing is not None and plain.next_billing is not None:
        assert taxed.next_billing.date == plain.next_billing.date
        tax_minor = taxed.next_billing.tax_minor
        assert tax_minor is not None and plain.next_billing.tax_minor is None
        extra = tax_minor if tax.mode == "exclusive" else 0
        assert taxed.next_billing.amount_minor == plain.next_billing.amount_minor + extra
        # each of at most 1 + add-ons + setup fee lines rounded once
        exact = exact_tax(plain.next_billing.amount_minor, tax.rate, tax.mode)
        assert abs(tax_minor - exact) <= Fraction(len(w.catalog.products) + 2, 2)


rate_changes = st.tuples(st.just("rate"), st.sampled_from(RATES))
steps = st.lists(
    st.one_of(changes, changes, st.just(("renew",)), st.just(("pay",)), rate_changes),
    min_size=1,
    max_size=20,
)


@given(
    steps,
    st.sampled_from(SEQUENCE_PLANS),
    st.integers(0, 5000),
    st.sampled_from([Policy(), Policy(anchor="keep"), Policy(downgrade="immediate")]),
    taxes,
    rates_paid,
)
def test_the_ledger_and_the_rate_paid_stay_exact_over_any_taxed_sequence(
    ops: list[tuple[Any, ...]],
    plan: str,
    opening: int,
    policy: Policy,
    tax: Tax,
    rate_paid: str | None,
) -> None:
    price = SEQUENCE_CATALOG.products[plan].price_minor
    start = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    month = BillingOption(1, "month")
    m = Membership(
        plan=plan,
        billing=month,
        plan_price_minor=price,
        status="active",
        anchor=start,
        period_start=start,
        period_end=boundary(start, month, 1),
        paid_value_minor=price,
        balance_minor=opening,
        tax_rate_paid=rate_paid,
    )
    ledger = [opening]
    now = start
    for op in ops:
        if op[0] == "rate":  # the rate may change; the mode is fixed (§12)
            tax = replace(tax, rate=op[1])
            continue
        if op[0] == "pay" or (op[0] == "renew" and m.status == "past_due"):
            if m.status == "past_due":
                m = renewal_paid(m, SEQUENCE_CATALOG)
            if op[0] == "pay":
                continue
        assert m.period_end is not None
        if op[0] == "renew":
            renewal = renew(SEQUENCE_CATALOG, m, m.period_end, tax)
            assert renewal is not None
            ledger.append(-renewal.totals.balance_applied_minor)
            now, m = m.period_end, renewal.membership
            assert m.tax_rate_paid == tax.rate
        else:
            _, plan_id, raw_billing, addons, share = op
            billing = (
                None
                if raw_billing is None
                else BillingOption(raw_billing["every"], raw_billing["unit"])
            )
            left = int((m.period_end - now).total_seconds())
            at = now + timedelta(seconds=int(left * share))
            try:
                quote = quote_change(
                    SEQUENCE_CATALOG, policy, m, Selection(plan_id, billing, addons), at, tax
                )
            except NotEligible as exc:
                assert exc.code in ("billing_not_offered", "not_offered_with_plan", "payment_due")
                continue
            if quote.kind == "no_change":
                continue
            s = quote.lines_total_minor
            ledger.append(max(0, -s) - min(m.balance_minor, max(0, s)))
            before = m
            now, m = at, apply_quote(m, quote)
            if m.period_start != before.period_start:
                assert m.tax_rate_paid == tax.rate  # a new period, paid at today's rate
            elif at != before.period_start:
                assert m.tax_rate_paid == before.tax_rate_paid  # only adds to the period
        assert m.balance_minor == sum(ledger) and m.balance_minor >= 0
        if m.status == "active":
            assert m.paid_value_minor == items_in_force_value(m), (op, m)
