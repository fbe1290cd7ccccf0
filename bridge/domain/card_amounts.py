"""Stripe's own currency rules: which currencies it charges, and its amount in each.

Stripe counts amounts in its own units, which are not always ISO 4217's minor units: the
zero-decimal currencies count whole units (JPY, KRW, ...), ISK counts hundredths although only
whole krónur may be charged, and the three-decimal currencies (BHD, JOD, KWD, OMR, TND) take
thousandths but only multiples of ten. The bridge prorates to the ISO minor unit, so a currency
in which some minor-unit amount has no exact Stripe amount cannot be charged exactly: that is a
configuration error at start-up, not a rounding at payment time. Facts from Stripe's currencies
page (docs.stripe.com/currencies, November 2026).
"""

from __future__ import annotations

from bridge.domain.errors import MoneyError
from bridge.domain.money import exponent

__all__ = ["cannot_charge", "card_amount", "minor_from_card"]

# Presentment currencies Stripe charges cards in (its list; all others are refused).
STRIPE_CURRENCIES = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "STD",
        "SZL",
        "THB",
        "TJS",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
    ]
)
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# Stripe's amount must be a multiple of this (ISK: whole krónur in hundredths; three-decimal: 10).
_STEP = {"ISK": 100} | dict.fromkeys(THREE_DECIMAL, 10)


def _stripe_exponent(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def cannot_charge(currency: str) -> str | None:
    """Why Stripe cannot charge every minor-unit amount of `currency` exactly, or None."""
    code = currency.upper()
    if code not in STRIPE_CURRENCIES:
        return f"Stripe does not charge cards in {code}"
    try:
        iso = exponent(code)
    except MoneyError:
        return f"{code} is not an ISO 4217 currency the bridge knows"
    shift = _stripe_exponent(code) - iso
    step = _STEP.get(code, 1)
    if shift < 0:
        return (
            f"Stripe charges {code} in whole units only, and prorated amounts have {iso} decimals"
        )
    if step > 10**shift:
        return (
            f"Stripe charges {code} only in multiples of {step} of its smallest unit, and "
            f"prorated amounts use every one of its {iso} decimals"
        )
    return None


def card_amount(amount_minor: int, currency: str) -> int:
    """The amount Stripe is asked for: exactly `amount_minor`, or MoneyError when impossible."""
    code = currency.upper()
    problem = cannot_charge(code)
    if problem is not None:
        raise MoneyError(problem)
    amount: int = amount_minor * 10 ** (_stripe_exponent(code) - exponent(code))
    if amount % _STEP.get(code, 1):
        raise MoneyError(f"Stripe cannot charge {amount_minor} minor units of {code} exactly")
    return amount


def minor_from_card(amount: int, currency: str) -> int:
    """Stripe's amount back in ISO minor units (exact for every currency `card_amount` takes)."""
    code = currency.upper()
    factor: int = 10 ** (_stripe_exponent(code) - exponent(code))
    if amount % factor:
        raise MoneyError(f"{amount} in Stripe's units of {code} is not a whole minor unit")
    return amount // factor
