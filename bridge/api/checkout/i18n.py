"""People's habits on the checkout pages: language, money and dates for the reader's locale.

Texts come from the gettext catalogs in bridge/translations (en, ms, id, nb); money and dates
are formatted by Babel for the reader's full locale (nb_NO, ms_MY, ...) in the site's timezone.
Money keeps the ISO 4217 number of decimals of bridge.domain.money, never Babel's CLDR digits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent, parse_pattern
from babel.support import Translations

from bridge.domain.money import exponent

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "translations"
DOMAIN = "messages"

# The catalog each supported language uses, and the locale that formats for it when the
# reader's locale names only a language.
LANGUAGES: dict[str, str] = {"en": "en_US", "ms": "ms_MY", "id": "id_ID", "nb": "nb_NO"}
# Norwegian in general and Nynorsk readers get Bokmål, the closest catalog we have.
ALIASES: dict[str, str] = {"no": "nb", "nn": "nb", "in": "id", "zsm": "ms"}
DEFAULT_LOCALE = "en_US"


@dataclass(frozen=True)
class Habits:
    """How to speak to one reader: a catalog, a Babel locale and a timezone."""

    locale: str  # a Babel locale identifier, e.g. nb_NO
    language: str  # the catalog: en, ms, id or nb
    translations: Translations
    timezone: tzinfo

    def gettext(self, message: str) -> str:
        return str(self.translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(self.translations.ngettext(singular, plural, n))

    @property
    def html_lang(self) -> str:
        return self.locale.replace("_", "-")

    def money(self, amount: str | Decimal, currency: str) -> str:
        """A decimal amount in `currency`, with exactly the ISO 4217 number of decimals."""
        return format_money(Decimal(amount), currency, self.locale)

    def date(self, at: str | datetime | None) -> str:
        """A day in the reader's words ("1 May 2026", "1. mai 2026") in the site's timezone."""
        instant = parse_instant(at)
        if instant is None:
            return ""
        return str(format_date(instant.astimezone(self.timezone), "long", locale=self.locale))

    def datetime(self, at: str | datetime | None) -> str:
        instant = parse_instant(at)
        if instant is None:
            return ""
        return str(format_datetime(instant, "medium", tzinfo=self.timezone, locale=self.locale))

    def number(self, value: int) -> str:
        return str(format_decimal(value, locale=self.locale))

    def percent(self, rate: str) -> str:
        """A tax rate given in percent ("25", "7.5") as the reader writes it ("25 %", "7,5 %")."""
        value = Decimal(rate) / 100
        return str(format_percent(value, locale=self.locale, decimal_quantization=False))

    def tax_label(self, tax: Any) -> str:
        """The network's tax by its own name and rate ("MVA 25 %"): a name is not translated."""
        if not isinstance(tax, dict) or not tax.get("name"):
            return ""
        return f"{tax['name']} {self.percent(str(tax.get('rate', '0')))}"


def parse_instant(at: str | datetime | None) -> datetime | None:
    """An instant from the documents' "2026-05-01T00:00:00Z" (or a datetime), always aware."""
    if at is None or at == "":
        return None
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cache
def _currency_pattern(locale: str, digits: int) -> Any:
    pattern = copy.copy(parse_pattern(Locale.parse(locale).currency_formats["standard"]))
    pattern.frac_prec = (digits, digits)
    return pattern


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """Babel's currency format for `locale`, with the currency's ISO 4217 digits."""
    pattern = _currency_pattern(locale, exponent(currency))
    return str(
        pattern.apply(amount, Locale.parse(locale), currency=currency, currency_digits=False)
    )


@cache
def load_translations(language: str) -> Translations:
    """The compiled catalog of a language (English texts are the msgids themselves)."""
    loaded = Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)
    if not isinstance(loaded, Translations):
        raise FileNotFoundError(f"no compiled catalog for '{language}' in {TRANSLATIONS_DIR}")
    return loaded


def _split(tag: str) -> tuple[str, str | None]:
    cleaned = tag.strip().replace("-", "_")
    language, _, territory = cleaned.partition("_")
    return language.lower(), (territory.upper() or None)


def supported_locale(tag: str | None) -> str | None:
    """The Babel locale for a WordPress or browser locale tag we have texts for, else None."""
    if not tag:
        return None
    language, territory = _split(tag)
    language = ALIASES.get(language, language)
    if language not in LANGUAGES:
        return None
    if territory:
        candidate = f"{language}_{territory}"
        try:
            Locale.parse(candidate)
        except (ValueError, LookupError):
            return LANGUAGES[language]
        return candidate
    return LANGUAGES[language]


def negotiate(accept_language: list[tuple[str, float]]) -> str:
    """The first supported locale of a browser's Accept-Language list, else English."""
    for tag, _quality in sorted(accept_language, key=lambda item: -item[1]):
        found = supported_locale(tag)
        if found:
            return found
    return DEFAULT_LOCALE


def zone(name: str | None) -> tzinfo:
    """The named IANA timezone, or UTC when it is missing or unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def habits_for(locale: str, timezone: str | None = None) -> Habits:
    """Habits for a supported Babel locale (see supported_locale) and a timezone name."""
    language = _split(locale)[0]
    language = ALIASES.get(language, language)
    if language not in LANGUAGES:
        language, locale = "en", DEFAULT_LOCALE
    return Habits(locale, language, load_translations(language), zone(timezone))
