"""UM memberships → the bridge's memberships, with their customers, sites and the money check.

Rules (issue 18, item 2): the status table below; period end from `date_expiration` (UTC),
period start and anchor one period before it; agreed prices are the catalog's when UM's
recurring total matches plan + add-ons (+ tax) within a minor unit, else derived from it and
flagged; `paid_value` from the items at agreed prices (net of tax) when paid; `setup_fee_paid`
once billed; balance 0; limitation overrides as operator overrides; a scheduled swap as our
scheduled change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bridge.domain.catalog import Catalog, Product
from bridge.domain.invoicing import holdings_value
from bridge.domain.limits import Limits
from bridge.domain.membership import Holding, Membership, ScheduledChange, Status
from bridge.domain.money import round_minor
from bridge.domain.periods import ONCE, BillingOption, boundary
from bridge.domain.receipt import Party
from bridge.domain.tax import parse_rate
from bridge.ultimate_multisite.amounts import TaxSettings, to_minor
from bridge.ultimate_multisite.limitations import map_limitations
from bridge.ultimate_multisite.products import UNITS, MappedProduct
from bridge.ultimate_multisite.report import MoneyCheck, Report
from bridge.ultimate_multisite.rows import UmCustomer, UmMembership, UmNetwork, UmSite
from bridge.ultimate_multisite.serialized import PhpObject, Unreadable, as_list, unserialize

# UM status → (our status, on the fallback plan); None: not imported (listed in the report).
STATUSES: dict[str, tuple[Status, bool] | None] = {
    "active": ("active", False),
    "trialing": ("trialing", False),
    "on-hold": ("past_due", False),
    "expired": ("cancelled", True),
    "cancelled": ("cancelled", False),
    "pending": None,
}
BILLING_KEYS: tuple[str, ...] = (
    "company_name",
    "billing_address_line_1",
    "billing_address_line_2",
    "billing_city",
    "billing_state",
    "billing_zip_code",
    "billing_country",
)


@dataclass(frozen=True)
class ImportedCustomer:
    um_id: int
    user_id: int
    email: str  # for the bridge's customer record only; never in the report
    locale: str
    billing: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedSite:
    blog_id: int
    url: str
    name: str
    overrides: Limits | None


@dataclass(frozen=True)
class ImportedMembership:
    um_id: int
    customer: ImportedCustomer
    membership: Membership
    sites: tuple[ImportedSite, ...]
    gateway: str
    gateway_customer_id: str
    gateway_subscription_id: str
    tax_rate_paid: Decimal | None  # percent; see services.um_import.store_tax_rate_paid
    derived_prices: bool
    last_renewed_at: datetime | None


def utc(value: datetime | None) -> datetime | None:
    """A UTC column's naive value as aware UTC; None for NULL, zero and 1970 placeholders."""
    if value is None or value.year <= 1970:
        return None
    return value.replace(tzinfo=UTC, microsecond=0)


def local_to_utc(value: datetime | None, zone: Any) -> datetime | None:
    """A main-site-local column (`date_renewed`, schema.md §6.5) as aware UTC."""
    if value is None or value.year <= 1970:
        return None
    return value.replace(tzinfo=zone).astimezone(UTC).replace(microsecond=0)


def customer_of(c: UmCustomer, report: Report) -> ImportedCustomer | None:
    """A UM customer; None (reported) when it is not a customer or its user is gone."""
    if c.type != "customer":
        report.skip("customer", c.id, f"type {c.type!r} is not a customer")
        return None
    if not c.user_exists or not c.user_email:
        report.skip("customer", c.id, f"its WordPress user {c.user_id} no longer exists")
        return None
    billing: dict[str, str] = {}
    raw = unserialize(c.meta.get("wu_billing_address"))
    if isinstance(raw, Unreadable):
        report.note("customer", c.id, f"billing address refused: {raw.reason}")
    elif isinstance(raw, PhpObject):
        attributes = raw.props.get("attributes")
        if isinstance(attributes, Mapping):
            billing = {k: str(attributes[k]) for k in BILLING_KEYS if attributes.get(k)}
    return ImportedCustomer(c.id, c.user_id, c.user_email, c.user_locale or "en_US", billing)


