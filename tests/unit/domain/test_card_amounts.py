"""Stripe's currency rules: zero-decimal currencies, ISK in hundredths, three-decimal ones."""

from __future__ import annotations

import pytest

from bridge.domain.card_amounts import cannot_charge, card_amount, minor_from_card
from bridge.domain.money import MoneyError


@pytest.mark.parametrize(
    ("minor", "currency", "stripe"),
    [
        (2900, "USD", 2900),  # cents are cents
        (500, "JPY", 500),  # zero-decimal: whole yen
        (1234, "KRW", 1234),
        (7, "ISK", 700),  # ISK: ISO has no decimals, Stripe counts hundredths of whole krónur
        (333, "EUR", 333),
    ],
)
def test_amounts_reach_stripe_in_its_own_units_and_come_back_exactly(
    minor: int, currency: str, stripe: int
) -> None:
    assert card_amount(minor, currency) == stripe
    assert minor_from_card(stripe, currency) == minor


@pytest.mark.parametrize("currency", ["KWD", "BHD", "JOD", "OMR", "TND"])
def test_a_three_decimal_currency_cannot_be_charged_exactly(currency: str) -> None:
    problem = cannot_charge(currency)
    assert problem is not None and "multiples of 10" in problem
    with pytest.raises(MoneyError):
        card_amount(5124, currency)


def test_a_currency_stripe_does_not_charge_is_named() -> None:
    assert cannot_charge("IQD") == "Stripe does not charge cards in IQD"
    assert cannot_charge("USD") is None and cannot_charge("jpy") is None
