"""A catalog as plain data: the YAML/JSON shape of quote-cli.md, for export and for versions."""

from __future__ import annotations

from collections.abc import Mapping

from bridge.domain.catalog import Catalog, Product
from bridge.domain.limits import LIMIT_KEYS, Limits
from bridge.domain.money import format_amount
from bridge.domain.periods import BillingOption


def billing_data(billing: BillingOption) -> object:
    """A billing option in the catalog format: `{every, unit}` or the string `once`."""
    return "once" if billing.is_once else {"every": billing.every, "unit": billing.unit}


def limits_data(limits: Limits) -> dict[str, object]:
    """The limits a product writes, in the catalog format (absent keys stay absent)."""
    out: dict[str, object] = {}
    for key in LIMIT_KEYS:
        if key == "posts":
            if limits.posts:
                out["posts"] = dict(limits.posts)
        elif limits.scalar(key) is not None:
            out[key] = limits.scalar(key)
    return out


# Optional per-language texts a Product may carry (added by the owner-language work); exported
# whenever present so that an export → import round trip loses nothing.
_OPTIONAL_TEXTS = ("description", "names", "descriptions")


def product_data(product: Product, currency: str) -> dict[str, object]:
    """One product in the catalog format of quote-cli.md, defaults left out."""
    out: dict[str, object] = {"name": product.name}
    for key in _OPTIONAL_TEXTS:
        value = getattr(product, key, None)
        if value:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    out["kind"] = product.kind
    out["price"] = format_amount(product.price_minor, currency)
    out["billing"] = billing_data(product.billing)
    if product.setup_fee_minor:
        out["setup_fee"] = format_amount(product.setup_fee_minor, currency)
    if product.kind == "plan":
        if product.group is not None:
            out["group"] = product.group
        if product.order:
            out["order"] = product.order
        if product.trial_days:
            out["trial_days"] = product.trial_days
        if product.addons:
            out["addons"] = list(product.addons)
        if product.variations:
            out["variations"] = [
                {
                    "billing": billing_data(v.billing),
                    "price": format_amount(v.price_minor, currency),
                }
                for v in product.variations
            ]
    if not product.active:
        out["active"] = False
    limits = limits_data(product.limits)
    if limits:
        out["limits"] = limits
    return out


def catalog_data(catalog: Catalog) -> dict[str, object]:
    """The `catalog:` section for `catalog`; parse_catalog(catalog_data(c)) == c."""
    return {
        "currency": catalog.currency,
        "products": {
            pid: product_data(product, catalog.currency)
            for pid, product in catalog.products.items()
        },
    }