def buyer_of(customer: ImportedCustomer) -> Party | None:
    """The customer's UM billing address as the buyer printed on the bridge's receipts; None
    when UM kept no name or address (the checkout then asks the owner once)."""
    b = customer.billing
    address = ", ".join(
        part
        for part in (
            b.get("billing_address_line_1", ""),
            b.get("billing_address_line_2", ""),
            " ".join(x for x in (b.get("billing_zip_code", ""), b.get("billing_city", "")) if x),
            b.get("billing_state", ""),
            b.get("billing_country", ""),
        )
        if part
    )
    name = b.get("company_name", "")
    if not name or not address:
        return None
    return Party(name=name, address=address)


def _addons(m: UmMembership, catalog: Catalog, report: Report) -> dict[str, int]:
    raw = unserialize(m.addon_products)
    if isinstance(raw, Unreadable):
        report.note("membership", m.id, f"add-ons refused: {raw.reason}")
        return {}
    out: dict[str, int] = {}
    for key, quantity in raw.items() if isinstance(raw, Mapping) else []:
        product = catalog.get(str(key))
        if product is None or product.kind == "plan":
            report.note("membership", m.id, f"add-on {key} is not an imported add-on; dropped")
            continue
        if product.billing.is_once:
            report.note("membership", m.id, f"one-time add-on {key} was paid once; not held")
            continue
        qty = int(quantity) if str(quantity).isdigit() else 0
        if qty > 0:
            out[str(key)] = qty
    return out


def _holdings(catalog: Catalog, quantities: Mapping[str, int]) -> dict[str, Holding]:
    return {pid: Holding(q, catalog.products[pid].price_minor) for pid, q in quantities.items()}


def _with_tax(net: int, rate: Decimal | None, inclusive: bool) -> int:
    if rate is None or inclusive:
        return net
    return net + round_minor(Fraction(net) * Fraction(rate) / 100)


def _net_of_tax(total: int, rate: Decimal | None, inclusive: bool) -> int:
    if rate is None or inclusive:
        return total
    return round_minor(Fraction(total) / (1 + Fraction(rate) / 100))


@dataclass(frozen=True)
class _Prices:
    plan_minor: int
    addons: dict[str, Holding]
    derived: bool
    check: MoneyCheck | None


def _agreed_prices(
    m: UmMembership,
    plan: Product,
    billing: BillingOption,
    quantities: Mapping[str, int],
    catalog: Catalog,
    rate: Decimal | None,
    taxes: TaxSettings,
    report: Report,
) -> _Prices:
    addons = _holdings(catalog, quantities)
    catalog_price = plan.price_for(billing)
    if billing.is_once:
        return _Prices(catalog_price or 0, addons, False, None)
    um = to_minor(m.amount, catalog.currency)
    um_minor = um.minor if um is not None else 0
    if catalog_price is not None:
        ours = holdings_value(catalog, catalog_price, billing, addons)
        check = MoneyCheck(m.id, um_minor, ours, _with_tax(ours, rate, taxes.inclusive), False)
        if check.matches:
            return _Prices(catalog_price, addons, False, check)
    addons_value = holdings_value(catalog, 0, billing, addons)
    net = _net_of_tax(um_minor, rate, taxes.inclusive)
    plan_minor = max(0, net - addons_value)
    report.note(
        "membership",
        m.id,
        f"UM's recurring total {m.amount} does not match the catalog's prices; agreed plan "
        f"price derived from it ({plan_minor} minor units, flagged)",
    )
    ours = holdings_value(catalog, plan_minor, billing, addons)
    check = MoneyCheck(m.id, um_minor, ours, _with_tax(ours, rate, taxes.inclusive), True)
    return _Prices(plan_minor, addons, True, check)


