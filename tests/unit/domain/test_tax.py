"""billing-rules.md §12: tax, with the public worked examples T1–T4 table-driven."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.domain.documents import quote_document
from bridge.domain.errors import CatalogInvalid
from bridge.domain.lifecycle import renew
from bridge.domain.membership import Holding, Selection
from bridge.domain.proration import apply_quote, quote_change
from bridge.domain.tax import Tax, line_tax, parse_rate, parse_tax
from tests.unit.domain.builders import (
    KEEP,
    RESTART,
    at,
    catalog_of,
    membership,
    worked_catalog,
)

MVA = Tax("MVA", "25", "exclusive")
PPN = Tax("PPN", "11", "inclusive")

# name, tax, tax_rate_paid, selection, lines as (type, amount, tax), due now, tax amount,
# next billing (date, amount, tax)
WORKED = [
    (
        "T1 example 1 with MVA 25 % exclusive",
        MVA,
        "25",
        Selection("premium"),
        [("plan", 6000, 1500), ("credit", -2000, -500), ("tax", 1000, None)],
        5000,
        1000,
        ("2026-05-11", 7500, 1500),
    ),
    (
        "T2 the credit at the 20 % its period was paid at",
        MVA,
        "20",
        Selection("premium"),
        [("plan", 6000, 1500), ("credit", -2000, -400), ("tax", 1100, None)],
        5100,
        1100,
        ("2026-05-11", 7500, 1500),
    ),
    (
        "T3 example 5 with PPN 11 % inclusive",
        PPN,
        "11",
        Selection("basic", addons={"extra-disk": 1}),
        [("addon", 333, 33)],
        333,
        33,
        ("2026-05-01", 3500, 347),
    ),
    (
        "T4 a period paid before tax was switched on credits no tax",
        MVA,
        None,
        Selection("premium"),
        [("plan", 6000, 1500), ("credit", -2000, 0), ("tax", 1500, None)],
        5500,
        1500,
        ("2026-05-11", 7500, 1500),
    ),
]


@pytest.mark.parametrize(
    ("name", "tax", "rate_paid", "selection", "lines", "due_now", "tax_amount", "next_billing"),
    WORKED,
    ids=[row[0] for row in WORKED],
)
def test_worked_tax_examples(
    name: str,
    tax: Tax,
    rate_paid: str | None,
    selection: Selection,
    lines: list[tuple[str, int, int | None]],
    due_now: int,
    tax_amount: int,
    next_billing: tuple[str, int, int],
) -> None:
    m = membership(tax_rate_paid=rate_paid)
    quote = quote_change(worked_catalog(), RESTART, m, selection, at("2026-04-11"), tax)
    assert [(line.type, line.amount_minor, line.tax_minor) for line in quote.lines] == lines
    assert quote.totals.due_now_minor == due_now
    assert quote.tax is not None and quote.tax.amount_minor == tax_amount
    assert quote.next_billing is not None
    date, amount, next_tax = next_billing
    assert (
        quote.next_billing.date,
        quote.next_billing.amount_minor,
        quote.next_billing.tax_minor,
    ) == (at(date), amount, next_tax)


def test_exclusive_credit_is_reported_net_and_its_tax_is_in_the_tax_line() -> None:
    quote = quote_change(
        worked_catalog(),
        RESTART,
        membership(tax_rate_paid="25"),
        Selection("premium"),
        at("2026-04-11"),
        MVA,
    )
    doc = quote_document(quote)
    assert doc["credit"] == "20.00"
    assert doc["tax"] == {"name": "MVA", "rate": "25", "mode": "exclusive", "amount": "10.00"}
    assert doc["lines"][-1] == {
        "type": "tax",
        "description": "MVA 25 %",
        "amount": "10.00",
        "inputs": {"rate": "25", "mode": "exclusive"},
    }
    assert [line.get("tax") for line in doc["lines"]] == ["15.00", "-5.00", None]
    assert doc["next_billing"] == {
        "date": "2026-05-11T00:00:00Z",
        "amount": "75.00",
        "covered_by_balance": "0.00",
        "tax": "15.00",
    }


def test_without_a_tax_the_quote_says_tax_null_and_no_line_carries_one() -> None:
    quote = quote_change(
        worked_catalog(), RESTART, membership(), Selection("premium"), at("2026-04-11")
    )
    doc = quote_document(quote)
    assert doc["tax"] is None
    assert all("tax" not in line for line in doc["lines"])
    assert "tax" not in doc["next_billing"]


def test_inclusive_credit_is_gross_and_no_tax_line_is_added() -> None:
    quote = quote_change(
        worked_catalog(),
        RESTART,
        membership(tax_rate_paid="11"),
        Selection("premium"),
        at("2026-04-11"),
        PPN,
    )
    # Premium 60.00 holds 5.95 of tax; the credit of 20.00 holds 1.98.
    assert [(line.type, line.amount_minor, line.tax_minor) for line in quote.lines] == [
        ("plan", 6000, 595),
        ("credit", -2000, -198),
    ]
    assert quote.totals.due_now_minor == 4000 and quote.totals.credit_minor == 2000
    assert quote.tax is not None and quote.tax.amount_minor == 397


def test_no_change_and_an_end_of_term_part_alone_get_no_tax_line_and_zero_tax() -> None:
    catalog = worked_catalog()
    same = quote_change(catalog, RESTART, membership(), Selection("basic"), at("2026-04-11"), MVA)
    later = quote_change(
        catalog, RESTART, membership("premium", 6000), Selection("basic"), at("2026-04-11"), MVA
    )
    for quote in (same, later):
        assert quote.lines == ()
        assert quote.tax is not None and quote.tax.amount_minor == 0
    assert later.next_billing is not None
    assert (later.next_billing.amount_minor, later.next_billing.tax_minor) == (3750, 750)


def test_a_restarting_change_sets_the_rate_paid_and_an_added_addon_keeps_it() -> None:
    catalog = worked_catalog()
    m = membership(tax_rate_paid="20")
    upgraded = apply_quote(
        m, quote_change(catalog, RESTART, m, Selection("premium"), at("2026-04-11"), MVA)
    )
    assert upgraded.tax_rate_paid == "25"
    added = apply_quote(
        m,
        quote_change(
            catalog, RESTART, m, Selection("basic", addons={"extra-disk": 1}), at("2026-04-11"), MVA
        ),
    )
    assert added.tax_rate_paid == "20"
    kept = apply_quote(
        m, quote_change(catalog, KEEP, m, Selection("premium"), at("2026-04-11"), MVA)
    )
    assert kept.tax_rate_paid == "20"  # policy keep: the period goes on, so does its rate
    untaxed = apply_quote(
        m, quote_change(catalog, RESTART, m, Selection("premium"), at("2026-04-11"))
    )
    assert untaxed.tax_rate_paid is None  # a new period paid without tax


def test_a_renewal_is_taxed_like_any_invoice_and_sets_the_rate_paid() -> None:
    m = membership(tax_rate_paid=None, addons={"extra-disk": Holding(1, 500)}, paid=3500)
    renewal = renew(worked_catalog(), m, at("2026-05-01"), Tax("MVA", "25", "exclusive"))
    assert renewal is not None
    assert [(line.type, line.amount_minor, line.tax_minor) for line in renewal.lines] == [
        ("plan", 3000, 750),
        ("addon", 500, 125),
        ("tax", 875, None),
    ]
    assert renewal.totals.due_now_minor == 4375
    assert renewal.tax is not None and renewal.tax.amount_minor == 875
    assert renewal.membership.tax_rate_paid == "25"
    assert renewal.membership.paid_value_minor == 0  # unpaid yet: past due until paid
    inclusive = renew(worked_catalog(), m, at("2026-05-01"), PPN)
    assert inclusive is not None
    assert [line.tax_minor for line in inclusive.lines] == [297, 50]
    assert inclusive.totals.due_now_minor == 3500


def test_a_kwd_quote_taxes_to_the_fils() -> None:
    products: dict[str, dict[str, object]] = {
        "basic": {"name": "Basic", "kind": "plan", "price": "30.000", "addons": ["disk"]},
        "disk": {"name": "Disk", "kind": "package", "price": "5.000"},
    }
    catalog = catalog_of(products, "KWD")
    m = replace(membership(price=30000, tax_rate_paid="7.5"), currency="KWD")
    tax = Tax("VAT", "7.5", "exclusive")
    quote = quote_change(
        catalog, RESTART, m, Selection("basic", addons={"disk": 1}), at("2026-04-11"), tax
    )
    # 5.000 × 2/3 = 3.33333 → 3.333; its tax 3.333 × 7.5 % = 0.249975 → 0.250
    assert [(line.type, line.amount_minor, line.tax_minor) for line in quote.lines] == [
        ("addon", 3333, 250),
        ("tax", 250, None),
    ]
    doc = quote_document(quote)
    assert doc["due_now"] == "3.583"
    assert doc["next_billing"]["amount"] == "37.625"  # 35.000 + 2.250 + 0.375
    assert doc["next_billing"]["tax"] == "2.625"


@pytest.mark.parametrize(
    ("amount", "rate", "mode", "tax"),
    [
        (6000, "25", "exclusive", 1500),
        (-2000, "25", "exclusive", -500),
        (333, "11", "inclusive", 33),
        (3000, "11", "inclusive", 297),
        (500, "11", "inclusive", 50),
        (1, "50", "exclusive", 1),  # 0.5 → 1, half away from zero
        (-1, "50", "exclusive", -1),
        (1000, None, "exclusive", 0),
        (999, "0", "inclusive", 0),
    ],
)
def test_line_tax_rounds_once_half_away_from_zero(
    amount: int, rate: str | None, mode: str, tax: int
) -> None:
    assert line_tax(amount, rate, mode) == tax  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("25", "25"), ("25.00", "25"), ("11", "11"), ("7.5", "7.5"), ("0.1234", "0.1234"), ("0", "0")],
)
def test_rates_are_kept_as_canonical_decimal_text(text: str, canonical: str) -> None:
    assert parse_rate(text) == canonical


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"name": "MVA", "rate": 25, "mode": "exclusive"}, "tax.rate", "decimal percent string"),
        ({"name": "MVA", "rate": "0.12345", "mode": "exclusive"}, "tax.rate", "4 decimals"),
        ({"name": "MVA", "rate": "101", "mode": "exclusive"}, "tax.rate", "from 0 to 100"),
        ({"name": "MVA", "rate": "-1", "mode": "exclusive"}, "tax.rate", "from 0 to 100"),
        ({"name": "MVA", "rate": "1e999", "mode": "exclusive"}, "tax.rate", "from 0 to 100"),
        ({"name": "MVA", "rate": "25", "mode": "gross"}, "tax.mode", "exclusive, inclusive"),
        ({"name": "", "rate": "25", "mode": "exclusive"}, "tax.name", "printed name"),
        ({"name": "MVA", "rate": "25", "mode": "exclusive", "x": 1}, "tax.x", "unknown"),
    ],
)
def test_a_bad_tax_setting_names_its_field(raw: object, field: str, words: str) -> None:
    with pytest.raises(CatalogInvalid) as caught:
        parse_tax(raw)
    assert f"field '{field}'" in str(caught.value) and words in str(caught.value)


def test_cancelling_now_credits_the_unused_value_with_the_tax_it_was_paid_with() -> None:
    from bridge.domain.lifecycle import cancel_now

    m = membership("premium", 6000, tax_rate_paid="20")
    _fallen, credit = cancel_now(worked_catalog_with_free(), m, at("2026-04-11"), "free", MVA)
    assert credit == 4000 + 800  # 40.00 unused, plus the 20 % it was paid with
    _fallen, inclusive = cancel_now(worked_catalog_with_free(), m, at("2026-04-11"), "free", PPN)
    assert inclusive == 4000  # inclusive: paid_value is what was charged
    untaxed = cancel_now(
        worked_catalog_with_free(), replace(m, tax_rate_paid=None), at("2026-04-11"), "free", MVA
    )
    assert untaxed[1] == 4000  # paid without tax: no tax to give back


def worked_catalog_with_free():  # type: ignore[no-untyped-def]
    products: dict[str, dict[str, object]] = {
        "free": {"name": "Free", "kind": "plan", "price": "0.00"},
        "premium": {"name": "Premium", "kind": "plan", "price": "60.00"},
    }
    return catalog_of(products)
