"""UM products (`wp_wu_products` + meta) → catalog products in the quote-cli.md format.

Products keep UM's ids (as strings). What has no counterpart (contact_us pricing, billing
cycles, negative setup fees, site templates, plugin and theme limits, ...) goes to the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.domain.limits import Limits
from bridge.domain.money import format_amount
from bridge.domain.periods import BillingOption, period_ratio
from bridge.ultimate_multisite.amounts import to_minor, truthy
from bridge.ultimate_multisite.limitations import map_limitations
from bridge.ultimate_multisite.report import Report
from bridge.ultimate_multisite.rows import UmProduct
from bridge.ultimate_multisite.serialized import Unreadable, as_list, unserialize

UNITS = ("day", "week", "month", "year")
TRIAL_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
KIND_OF = {"plan": "plan", "package": "package", "service": "service"}


@dataclass(frozen=True)
class MappedProduct:
    """One product in catalog form, and what the members' mapping needs to know of it."""

    id: str
    data: dict[str, Any]
    kind: str
    taxable: bool
    tax_category: str


def _billing(duration: Any, unit: Any) -> BillingOption | None:
    try:
        every = int(duration or 1)
    except (TypeError, ValueError):
        return None
    if unit not in UNITS or every < 1:
        return None
    return BillingOption(every, unit)


def billing_of(p: UmProduct) -> BillingOption | None:
    """The product's own billing option (None when its unit is unusable)."""
    return _billing(p.duration, p.duration_unit or "month")


def _limits_data(limits: Limits) -> dict[str, Any]:
    from bridge.domain.catalog_data import limits_data

    return limits_data(limits)


def _price(p: UmProduct, currency: str, report: Report) -> int:
    if p.pricing_type in ("free", "contact_us"):
        if p.pricing_type == "contact_us":
            report.note("product", p.id, "contact_us pricing has no counterpart; price 0")
        return 0
    amount = to_minor(p.amount, currency)
    if amount is None:
        report.note("product", p.id, f"amount {p.amount!r} is not a number; price 0")
        return 0
    if amount.rounded:
        report.assume(f"product {p.id}: amount {p.amount} rounded to the currency's decimals")
    if p.pricing_type not in ("paid", "free", "contact_us"):
        report.note("product", p.id, f"pricing type {p.pricing_type!r} imported as paid")
    return max(0, amount.minor)


def _variations(
    p: UmProduct, main: BillingOption, currency: str, report: Report
) -> list[dict[str, Any]]:
    raw = unserialize(p.meta.get("price_variations"))
    if isinstance(raw, Unreadable):
        report.note("product", p.id, f"price_variations refused: {raw.reason}")
        return []
    out: list[dict[str, Any]] = []
    seen = {main}
    for entry in as_list(raw):
        if not isinstance(entry, Mapping):
            continue
        billing = _billing(entry.get("duration"), entry.get("duration_unit"))
        amount = to_minor(entry.get("amount"), currency)
        if billing is None or amount is None:
            report.note("product", p.id, f"price variation {dict(entry)!r} unreadable; skipped")
            continue
        if billing in seen:
            report.note("product", p.id, f"price variation every {billing.describe()} repeated")
            continue
        seen.add(billing)
        out.append(
            {"billing": billing.to_json(), "price": format_amount(max(0, amount.minor), currency)}
        )
    return out


def addon_ids(p: UmProduct) -> list[str]:
    """`wu_available_addons`: a comma string or a serialized array (schema.md §2.2)."""
    raw = unserialize(p.meta.get("wu_available_addons"))
    if isinstance(raw, str):
        return [x.strip() for x in raw.split(",") if x.strip()]
    return [str(x).strip() for x in as_list(raw) if str(x).strip()]


