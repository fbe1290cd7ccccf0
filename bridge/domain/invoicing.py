"""What the items in force are worth, and the next invoice exactly as the renewal will make it.

One computation for the quote's `next_billing`, the renewal invoice, `paid_value` and the document
shown on the Account page (billing-rules.md §3, §6 "Next billing", §7 "Renewal").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from bridge.domain.catalog import Catalog, Product
from bridge.domain.membership import Holding, Membership
from bridge.domain.money import format_amount, fraction_text, round_minor
from bridge.domain.periods import BillingOption, boundary, period_index_after, period_ratio
from bridge.domain.quote import NextBilling, QuoteLine
from bridge.domain.tax import Tax, line_tax


def addon_period_value(
    price_minor: int, item: BillingOption, plan: BillingOption, quantity: int
) -> Fraction:
    """An add-on's exact value over one plan period: price × quantity × (plan period / its period)."""
    ratio = period_ratio(item, plan)
    if ratio is None:
        raise ValueError(f"no exact ratio between {item.describe()} and {plan.describe()}")
    return price_minor * quantity * ratio


@functools.lru_cache(maxsize=8192)
def addon_full_value(
    price_minor: int, item: BillingOption, plan: BillingOption, quantity: int
) -> int:
    """An add-on's value over one full plan period, rounded once (a line of its own).

    Memoized: a pure function of few distinct inputs (a network has few prices and quantities),
    and the exact Fraction arithmetic is the quote's largest cost without it."""
    return round_minor(addon_period_value(price_minor, item, plan, quantity))


@dataclass(frozen=True)
class Pricing:
    """One recurring add-on of a selection at the price it is (or would be) agreed at."""

    product: Product
    quantity: int
    price_minor: int

    def full_value(self, plan_billing: BillingOption) -> int:
        """Its value over one plan period, rounded once."""
        return addon_full_value(self.price_minor, self.product.billing, plan_billing, self.quantity)


def agreed_price(catalog: Catalog, membership: Membership, addon_id: str) -> int:
    """The price of an add-on: as agreed when held (even if the catalog moved), else the catalog's."""
    holding = membership.addons.get(addon_id)
    if holding is not None:
        return holding.price_minor
    return catalog.products[addon_id].price_minor


def recurring_items(
    catalog: Catalog, membership: Membership, addons: Mapping[str, int]
) -> list[Pricing]:
    """The recurring add-ons of a selection, by id, at their agreed (or catalog) prices."""
    items = []
    for addon_id, quantity in sorted(addons.items()):
        product = catalog.products[addon_id]
        if quantity > 0 and not product.billing.is_once:
            items.append(Pricing(product, quantity, agreed_price(catalog, membership, addon_id)))
    return items


def recurring_total(
    catalog: Catalog,
    membership: Membership,
    plan_price_minor: int,
    billing: BillingOption,
    addons: Mapping[str, int],
) -> int:
    """The full-period price of a selection: plan + each recurring add-on, each rounded once."""
    if billing.is_once:
        return 0
    return plan_price_minor + sum(
        item.full_value(billing) for item in recurring_items(catalog, membership, addons)
    )


def holdings_value(
    catalog: Catalog,
    plan_price_minor: int,
    billing: BillingOption,
    addons: Mapping[str, Holding],
) -> int:
    """Plan price + each recurring holding at its own agreed price over one plan period, each
    line rounded once; a one-time plan is worth its price."""
    if billing.is_once:
        return plan_price_minor
    total = plan_price_minor
    for addon_id, holding in sorted(addons.items()):
        product = catalog.get(addon_id)
        if product is None or product.billing.is_once or holding.quantity <= 0:
            continue
        if period_ratio(product.billing, billing) is None:
            continue  # cannot be billed on this plan's period (the catalog refuses it)
        total += addon_full_value(holding.price_minor, product.billing, billing, holding.quantity)
    return total


def paid_value_of(catalog: Catalog, membership: Membership) -> int:
    """`paid_value` (§3): the full-period value of the items in force, recomputed, never summed."""
    return holdings_value(
        catalog, membership.plan_price_minor, membership.billing, membership.addons
    )


@dataclass(frozen=True)
class RenewalTerms:
    """What the renewal at `period_end` invoices: the selection then in force and the setup fee."""

    plan: str
    billing: BillingOption
    plan_price_minor: int
    addons: dict[str, Holding]
    anchor: datetime
    applies_scheduled: bool
    setup_fee_minor: int  # the setup fee difference this invoice carries (0 if none)


