"""Edit rules for a catalog members hold, the impact of an edit, and the upgrade paths (§2, §4, §5)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.domain.catalog import Catalog, Policy, parse_catalog
from bridge.domain.catalog_data import catalog_data
from bridge.domain.catalog_edits import Holder, catalog_diff, edit_impact, edit_problems
from bridge.domain.membership import Site, Usage
from bridge.domain.paths import upgrade_paths
from bridge.domain.periods import BillingOption

ROOT = Path(__file__).resolve().parents[3]
MONTH = BillingOption(1, "month")
YEAR = BillingOption(1, "year")
AT = datetime(2026, 4, 1, tzinfo=UTC)


def demo() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "config.yaml").read_text())["catalog"]
    return copy.deepcopy(data)


def worked() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples/catalog-worked-examples.yaml").read_text())["catalog"]


def on_premium(**changes: Any) -> Holder:
    fields: dict[str, Any] = {
        "membership_id": 7,
        "plan": "premium",
        "billing": MONTH,
        "addons": {"extra-disk": 1},
        "sites": (Site(2, "Blog 2", Usage(disk_mb=5000)),),
    }
    fields.update(changes)
    return Holder(**fields)


def problems(after: dict[str, Any], holders: list[Holder]) -> list[tuple[str | None, str]]:
    found = edit_problems(parse_catalog(demo()), parse_catalog(after), holders, "free", "free")
    return [(p.product, p.field) for p in found]


@pytest.mark.parametrize("path", ["config.yaml", "examples/catalog-worked-examples.yaml"])
def test_an_export_parses_back_to_the_same_catalog(path: str) -> None:
    section = yaml.safe_load((ROOT / path).read_text())["catalog"]
    catalog = parse_catalog(section)
    assert parse_catalog(catalog_data(catalog)) == catalog


def test_an_export_keeps_optional_product_texts_when_products_carry_them() -> None:
    catalog = parse_catalog(demo())
    free = catalog.products["free"]
    object.__setattr__(free, "names", {"nb": "Gratis"})
    assert catalog_data(catalog)["products"]["free"]["names"] == {"nb": "Gratis"}  # type: ignore[index]


def test_deleting_a_held_plan_is_refused_naming_it_but_retiring_is_allowed() -> None:
    after = demo()
    del after["products"]["premium"]
    assert problems(after, [on_premium()]) == [("premium", "(product)")]
    retired = demo()
    retired["products"]["premium"]["active"] = False
    assert problems(retired, [on_premium()]) == []


def test_renaming_a_held_product_id_is_refused_and_a_new_name_is_allowed() -> None:
    renamed = demo()
    renamed["products"]["big-disk"] = renamed["products"].pop("extra-disk")
    for plan in ("free", "basic", "premium"):
        addons = renamed["products"][plan]["addons"]
        renamed["products"][plan]["addons"] = [
            "big-disk" if a == "extra-disk" else a for a in addons
        ]
    assert problems(renamed, [on_premium()]) == [("extra-disk", "(product)")]
    named = demo()
    named["products"]["extra-disk"]["name"] = "More disk"
    assert problems(named, [on_premium()]) == []


def test_deleting_a_product_nobody_holds_is_allowed() -> None:
    after = demo()
    del after["products"]["unlimited-visits"]
    after["products"]["premium"]["addons"].remove("unlimited-visits")
    assert problems(after, [on_premium()]) == []


def test_an_addon_period_without_exact_ratio_to_a_held_plan_option_is_refused() -> None:
    after = demo()
    after["products"]["extra-disk"]["billing"] = {"every": 1, "unit": "week"}
    after["products"]["free"]["addons"].remove("extra-disk")
    after["products"]["basic"]["addons"].remove("extra-disk")
    after["products"]["premium"]["addons"].remove("extra-disk")
    assert problems(after, [on_premium()]) == [("extra-disk", "billing")]


def test_retiring_the_default_or_fallback_plan_is_refused() -> None:
    after = demo()
    after["products"]["free"]["active"] = False
    assert problems(after, []) == [("free", "active")]


def test_raising_a_package_limit_pushes_holders_sites_at_once() -> None:
    after = demo()
    after["products"]["extra-disk"]["limits"]["disk_mb"] = 4096
    impact = edit_impact(parse_catalog(demo()), parse_catalog(after), [on_premium()])
    assert impact.members == (7,)
    assert impact.push_now == (2,)
    assert impact.at_renewal == ()
    assert [(c.product, c.field) for c in impact.changes] == [("extra-disk", "limits")]


def test_lowering_a_limit_waits_for_renewal_and_lists_sites_that_will_be_over() -> None:
    after = demo()
    after["products"]["premium"]["limits"]["disk_mb"] = 2048
    impact = edit_impact(parse_catalog(demo()), parse_catalog(after), [on_premium()])
    assert impact.push_now == ()
    [move] = impact.at_renewal
    assert (move.membership_id, move.lowered) == (7, True)
    assert [(b.site_id, b.limit, b.usage, b.allowed) for b in impact.over_later] == [
        (2, "disk_mb", 5000, 3072)
    ]


def test_a_price_change_touches_members_but_pushes_nothing() -> None:
    after = demo()
    after["products"]["premium"]["price"] = "35.00"
    impact = edit_impact(parse_catalog(demo()), parse_catalog(after), [on_premium()])
    assert impact.members == (7,)
    assert impact.push_now == ()
    [change] = catalog_diff(parse_catalog(demo()), parse_catalog(after))
    assert (change.product, change.field, change.before, change.after) == (
        "premium",
        "price",
        "29.00",
        "35.00",
    )


def paths_of(catalog: Catalog) -> set[tuple[str, str, str, str, str, str]]:
    found = upgrade_paths(catalog, Policy(), AT)
    return {
        (
            p.source.plan,
            p.source.billing.describe(),
            p.target.plan,
            p.target.billing.describe(),
            p.kind,
            p.timing,
        )
        for p in found.paths
    }


def test_free_and_premium_in_high_end_offer_premium_and_never_basic_to_free() -> None:
    catalog = parse_catalog(demo())
    found = upgrade_paths(catalog, Policy(), AT)
    assert found.offered_from("free") == {"premium"}
    assert found.offered_from("basic") == set()
    assert [(f.name, [s.plan for s in f.stops]) for f in found.families] == [
        ("High End", ["free", "free", "premium", "premium"]),
        (None, ["basic", "basic"]),
    ]


def test_each_path_carries_the_kind_and_timing_a_quote_gives() -> None:
    found = paths_of(parse_catalog(worked()))
    assert ("basic", "1 month", "premium", "1 month", "upgrade", "immediate") in found
    assert ("premium", "1 month", "basic", "1 month", "downgrade", "end_of_term") in found
    assert ("premium", "1 year", "premium", "1 month", "crossgrade", "end_of_term") in found
    assert ("premium", "1 month", "premium", "1 year", "crossgrade", "immediate") in found


def test_retired_plans_are_not_offered_in_the_picture() -> None:
    data = worked()
    data["products"]["basic"]["active"] = False
    found = upgrade_paths(parse_catalog(data), Policy(), AT)
    assert all("basic" not in (p.source.plan, p.target.plan) for p in found.paths)


def test_the_downgrade_policy_changes_the_pictured_timing() -> None:
    found = upgrade_paths(parse_catalog(worked()), Policy(downgrade="immediate"), AT)
    timings = {
        p.timing for p in found.paths if (p.source.plan, p.target.plan) == ("premium", "basic")
    }
    assert timings == {"immediate", "end_of_term"}  # yearly → monthly still waits
