"""Money: integer minor units of an ISO 4217 currency, and the one rounding function."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from bridge.domain.errors import MoneyError as MoneyError

__all__ = [
    "ISO_4217_EXPONENTS",
    "MoneyError",
    "exponent",
    "format_amount",
    "fraction_text",
    "parse_amount",
    "round_minor",
]

# ISO 4217 minor-unit exponents. Kept here rather than taken from Babel because CLDR's
# display digits differ from ISO for some currencies (IQD, LAK, RSD, ...); Babel only formats.
ISO_4217_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "ARS": 2,
    "AUD": 2,
    "BGN": 2,
    "BHD": 3,
    "BIF": 0,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DJF": 0,
    "DKK": 2,
    "EGP": 2,
    "EUR": 2,
    "GBP": 2,
    "GNF": 0,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KES": 2,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LAK": 2,
    "LYD": 3,
    "MXN": 2,
    "MYR": 2,
    "NGN": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PKR": 2,
    "PLN": 2,
    "PYG": 0,
    "QAR": 2,
    "RON": 2,
    "RSD": 2,
    "RWF": 0,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "UAH": 2,
    "UGX": 0,
    "USD": 2,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "ZAR": 2,
}


def exponent(currency: str) -> int:
    """The ISO 4217 number of decimals of `currency`."""
    try:
        return ISO_4217_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency '{currency}'") from None


def round_minor(value: Fraction) -> int:
    """Round an exact amount of minor units to an integer, half away from zero (the one rule)."""
    numerator, denominator = value.numerator, value.denominator  # denominator is always > 0
    whole, rest = divmod(abs(numerator), denominator)
    if 2 * rest >= denominator:
        whole += 1
    return -whole if numerator < 0 else whole


def parse_amount(text: str, currency: str) -> int:
    """Parse a decimal string ("29.00") into minor units; more decimals than ISO allows is an error."""
    if not isinstance(text, str):
        raise MoneyError(f'an amount must be a decimal string such as "29.00", not {text!r}')
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MoneyError(f"'{text}' is not a decimal amount") from None
    if not value.is_finite():
        raise MoneyError(f"'{text}' is not a decimal amount")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(
            f"'{text}' has more decimals than {currency} allows ({exponent(currency)})"
        )
    return int(scaled)


def format_amount(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal string with exactly the currency's decimals ("-23.33")."""
    digits = exponent(currency)
    if digits == 0:
        return str(amount_minor)
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def fraction_text(value: Fraction) -> str:
    """A fraction as "n/d" (always with a denominator, "1/1" for one)."""
    return f"{value.numerator}/{value.denominator}"
