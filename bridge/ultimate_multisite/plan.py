"""The whole mapping, pure: a network's rows in; catalog data, memberships and the report out.

Two steps, because the memberships are read against the catalog they will live in (the bridge's
current products plus the imported ones): `map_catalog` gives the imported products; the
caller merges them into its catalog (`merge_catalog`) and `map_members` maps the customers,
memberships and sites against the merged, parsed catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from bridge.domain.catalog import Catalog
from bridge.ultimate_multisite.amounts import TaxSettings, tax_settings, to_minor
from bridge.ultimate_multisite.members import (
    ImportedCustomer,
    ImportedMembership,
    customer_of,
    map_membership,
    utc,
)
from bridge.ultimate_multisite.products import MappedProduct, map_product, offer_addons
from bridge.ultimate_multisite.report import Report
from bridge.ultimate_multisite.rows import UmNetwork
from bridge.ultimate_multisite.serialized import unserialize

PAID_STATUSES = ("completed", "partially-refunded", "refunded", "partially-paid")


def network_settings(network: UmNetwork) -> Mapping[str, Any]:
    """`wp-ultimo_v2_settings` as a map ({} when missing or unreadable)."""
    value = unserialize(network.settings)
    return value if isinstance(value, Mapping) else {}


def network_currency(network: UmNetwork) -> str:
    """The currency UM charges in: the `currency_symbol` setting (an ISO code), default USD."""
    return str(network_settings(network).get("currency_symbol") or "USD").strip().upper()


def currency_refusal(network: UmNetwork, bridge_currency: str) -> str | None:
    """The sentence refusing a network whose currency is not the bridge's; None when equal."""
    theirs = network_currency(network)
    if theirs == bridge_currency:
        return None
    return (
        f"The network charges in {theirs} and this bridge's catalog is in {bridge_currency}; "
        "a bridge has one currency, so the network was not imported."
    )


def taxes_of(network: UmNetwork) -> TaxSettings:
    return tax_settings(network_settings(network), unserialize(network.tax_rates))


def map_catalog(network: UmNetwork, currency: str, report: Report) -> dict[str, MappedProduct]:
    """Every UM product as catalog data (keeping UM's ids), add-on offers checked."""
    report.currency = currency
    products: dict[str, MappedProduct] = {}
    for row in network.products:
        mapped = map_product(row, currency, report)
        if mapped is not None:
            products[mapped.id] = mapped
            report.count(f"products ({mapped.kind})")
    plans = [p for p in products.values() if p.kind == "plan"]
    offer_addons(plans, products, report)
    groups = {p.data.get("group") for p in plans if p.data.get("group")}
    report.count("plan groups", len(groups))
    return products


def merge_catalog(
    current: Mapping[str, Any], products: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The bridge's `catalog:` data with the given products added or replaced by id."""
    merged = dict(current.get("products") or {})
    merged.update({pid: dict(data) for pid, data in products.items()})
    return {"currency": current.get("currency"), "products": merged}


@dataclass(frozen=True)
class Members:
    customers: tuple[ImportedCustomer, ...]
    memberships: tuple[ImportedMembership, ...]


def map_members(
    network: UmNetwork,
    catalog: Catalog,
    products: Mapping[str, MappedProduct],
    fallback_plan: str,
    zone: tzinfo,
    report: Report,
) -> Members:
    """Customers, memberships (with their sites) and the payment history, against `catalog`."""
    taxes = taxes_of(network)
    _assumptions(network, catalog.currency, taxes, zone, report)
    customers: dict[int, ImportedCustomer] = {}
    for row in network.customers:
        customer = customer_of(row, report)
        if customer is not None:
            customers[row.id] = customer
    memberships: list[ImportedMembership] = []
    for m in network.memberships:
        owner = customers.get(m.customer_id)
        if owner is None:
            report.skip("membership", m.id, f"its customer {m.customer_id} is not imported")
            continue
        if m.currency and m.currency.upper() != catalog.currency:
            report.assume(
                f"membership {m.id}: its currency column says {m.currency}; UM charges in the "
                f"network currency {catalog.currency}"
            )
        mapped = map_membership(
            m, owner, network, catalog, products, taxes, fallback_plan, zone, report
        )
        if mapped is not None:
            memberships.append(mapped)
            report.count(f"memberships ({mapped.membership.status})")
            report.count("sites", len(mapped.sites))
    used = {m.customer.um_id for m in memberships}
    report.count("customers", len(used))
    for cid in sorted(set(customers) - used):
        report.note("customer", cid, "no imported membership; not imported")
    _payments(network, catalog.currency, report)
    _orphan_sites(network, {m.id for m in network.memberships}, report)
    return Members(tuple(customers[c] for c in sorted(used)), tuple(memberships))


def _assumptions(
    network: UmNetwork, currency: str, taxes: TaxSettings, zone: tzinfo, report: Report
) -> None:
    report.assume(f"currency {currency}, from the network setting currency_symbol")
    report.assume(
        "date_expiration, date_trial_end and date_created read as UTC; date_renewed as the "
        f"main site's local time ({zone}); swaps at wu_swap_scheduled_date (UTC)"
    )
    report.assume("period start and anchor: one billing period before date_expiration")
    report.assume("balances start at 0; no invoice or payment is imported")
    if taxes.enabled:
        mode = "inclusive" if taxes.inclusive else "exclusive"
        report.assume(
            f"taxes on ({mode}): the rate of the plan's tax category for the billing country"
        )
        if taxes.inclusive:
            report.assume("inclusive taxes: agreed prices and paid values include the tax")


def _payments(network: UmNetwork, currency: str, report: Report) -> None:
    for p in network.payments:
        when = utc(p.date_created)
        if when is None or p.status not in PAID_STATUSES:
            continue
        amount = to_minor(p.total, currency)
        month = f"{when.year:04d}-{when.month:02d}"
        n, total = report.payments.get(month, (0, 0))
        report.payments[month] = (n + 1, total + (amount.minor if amount else 0))


def _orphan_sites(network: UmNetwork, known: set[int], report: Report) -> None:
    for site in network.sites:
        raw = site.meta.get("wu_membership_id")
        if raw and raw.isdigit() and int(raw) not in known:
            report.skip("site", site.blog_id, f"points to membership {raw}, which does not exist")
