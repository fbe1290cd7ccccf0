"""Tax (billing-rules.md §12): one tax per network, each line taxed on its own and rounded once.

`rate` is kept as its canonical decimal text ("25", "11", "7.5"): that is how a quote, an
invoice and a membership's `tax_rate_paid` store it, and the exact value is `Fraction(rate)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from bridge.domain.errors import CatalogInvalid, CatalogProblem
from bridge.domain.money import round_minor

TaxMode = Literal["exclusive", "inclusive"]
TAX_MODES: tuple[str, ...] = ("exclusive", "inclusive")
MAX_RATE_DECIMALS = 4
MAX_NAME_LENGTH = 50


def parse_rate(value: object) -> str:
    """A decimal percent string with at most 4 decimals, from 0 to 100, as canonical text."""
    if not isinstance(value, str):
        raise ValueError(f'must be a decimal percent string such as "25", not {value!r}')
    try:
        rate = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a decimal percent") from None
    if not rate.is_finite():
        raise ValueError(f"'{value}' is not a decimal percent")
    if not Decimal(0) <= rate <= Decimal(100):
        raise ValueError(f"'{value}' is not a percent from 0 to 100")
    if rate != rate.quantize(Decimal(1).scaleb(-MAX_RATE_DECIMALS)):
        raise ValueError(f"'{value}' has more than {MAX_RATE_DECIMALS} decimals")
    return format(rate.normalize(), "f") if rate else "0"


def rate_value(rate: str) -> Fraction:
    """The exact percent of a canonical rate text."""
    return Fraction(Decimal(rate))


def line_tax(amount_minor: int, rate: str | None, mode: TaxMode) -> int:
    """A line's own tax, rounded once: `amount × rate / 100` on a net amount (exclusive), the
    part of a gross amount that is tax, `amount × rate / (100 + rate)` (inclusive); none when
    the rate is None (a period paid without tax)."""
    if rate is None:
        return 0
    percent = rate_value(rate)
    if mode == "exclusive":
        return round_minor(amount_minor * percent / 100)
    return round_minor(amount_minor * percent / (100 + percent))


@dataclass(frozen=True)
class Tax:
    """The network's one tax: its printed name, its rate (percent text) and its mode."""

    name: str
    rate: str
    mode: TaxMode

    def describe(self) -> str:
        """The tax line's description: "MVA 25 %"."""
        return f"{self.name} {self.rate} %"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "rate": self.rate, "mode": self.mode}


@dataclass(frozen=True)
class TaxTotal:
    """The tax of a quote or an invoice: which tax, and the sum of its lines' taxes."""

    tax: Tax
    amount_minor: int


def parse_tax(raw: object, where: str = "tax") -> Tax | None:
    """A `tax:` mapping ({name, rate, mode}), or None when absent; CatalogInvalid names the field."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CatalogInvalid([CatalogProblem(None, where, "must be a mapping of name, rate, mode")])
    problems: list[CatalogProblem] = []
    for key in raw:
        if key not in ("name", "rate", "mode"):
            problems.append(CatalogProblem(None, f"{where}.{key}", "unknown setting"))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        problems.append(
            CatalogProblem(
                None,
                f"{where}.name",
                f"must be the printed name, 1 to {MAX_NAME_LENGTH} characters",
            )
        )
    rate = ""
    try:
        rate = parse_rate(raw.get("rate"))
    except ValueError as exc:
        problems.append(CatalogProblem(None, f"{where}.rate", str(exc)))
    mode = raw.get("mode")
    if mode not in TAX_MODES:
        problems.append(
            CatalogProblem(None, f"{where}.mode", f"must be one of {', '.join(TAX_MODES)}")
        )
    if problems:
        raise CatalogInvalid(problems)
    assert isinstance(name, str)
    return Tax(name.strip(), rate, mode)  # type: ignore[arg-type]


def tax_of_document(doc: Mapping[str, Any] | None) -> Tax | None:
    """The tax a stored quote or invoice document was made with (`{"name", "rate", "mode"}`)."""
    if not doc:
        return None
    return Tax(str(doc["name"]), str(doc["rate"]), doc["mode"])