def _scheduled(
    m: UmMembership, catalog: Catalog, period_end: datetime | None, report: Report
) -> ScheduledChange | None:
    if not m.meta.get("wu_swap_order"):
        return None
    cart = unserialize(m.meta.get("wu_swap_order"))
    if isinstance(cart, Unreadable) or not isinstance(cart, PhpObject):
        why = cart.reason if isinstance(cart, Unreadable) else "not an object"
        report.note("membership", m.id, f"scheduled swap refused: {why}")
        return None
    if not cart.cls.endswith("Cart"):
        report.note("membership", m.id, f"scheduled swap refused: a {cart.cls}, not a Cart")
        return None
    props = cart.props
    plan = catalog.get(str(props.get("plan_id")))
    if plan is None or plan.kind != "plan":
        report.note("membership", m.id, f"scheduled swap to {props.get('plan_id')!r} not mapped")
        return None
    billing = plan.billing
    if not plan.billing.is_once:
        unit = props.get("duration_unit")
        if unit in UNITS:
            billing = BillingOption(max(1, int(props.get("duration") or 1)), unit)
    price = plan.price_for(billing)
    quantities: dict[str, int] = {}
    for item in as_list(props.get("line_items")):
        item_props = item.props if isinstance(item, PhpObject) else item
        if not isinstance(item_props, Mapping) or item_props.get("type") != "product":
            continue
        pid = str(item_props.get("product_id"))
        if pid == plan.id:
            if price is None:
                amount = to_minor(item_props.get("unit_price"), catalog.currency)
                price = amount.minor if amount else None
            continue
        addon = catalog.get(pid)
        if addon is not None and addon.kind != "plan" and not addon.billing.is_once:
            quantities[pid] = quantities.get(pid, 0) + int(item_props.get("quantity") or 1)
    if price is None:
        report.note("membership", m.id, "scheduled swap has no price for its billing; skipped")
        return None
    when = _swap_date(m.meta.get("wu_swap_scheduled_date")) or period_end
    if when is None:
        report.note("membership", m.id, "scheduled swap has no date; skipped")
        return None
    kind = props.get("cart_type") or "change"
    report.note("membership", m.id, f"scheduled {kind} to plan {plan.id} imported")
    return ScheduledChange(when, plan.id, billing, price, _holdings(catalog, quantities))


def _swap_date(text: str | None) -> datetime | None:
    try:
        return utc(datetime.fromisoformat(str(text))) if text else None
    except ValueError:
        return None


def _sites(m: UmMembership, network: UmNetwork, report: Report) -> tuple[ImportedSite, ...]:
    out = []
    for site in network.sites:
        if site.meta.get("wu_membership_id") != str(m.id):
            continue
        if site.meta.get("wu_type") not in (None, "customer_owned"):
            report.note("site", site.blog_id, f"type {site.meta.get('wu_type')!r}; not moved")
            continue
        if site.deleted:
            report.skip("site", site.blog_id, "deleted in WordPress")
            continue
        out.append(ImportedSite(site.blog_id, site.url, site.name, _overrides(site, report)))
    return tuple(out)


def _overrides(owner: UmSite | UmMembership, report: Report) -> Limits | None:
    kind = "site" if isinstance(owner, UmSite) else "membership"
    ident = owner.blog_id if isinstance(owner, UmSite) else owner.id
    mapped = map_limitations(unserialize(owner.meta.get("wu_limitations")))
    if mapped.unreadable:
        report.note(kind, ident, f"limitation overrides refused: {mapped.unreadable}")
    for text in mapped.notes:
        report.note(kind, ident, text)
    return None if mapped.limits.is_empty() else mapped.limits


