"""Small builders for domain tests: the worked-example catalog and memberships."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bridge.catalog_file import load_catalog_file
from bridge.domain.catalog import Catalog, Policy, parse_catalog
from bridge.domain.membership import Holding, Membership
from bridge.domain.periods import BillingOption

ROOT = Path(__file__).resolve().parents[3]
MONTH = BillingOption(1, "month")
YEAR = BillingOption(1, "year")


def at(text: str) -> datetime:
    """'2026-04-11' or '2026-04-11T12:00' as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def worked_catalog() -> Catalog:
    catalog, _ = load_catalog_file(ROOT / "examples" / "catalog-worked-examples.yaml")
    return catalog


def catalog_of(products: dict[str, dict[str, object]], currency: str = "USD") -> Catalog:
    return parse_catalog({"currency": currency, "products": products})


def membership(
    plan: str = "basic",
    price: int = 3000,
    billing: BillingOption = MONTH,
    start: str = "2026-04-01",
    end: str = "2026-05-01",
    paid: int | None = None,
    addons: dict[str, Holding] | None = None,
    **fields: object,
) -> Membership:
    return Membership(
        plan=plan,
        billing=billing,
        plan_price_minor=price,
        status=fields.pop("status", "active"),  # type: ignore[arg-type]
        anchor=at(start),
        period_start=at(start),
        period_end=at(end),
        paid_value_minor=price if paid is None else paid,
        addons=addons or {},
        **fields,  # type: ignore[arg-type]
    )


RESTART = Policy()
KEEP = Policy(anchor="keep")
