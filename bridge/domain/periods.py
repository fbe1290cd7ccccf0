"""Calendar billing periods, always counted from the anchor (billing-rules.md §1)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Literal

Unit = Literal["day", "week", "month", "year", "once"]
RECURRING_UNITS: tuple[str, ...] = ("day", "week", "month", "year")

_NOMINAL_DAYS: dict[str, Fraction] = {
    "day": Fraction(1),
    "week": Fraction(7),
    "month": Fraction("30.436875"),
    "year": Fraction("365.2425"),
}


@dataclass(frozen=True, order=True)
class BillingOption:
    """`every` × `unit`, or the one-time option (unit "once", every 0)."""

    every: int
    unit: Unit

    @property
    def is_once(self) -> bool:
        return self.unit == "once"

    def nominal_days(self) -> Fraction:
        """Nominal length used to compare prices per day: month 30.436875 days, year 365.2425."""
        return _nominal_days(self.unit, self.every)

    def normalized(self) -> tuple[str, int]:
        """The same interval written one way: years as months, weeks as days."""
        if self.unit == "year":
            return ("month", 12 * self.every)
        if self.unit == "week":
            return ("day", 7 * self.every)
        return (self.unit, self.every)

    def same_interval(self, other: BillingOption) -> bool:
        return self.normalized() == other.normalized()

    def describe(self) -> str:
        if self.is_once:
            return "one time"
        return f"{self.every} {self.unit}{'' if self.every == 1 else 's'}"

    def to_json(self) -> dict[str, int | str] | str:
        return "once" if self.is_once else {"every": self.every, "unit": self.unit}


@lru_cache(maxsize=256)
def _nominal_days(unit: str, every: int) -> Fraction:
    if unit == "once":
        raise ValueError("a one-time option has no length")
    return _NOMINAL_DAYS[unit] * every


ONCE = BillingOption(0, "once")
MONTHLY = BillingOption(1, "month")


@lru_cache(maxsize=1024)
def period_ratio(item: BillingOption, plan: BillingOption) -> Fraction | None:
    """How many `item` periods fit in one `plan` period, exactly; None when there is no exact ratio."""
    if item.is_once or plan.is_once:
        return None
    item_unit, item_n = item.normalized()
    plan_unit, plan_n = plan.normalized()
    if item_unit != plan_unit:
        return None  # days against months: no exact ratio
    return Fraction(plan_n, item_n)


def add_months(anchor: datetime, months: int) -> datetime:
    """`anchor` moved by whole months, the day clamped to the target month's length."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def boundary(anchor: datetime, option: BillingOption, k: int) -> datetime:
    """End of period k (k ≥ 0) of a membership anchored at `anchor`: anchor + k × option."""
    if option.is_once:
        raise ValueError("a one-time option has no periods")
    unit, n = option.normalized()
    if unit == "day":
        return anchor + timedelta(days=n * k)
    return add_months(anchor, n * k)


def period_index_after(anchor: datetime, option: BillingOption, at: datetime) -> int:
    """The smallest k with boundary(anchor, option, k) > at."""
    unit, n = option.normalized()
    if unit == "day":
        seconds = (at - anchor).total_seconds()
        k = max(0, int(seconds // (n * 86400)))
    else:
        months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
        k = max(0, months // n - 1)
    while boundary(anchor, option, k) <= at:
        k += 1
    while k > 0 and boundary(anchor, option, k - 1) > at:
        k -= 1
    return k


def period_containing(
    anchor: datetime, option: BillingOption, at: datetime
) -> tuple[datetime, datetime]:
    """The (start, end) of the period that contains `at` (start ≤ at < end)."""
    k = period_index_after(anchor, option, at)
    return boundary(anchor, option, max(0, k - 1)), boundary(anchor, option, k)


def seconds_between(start: datetime, end: datetime) -> int:
    """Exact whole seconds from start to end (instants are stored to the second)."""
    delta = end - start
    return delta.days * 86400 + delta.seconds
