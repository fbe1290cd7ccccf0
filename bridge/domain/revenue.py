"""Monthly recurring revenue: what the members pay per month at their agreed prices, before tax.

A price billed every `n` months is price ÷ n a month; every `n` years price ÷ 12n; every `n`
weeks price × 52 ÷ 12n; every `n` days price × 365 ÷ 12n. One-time prices recur never. Each
membership counts its plan and every recurring add-on it holds (quantity × agreed unit price in
the add-on's own billing). The amounts stay exact fractions of minor units until the total of a
currency, which is rounded once (`round_minor`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from bridge.domain.membership import Membership
from bridge.domain.money import round_minor
from bridge.domain.periods import BillingOption

# Memberships that pay: a trial pays nothing yet and a cancelled one nothing any more.
PAYING: tuple[str, ...] = ("active", "past_due")

_MONTHS_PER_UNIT: dict[str, Fraction] = {
    "month": Fraction(1),
    "year": Fraction(12),
    "week": Fraction(12, 52),
    "day": Fraction(12, 365),
}


def monthly(price_minor: int, billing: BillingOption) -> Fraction:
    """`price_minor` billed every `billing`, per month, exactly; zero for a one-time price."""
    if billing.is_once or billing.every <= 0:
        return Fraction(0)
    return Fraction(price_minor) / (_MONTHS_PER_UNIT[billing.unit] * billing.every)


def membership_monthly(m: Membership, addon_billing: Mapping[str, BillingOption]) -> Fraction:
    """One membership's plan and recurring add-ons per month (add-ons in their own billing; one
    whose product is unknown is taken as billed like the plan)."""
    total = monthly(m.plan_price_minor, m.billing)
    for addon_id, holding in m.addons.items():
        if holding.quantity > 0:
            billing = addon_billing.get(addon_id, m.billing)
            total += holding.quantity * monthly(holding.price_minor, billing)
    return total


def recurring_revenue(
    memberships: Iterable[Membership], addon_billing: Mapping[str, BillingOption]
) -> dict[str, int]:
    """The monthly recurring revenue per currency of the paying memberships, in minor units."""
    totals: dict[str, Fraction] = {}
    for m in memberships:
        if m.status in PAYING:
            totals[m.currency] = totals.get(m.currency, Fraction(0)) + membership_monthly(
                m, addon_billing
            )
    return {currency: round_minor(value) for currency, value in sorted(totals.items())}
