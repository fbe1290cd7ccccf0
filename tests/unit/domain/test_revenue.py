"""Monthly recurring revenue: per month at agreed prices, exact until one rounding per currency."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from bridge.domain.membership import Holding, Membership
from bridge.domain.periods import BillingOption
from bridge.domain.revenue import membership_monthly, monthly, recurring_revenue

AT = datetime(2026, 1, 1, tzinfo=UTC)
MONTH = BillingOption(1, "month")
YEAR = BillingOption(1, "year")


def member(
    price: int,
    billing: BillingOption = MONTH,
    status: str = "active",
    currency: str = "USD",
    addons: dict[str, Holding] | None = None,
) -> Membership:
    return Membership(
        plan="p",
        billing=billing,
        plan_price_minor=price,
        status=status,  # type: ignore[arg-type]
        anchor=AT,
        period_start=AT,
        period_end=None,
        currency=currency,
        addons=addons or {},
    )


def test_monthly_of_each_unit() -> None:
    assert monthly(1200, YEAR) == 100
    assert monthly(1000, BillingOption(2, "month")) == 500
    assert monthly(100, BillingOption(1, "week")) == Fraction(5200, 12)
    assert monthly(700, BillingOption(2, "week")) == Fraction(700 * 52, 24)
    assert monthly(100, BillingOption(1, "day")) == Fraction(36500, 12)
    assert monthly(5000, BillingOption(0, "once")) == 0


def test_add_ons_count_in_their_own_billing_at_their_agreed_price() -> None:
    m = member(29000, YEAR, addons={"disk": Holding(2, 400), "gone": Holding(1, 1200)})
    # plan 290.00 a year; 2 × 4.00 a month; an unknown add-on billed like the plan (yearly)
    assert membership_monthly(m, {"disk": MONTH}) == Fraction(29000, 12) + 800 + 100


def test_one_rounding_per_currency_and_only_paying_memberships() -> None:
    thirds = [member(1000, BillingOption(3, "month")) for _ in range(3)]  # 333.33... each
    assert recurring_revenue(thirds, {}) == {"USD": 1000}  # not 3 × 333
    others = [
        member(500, status="past_due", currency="EUR"),
        member(900, status="trialing"),
        member(900, status="cancelled"),
    ]
    assert recurring_revenue(thirds + others, {}) == {"EUR": 500, "USD": 1000}
