"""Money in minor units with ISO exponents; calendar periods counted from the anchor."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bridge.domain.money import MoneyError, exponent, format_amount, parse_amount, round_minor
from bridge.domain.periods import BillingOption, boundary, period_containing, period_ratio
from tests.unit.domain.builders import MONTH, YEAR, at


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 3),
        (Fraction(-5, 2), -3),
        (Fraction(7, 3), 2),
        (Fraction(-7, 3), -2),
        (Fraction(1, 2), 1),
        (Fraction(0), 0),
        (Fraction(9999, 2), 5000),
    ],
)
def test_rounding_is_half_away_from_zero(value, expected):  # type: ignore[no-untyped-def]
    assert round_minor(value) == expected


@pytest.mark.parametrize(
    ("currency", "digits"), [("USD", 2), ("JPY", 0), ("KWD", 3), ("IQD", 3), ("NOK", 2)]
)
def test_exponents_follow_iso_4217_not_cldr(currency, digits):  # type: ignore[no-untyped-def]
    assert exponent(currency) == digits


def test_amounts_parse_and_format_with_the_currency_decimals():
    assert parse_amount("29.00", "USD") == 2900
    assert parse_amount("29", "USD") == 2900
    assert parse_amount("1500", "JPY") == 1500
    assert parse_amount("1.250", "KWD") == 1250
    assert format_amount(-2333, "USD") == "-23.33"
    assert format_amount(1500, "JPY") == "1500"
    assert format_amount(5, "KWD") == "0.005"


@pytest.mark.parametrize("text", ["29.001", "1.5", "abc", "NaN"])
def test_amounts_with_more_decimals_than_allowed_are_refused(text):  # type: ignore[no-untyped-def]
    currency = "JPY" if text == "1.5" else "USD"
    with pytest.raises(MoneyError):
        parse_amount(text, currency)


@pytest.mark.parametrize(
    ("anchor", "k", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2026-01-31", 2, "2026-03-31"),  # from the anchor, never chained (not Mar 28)
        ("2026-01-31", 3, "2026-04-30"),
        ("2028-01-31", 1, "2028-02-29"),  # leap year
        ("2026-01-30", 1, "2026-02-28"),
        ("2026-01-30", 2, "2026-03-30"),
        ("2026-01-29", 1, "2026-02-28"),
        ("2028-01-29", 1, "2028-02-29"),
        ("2026-03-31T15:45", 1, "2026-04-30T15:45"),  # keeps its time of day
    ],
)
def test_monthly_periods_clamp_the_day_and_count_from_the_anchor(anchor, k, expected):  # type: ignore[no-untyped-def]
    assert boundary(at(anchor), MONTH, k) == at(expected)


def test_yearly_period_from_leap_day_clamps_to_february_28():
    assert boundary(at("2028-02-29"), YEAR, 1) == at("2029-02-28")
    assert boundary(at("2028-02-29"), YEAR, 4) == at("2032-02-29")


def test_period_containing_finds_the_period_of_an_instant():
    assert period_containing(at("2026-01-31"), MONTH, at("2026-03-15")) == (
        at("2026-02-28"),
        at("2026-03-31"),
    )
    assert period_containing(at("2026-01-01"), BillingOption(2, "week"), at("2026-01-20")) == (
        at("2026-01-15"),
        at("2026-01-29"),
    )


def test_period_ratios_are_exact_or_absent():
    assert period_ratio(MONTH, YEAR) == 12
    assert period_ratio(YEAR, MONTH) == Fraction(1, 12)
    assert period_ratio(BillingOption(1, "day"), BillingOption(1, "week")) == 7
    assert period_ratio(BillingOption(1, "week"), MONTH) is None


def test_domain_errors_live_in_one_module_and_are_still_value_errors():
    from bridge.domain import catalog, errors, money

    assert money.MoneyError is errors.MoneyError and catalog.CatalogInvalid is errors.CatalogInvalid
    for error in (errors.MoneyError, errors.CatalogInvalid):
        assert issubclass(error, errors.BridgeError) and issubclass(error, ValueError)
