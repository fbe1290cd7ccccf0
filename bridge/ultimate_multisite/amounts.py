"""UM's money (DECIMAL(13,4) text, PHP floats in meta) → integer minor units, and its tax settings.

The one rounding function of the domain (`round_minor`) is used; a value that had to be rounded
(more decimals than the currency has) is said so, for the report's assumptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from bridge.domain.money import exponent, round_minor
from bridge.ultimate_multisite.serialized import as_list


@dataclass(frozen=True)
class Amount:
    minor: int
    rounded: bool  # True when the stored value had more decimals than the currency


def to_minor(value: Any, currency: str) -> Amount | None:
    """'10.0000', 10, 9.5 (a PHP float) → minor units; None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if text == "":
        return Amount(0, False)
    try:
        exact = Fraction(Decimal(text)) * 10 ** exponent(currency)
    except (InvalidOperation, ValueError):
        return None
    minor = round_minor(exact)
    return Amount(minor, exact != minor)


def truthy(value: Any) -> bool:
    """WordPress's scalar meta truth: '1', 'yes', 'on', 'true', 1, True."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "on", "true")
    return bool(value)


@dataclass(frozen=True)
class TaxSettings:
    """UM's taxes: on or off, inclusive or not, and the rates per tax category."""

    enabled: bool
    inclusive: bool
    rates: Mapping[str, tuple[tuple[str, Decimal], ...]]  # category → ((country, percent), ...)

    def rate_for(self, category: str, country: str | None) -> Decimal | None:
        """The percent UM charged: the last rate of the category for the country, else the last
        rate for any country (UM applies only the last applicable rate, behaviour.md §12.18)."""
        rates = self.rates.get(category) or self.rates.get("default") or ()
        exact = [p for c, p in rates if country and c.upper() == country.upper()]
        anywhere = [p for c, p in rates if not c]
        chosen = exact or anywhere
        return chosen[-1] if chosen else None


def tax_settings(settings: Mapping[str, Any], raw_rates: Any) -> TaxSettings:
    """From `wp-ultimo_v2_settings` (enable_taxes, inclusive_tax) and `wp-ultimo_tax_rates`."""
    rates: dict[str, tuple[tuple[str, Decimal], ...]] = {}
    if isinstance(raw_rates, Mapping):
        for category, body in raw_rates.items():
            found: list[tuple[str, Decimal]] = []
            entries = body.get("rates") if isinstance(body, Mapping) else None
            for rate in as_list(entries):
                if not isinstance(rate, Mapping):
                    continue
                try:
                    percent = Decimal(str(rate.get("tax_rate", "0")))
                except InvalidOperation:
                    continue
                found.append((str(rate.get("country") or ""), percent))
            rates[str(category)] = tuple(found)
    return TaxSettings(
        enabled=truthy(settings.get("enable_taxes", False)),
        inclusive=truthy(settings.get("inclusive_tax", False)),
        rates=rates,
    )