def map_product(p: UmProduct, currency: str, report: Report) -> MappedProduct | None:
    """One UM product → catalog data; None (and a report line) when it cannot be mapped."""
    kind = KIND_OF.get(p.type)
    if kind is None:
        report.skip("product", p.id, f"type {p.type!r} has no counterpart")
        return None
    price = _price(p, currency, report)
    billing = billing_of(p)
    if billing is None:
        report.skip("product", p.id, f"duration unit {p.duration_unit!r} is unusable")
        return None
    recurring = bool(p.recurring) and price > 0
    if price == 0 and kind != "service":
        recurring = True  # a free plan keeps its period, so it can carry add-ons and variations
    if not recurring and kind == "package":
        kind = "service"
        report.note("product", p.id, "a one-time package becomes a service (no limits)")
    data: dict[str, Any] = {"name": p.name.strip() or p.slug or f"Product {p.id}", "kind": kind}
    if p.description.strip():
        data["description"] = p.description.strip()
    data["price"] = format_amount(price, currency)
    data["billing"] = billing.to_json() if recurring else "once"
    fee = to_minor(p.setup_fee, currency)
    if fee is not None and fee.minor < 0:
        report.note("product", p.id, "negative setup fee (signup credit) becomes 0")
    elif fee is not None and fee.minor > 0:
        data["setup_fee"] = format_amount(fee.minor, currency)
    if not p.active:
        data["active"] = False
    if p.billing_cycles:
        report.note("product", p.id, f"billing cycles ({p.billing_cycles}) have no counterpart")
    if kind == "plan":
        _plan_fields(p, data, billing if recurring else None, currency, report)
    elif _variations(p, billing, currency, Report()):
        report.note("product", p.id, "price variations of an add-on have no counterpart")
    mapped = map_limitations(unserialize(p.meta.get("wu_limitations")))
    if mapped.unreadable:
        report.note("product", p.id, f"limitations refused: {mapped.unreadable}")
    for text in mapped.notes:
        report.note("product", p.id, text)
    limits = _limits_data(mapped.limits)
    if limits and kind == "service":
        report.note("product", p.id, "limits of a one-time service are not imported")
    elif limits:
        data["limits"] = limits
    return MappedProduct(
        id=str(p.id),
        data=data,
        kind=kind,
        taxable=truthy(p.meta.get("taxable")),
        tax_category=str(p.meta.get("tax_category") or "default"),
    )


def _plan_fields(
    p: UmProduct,
    data: dict[str, Any],
    billing: BillingOption | None,
    currency: str,
    report: Report,
) -> None:
    data["_offered"] = addon_ids(p)
    if p.product_group.strip():
        data["group"] = p.product_group.strip()
    if p.list_order:
        data["order"] = int(p.list_order)
    if p.trial_duration and p.trial_duration > 0 and billing is not None:
        unit = p.trial_duration_unit or "day"
        days = int(p.trial_duration) * TRIAL_DAYS.get(unit, 1)
        data["trial_days"] = days
        if unit in ("month", "year"):
            report.assume(f"product {p.id}: a trial of {p.trial_duration} {unit} is {days} days")
    if billing is not None:
        variations = _variations(p, billing, currency, report)
        if variations:
            data["variations"] = variations
    elif p.meta.get("price_variations") not in (None, "", "a:0:{}"):
        report.note("product", p.id, "a one-time plan cannot have price variations; dropped")
    for text in ("wu_contact_us_label", "legacy_options"):
        if p.meta.get(text):
            report.note("product", p.id, f"{text} has no counterpart")


def offer_addons(
    plans: list[MappedProduct], products: Mapping[str, MappedProduct], report: Report
) -> None:
    """Each plan's `addons`: the offered products that exist, are add-ons and can be billed on
    every billing option of the plan (an exact period ratio); the rest are reported."""
    from bridge.domain.catalog import parse_billing

    for plan in plans:
        offered = plan.data.pop("_offered", [])
        options = [parse_billing(plan.data["billing"])]
        options += [parse_billing(v["billing"]) for v in plan.data.get("variations", [])]
        kept: list[str] = []
        for addon_id in offered:
            addon = products.get(addon_id)
            if addon is None:
                report.note("product", plan.id, f"offers add-on {addon_id}, which is not imported")
                continue
            if addon.kind == "plan":
                report.note("product", plan.id, f"offers {addon_id}, a plan, as an add-on")
                continue
            addon_billing = parse_billing(addon.data["billing"])
            bad = [
                o
                for o in options
                if not addon_billing.is_once
                and (o.is_once or period_ratio(addon_billing, o) is None)
            ]
            if bad:
                report.note(
                    "product",
                    plan.id,
                    f"add-on {addon_id} (every {addon_billing.describe()}) cannot be billed "
                    f"with {bad[0].describe()}; not offered",
                )
                continue
            if addon_id not in kept:
                kept.append(addon_id)
        if kept:
            plan.data["addons"] = kept