def renewal_terms(catalog: Catalog, membership: Membership) -> RenewalTerms | None:
    """The selection the next renewal invoices: a due scheduled change, else what is held;
    None when nothing renews (a one-time plan, or cancelled)."""
    m = membership
    if m.period_end is None or m.billing.is_once or m.status == "cancelled":
        return None
    end = m.period_end
    plan_id, billing, price, addons = m.plan, m.billing, m.plan_price_minor, dict(m.addons)
    anchor = m.anchor
    sc = m.scheduled_change
    applies = sc is not None and sc.effective_at <= end
    if sc is not None and applies:
        if sc.billing != m.billing:
            anchor = end  # a new interval counts its periods from the day it starts
        plan_id, billing, price, addons = sc.plan, sc.billing, sc.plan_price_minor, dict(sc.addons)
    if m.status == "trialing":
        anchor = end  # the first paid period starts when the trial ends
    plan = catalog.get(plan_id)
    setup_fee = 0
    if plan is not None and (plan_id != m.plan or m.status == "trialing"):
        setup_fee = max(0, plan.setup_fee_minor - m.setup_fee_paid_minor)
    return RenewalTerms(plan_id, billing, price, addons, anchor, applies, setup_fee)


def _renewal_addons(
    catalog: Catalog, terms: RenewalTerms
) -> list[tuple[str, Product, Holding, Fraction, int]]:
    """The recurring add-ons the renewal invoices, each with its period ratio and its amount
    (price × quantity × ratio, rounded once): the one place both the lines and the total use."""
    rows = []
    for addon_id, holding in sorted(terms.addons.items()):
        product = catalog.get(addon_id)
        if product is None or product.billing.is_once or holding.quantity <= 0:
            continue
        ratio = period_ratio(product.billing, terms.billing)
        if ratio is None:
            continue
        amount = addon_full_value(
            holding.price_minor, product.billing, terms.billing, holding.quantity
        )
        rows.append((addon_id, product, holding, ratio, amount))
    return rows


def renewal_amounts(catalog: Catalog, terms: RenewalTerms) -> list[int]:
    """The amounts of `renewal_lines`, without building the lines (the quote's hot path)."""
    amounts = [terms.plan_price_minor, *(row[-1] for row in _renewal_addons(catalog, terms))]
    if terms.setup_fee_minor > 0 and catalog.get(terms.plan) is not None:
        amounts.append(terms.setup_fee_minor)
    return amounts


def renewal_lines(
    catalog: Catalog, membership: Membership, terms: RenewalTerms
) -> tuple[QuoteLine, ...]:
    """The lines of the renewal invoice at `period_end`: plan, recurring add-ons, setup fee."""
    assert membership.period_end is not None, "a renewing membership has a period end"
    currency = catalog.currency
    start = membership.period_end
    end = boundary(
        terms.anchor, terms.billing, period_index_after(terms.anchor, terms.billing, start)
    )
    plan = catalog.get(terms.plan)
    name = plan.name if plan is not None else terms.plan
    price = terms.plan_price_minor
    lines = [
        QuoteLine(
            "plan",
            terms.plan,
            f"{name}, {terms.billing.describe()}",
            price,
            {"price": format_amount(price, currency), "quantity": 1, "fraction": "1/1"},
            start,
            end,
        )
    ]
    for addon_id, product, holding, ratio, amount in _renewal_addons(catalog, terms):
        inputs: dict[str, str | int] = {
            "price": format_amount(holding.price_minor, currency),
            "quantity": holding.quantity,
            "fraction": "1/1",
        }
        if ratio != 1:
            inputs["period_ratio"] = fraction_text(ratio)
        lines.append(
            QuoteLine(
                "addon",
                addon_id,
                f"{product.name} × {holding.quantity}, {terms.billing.describe()}",
                amount,
                inputs,
                start,
                end,
            )
        )
    if terms.setup_fee_minor > 0 and plan is not None:
        lines.append(
            QuoteLine(
                "setup_fee",
                terms.plan,
                f"Setup fee for {plan.name} (difference)",
                terms.setup_fee_minor,
                {
                    "price": format_amount(plan.setup_fee_minor, currency),
                    "setup_fee_paid": format_amount(membership.setup_fee_paid_minor, currency),
                    "quantity": 1,
                    "fraction": "1/1",
                },
            )
        )
    return tuple(lines)


def next_invoice(
    catalog: Catalog, membership: Membership, tax: Tax | None = None
) -> NextBilling | None:
    """Next billing (§6): the renewal invoice at `period_end` (or `trial_end`) exactly as `renew`
    will make it, each line taxed on its own (§12), its gross amount and the part of it the
    balance will cover; None when nothing renews."""
    terms = renewal_terms(catalog, membership)
    if terms is None or membership.period_end is None:
        return None
    amounts = renewal_amounts(catalog, terms)
    amount = sum(amounts)
    tax_minor = None
    if tax is not None:
        tax_minor = sum(line_tax(a, tax.rate, tax.mode) for a in amounts)
        if tax.mode == "exclusive":
            amount += tax_minor
    covered = min(membership.balance_minor, max(0, amount))
    return NextBilling(membership.period_end, amount, covered, tax_minor)