def map_membership(
    m: UmMembership,
    customer: ImportedCustomer,
    network: UmNetwork,
    catalog: Catalog,
    products: Mapping[str, MappedProduct],
    taxes: TaxSettings,
    fallback_plan: str,
    zone: Any,
    report: Report,
) -> ImportedMembership | None:
    """One UM membership → ours; None (reported) when it cannot or must not be imported."""
    target = STATUSES.get(m.status, "unknown")
    if target is None:
        report.skip("membership", m.id, "pending (never paid or activated)")
        return None
    if target == "unknown" or not isinstance(target, tuple):
        report.skip("membership", m.id, f"status {m.status!r} has no counterpart")
        return None
    status, fall_back = target
    plan = catalog.get(str(m.plan_id))
    if plan is None or plan.kind != "plan":
        report.skip("membership", m.id, f"its plan {m.plan_id} is deleted or not imported")
        return None
    billing = ONCE if plan.billing.is_once else _membership_billing(m, plan)
    quantities = _addons(m, catalog, report)
    mapped = products.get(plan.id)
    rate = None
    if mapped is not None and mapped.taxable and taxes.enabled:
        rate = taxes.rate_for(mapped.tax_category, customer.billing.get("billing_country"))
    prices = _agreed_prices(m, plan, billing, quantities, catalog, rate, taxes, report)
    end = utc(m.date_expiration)
    if end is None and not billing.is_once and status != "cancelled":
        report.skip("membership", m.id, f"no usable date_expiration ({m.date_expiration})")
        return None
    start = boundary(end, billing, -1) if end is not None and not billing.is_once else None
    start = start or utc(m.date_created) or end
    if start is None:
        report.skip("membership", m.id, "no date to start from")
        return None
    anchor = start
    if end is not None and not billing.is_once and boundary(start, billing, 1) != end:
        # A month end clamped (Mar 31 - 1 month = Feb 28): renewals counted from Feb 28 would
        # fall on the 28th; anchored at the period end they keep UM's day of the month.
        anchor = end
        report.note("membership", m.id, "anchored at its period end (a clamped month end)")
    trial_end = utc(m.date_trial_end) if status == "trialing" else None
    paid = (status == "active" and not billing.is_once) or (billing.is_once and m.times_billed > 0)
    membership = Membership(
        plan=plan.id,
        billing=billing,
        plan_price_minor=prices.plan_minor,
        status=status,
        anchor=anchor,
        period_start=start,
        period_end=None if billing.is_once else (end or trial_end),
        currency=catalog.currency,
        addons=prices.addons,
        trial_end=trial_end,
        paid_value_minor=holdings_value(catalog, prices.plan_minor, billing, prices.addons)
        if paid
        else 0,
        setup_fee_paid_minor=plan.setup_fee_minor if m.times_billed > 0 else 0,
        balance_minor=0,
        scheduled_change=_scheduled(m, catalog, end, report),
        overrides=_overrides(m, report),
        tax_rate_paid=_rate_paid(rate, m.id, report) if paid else None,
    )
    if fall_back:
        membership = _on_fallback(membership, catalog, fallback_plan, end or start)
        report.note("membership", m.id, f"expired: cancelled on the fallback plan {fallback_plan}")
    if prices.check is not None and status in ("active", "trialing", "past_due"):
        report.money.append(prices.check)
    if m.gateway_subscription_id:
        report.gateway_subscriptions.append(
            (m.id, m.gateway or "-", m.gateway_subscription_id, m.gateway_customer_id or "")
        )
    return ImportedMembership(
        um_id=m.id,
        customer=customer,
        membership=membership,
        sites=_sites(m, network, report),
        gateway=m.gateway or "",
        gateway_customer_id=m.gateway_customer_id or "",
        gateway_subscription_id=m.gateway_subscription_id or "",
        tax_rate_paid=rate,
        derived_prices=prices.derived,
        last_renewed_at=local_to_utc(m.date_renewed, zone),
    )


def _rate_paid(rate: Decimal | None, um_id: int, report: Report) -> str | None:
    """The rate the current period was paid at, as the bridge keeps it (canonical percent text),
    so the credit for its unused time carries that tax (billing-rules.md §12)."""
    if rate is None:
        return None
    try:
        return parse_rate(format(rate, "f"))
    except ValueError as exc:
        report.note("membership", um_id, f"tax rate {rate} not kept ({exc}); credit untaxed")
        return None


def _membership_billing(m: UmMembership, plan: Product) -> BillingOption:
    unit = m.duration_unit or plan.billing.unit
    if unit not in UNITS:
        return plan.billing
    try:
        return BillingOption(max(1, int(m.duration or 1)), unit)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return plan.billing


def _on_fallback(m: Membership, catalog: Catalog, fallback: str, at: datetime) -> Membership:
    plan = catalog.get(fallback)
    if plan is None:
        return replace(m, status="cancelled", scheduled_change=None, paid_value_minor=0)
    return replace(
        m,
        plan=plan.id,
        billing=plan.billing,
        plan_price_minor=plan.price_minor,
        addons={},
        anchor=at,
        period_start=at,
        period_end=None,
        trial_end=None,
        status="cancelled",
        paid_value_minor=0,
        setup_fee_paid_minor=0,
        scheduled_change=None,
    )
