"""The catalog in the database: seed, versions, import rules, grandfathered prices, new prices,
catalog_changed at commit, limits pushed on a raise, retiring, reverting, other processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from bridge.adapters.storage import make_engine
from bridge.adapters.storage.catalogs import SqlCatalogReader
from bridge.api.inputs import parse_selection
from bridge.domain.catalog import CatalogInvalid
from bridge.domain.catalog_data import catalog_data
from bridge.errors import CatalogChanged, ConcurrentChange
from bridge.services import catalog as catalogs
from bridge.services import quotes, sites
from bridge.services.catalog_source import CatalogSource
from bridge.services.context import OPERATOR, SYSTEM, Context
from tests.services.conftest import OWNER, create_site
from tests.services.fakes import FakeQueue


class Ticks:
    """A monotonic clock for the catalog source's check interval."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reader(make_ctx: Callable[..., Context]) -> Iterator[SqlCatalogReader]:
    engine = make_engine(make_ctx().settings.database_url, reader=True)
    yield SqlCatalogReader(engine)
    engine.dispose()


@pytest.fixture
def versioned(make_ctx: Callable[..., Context], reader: SqlCatalogReader) -> Context:
    base = make_ctx()
    ctx = replace(base, catalogs=CatalogSource(reader, base.settings.catalog, check_every_s=0))
    assert catalogs.start_up(ctx, SYSTEM) == "seeded"
    return ctx


def edited(ctx: Context, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = catalog_data(ctx.catalog)
    change(data["products"])  # type: ignore[arg-type]
    return data


def save(ctx: Context, change: Callable[[dict[str, Any]], None]) -> catalogs.Imported:
    return catalogs.import_catalog(ctx, edited(ctx, change), OPERATOR, "wp:admin", "test")


def to_premium(ctx: Context) -> None:
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    quotes.commit_quote(ctx, quote["id"], OWNER)


def test_first_start_seeds_the_catalog_from_config_and_a_second_start_keeps_it(
    versioned: Context,
) -> None:
    assert versioned.snapshot().version == 1
    assert catalogs.start_up(versioned, SYSTEM) == "current"
    records, total = catalogs.versions(versioned, 0, 10)
    assert (total, records[0].actor, records[0].source) == (1, "config.yaml", "seed")


def test_a_config_catalog_that_differs_is_reported_and_never_applied(
    versioned: Context, caplog: pytest.LogCaptureFixture
) -> None:
    save(versioned, lambda p: p["premium"].update(price="35.00"))
    assert catalogs.start_up(versioned, SYSTEM) == "differs"
    assert "differs" in caplog.text
    assert versioned.catalog.products["premium"].price_minor == 3500


def test_an_import_stores_who_why_and_the_diff_and_export_gives_it_back(
    versioned: Context,
) -> None:
    done = save(versioned, lambda p: p["premium"].update(price="35.00"))
    record = catalogs.version_record(versioned, done.version)
    assert (done.version, record.actor, record.reason) == (2, "wp:admin", "test")
    assert record.diff == (
        {"product": "premium", "field": "price", "before": "29.00", "after": "35.00"},
    )
    assert catalogs.export_catalog(versioned)["products"]["premium"]["price"] == "35.00"  # type: ignore[index]
    assert catalogs.export_catalog(versioned, 1)["products"]["premium"]["price"] == "29.00"  # type: ignore[index]


def test_an_unchanged_catalog_makes_no_new_version(versioned: Context) -> None:
    done = save(versioned, lambda p: None)
    assert done.version == 1


def test_an_invalid_or_refused_catalog_is_not_stored_and_names_product_and_field(
    versioned: Context,
) -> None:
    with pytest.raises(CatalogInvalid) as bad:
        save(versioned, lambda p: p["premium"].update(price="-1.00"))
    assert [(e.product, e.field) for e in bad.value.problems] == [("premium", "price")]
    with pytest.raises(CatalogInvalid) as refused:
        save(versioned, lambda p: p["free"].update(active=False))
    assert [(e.product, e.field) for e in refused.value.problems] == [("free", "active")]
    assert versioned.snapshot().version == 1


def test_a_save_on_a_version_that_is_no_longer_current_is_a_conflict(versioned: Context) -> None:
    save(versioned, lambda p: p["premium"].update(price="35.00"))
    data = edited(versioned, lambda p: p["basic"].update(price="13.00"))
    with pytest.raises(ConcurrentChange):
        catalogs.import_catalog(versioned, data, OPERATOR, "wp:admin", "x", base_version=1)


def test_members_keep_their_agreed_price_and_new_upgrades_pay_the_new_one(
    versioned: Context,
) -> None:
    create_site(versioned, 2, 5)
    to_premium(versioned)
    create_site(versioned, 3, 6)
    save(versioned, lambda p: p["premium"].update(price="39.00"))
    kept = sites.site_view(versioned, 2)["membership"]
    assert kept["next_billing"]["amount"] == "29.00"  # type: ignore[index]
    quote = quotes.create_quote(
        versioned, 3, parse_selection({"plan": "premium"}), replace(OWNER, site_id=3, user_id=6)
    )
    assert (quote["due_now"], quote["catalog_version"]) == ("39.00", 2)


def test_a_commit_on_an_older_version_whose_terms_changed_is_catalog_changed(
    versioned: Context,
) -> None:
    create_site(versioned)
    quote = quotes.create_quote(versioned, 2, parse_selection({"plan": "premium"}), OWNER)
    save(versioned, lambda p: p["premium"].update(price="39.00"))
    with pytest.raises(CatalogChanged) as changed:
        quotes.commit_quote(versioned, quote["id"], OWNER)
    assert (changed.value.code, CatalogChanged.code) == ("catalog_changed", "catalog_changed")
    assert sites.site_view(versioned, 2)["membership"]["plan"]["id"] == "free"  # type: ignore[index]


def test_a_commit_on_an_older_version_whose_terms_did_not_change_goes_through(
    versioned: Context,
) -> None:
    create_site(versioned)
    quote = quotes.create_quote(versioned, 2, parse_selection({"plan": "premium"}), OWNER)
    save(versioned, lambda p: p["basic"].update(price="13.00"))
    assert quotes.commit_quote(versioned, quote["id"], OWNER)["status"] == "applied"


def test_raising_a_package_limit_reaches_the_members_sites_at_once(
    versioned: Context, queue: FakeQueue
) -> None:
    create_site(versioned)
    quote = quotes.create_quote(
        versioned, 2, parse_selection({"plan": "premium", "addons": {"extra-disk": 1}}), OWNER
    )
    quotes.commit_quote(versioned, quote["id"], OWNER)
    before = sites.site_view(versioned, 2)["limits"]
    queue.pushes.clear()
    done = save(versioned, lambda p: p["extra-disk"]["limits"].update(disk_mb=4096))
    after = sites.site_view(versioned, 2)["limits"]
    assert done.impact.push_now == (2,)
    assert after["limits"]["disk_mb"] == 10240 + 4096  # type: ignore[index]
    assert after["desired_version"] == before["desired_version"] + 1  # type: ignore[operator]
    assert queue.pushes == [(2, after["desired_version"])]


def test_lowering_a_limit_pushes_nothing_now(versioned: Context, queue: FakeQueue) -> None:
    create_site(versioned)
    queue.pushes.clear()
    done = save(versioned, lambda p: p["free"]["limits"].update(disk_mb=50))
    assert done.impact.push_now == ()
    assert [m.membership_id for m in done.impact.at_renewal] == [1]
    assert queue.pushes == []


def test_a_retired_plan_leaves_the_change_page_and_stays_with_its_members(
    versioned: Context,
) -> None:
    create_site(versioned, 2, 5)
    to_premium(versioned)
    create_site(versioned, 3, 6)
    save(versioned, lambda p: p["premium"].update(active=False))
    offered = [p["id"] for p in sites.options(versioned, 3)["plans"]]
    assert offered == ["free"]
    assert sites.site_view(versioned, 2)["membership"]["plan"]["id"] == "premium"  # type: ignore[index]


def test_a_revert_is_a_new_version_holding_the_earlier_document(versioned: Context) -> None:
    save(versioned, lambda p: p["premium"].update(price="39.00"))
    done = catalogs.revert_catalog(versioned, 1, OPERATOR, "wp:admin", "too dear")
    record = catalogs.version_record(versioned, done.version)
    assert (done.version, record.source) == (3, "revert")
    assert versioned.catalog.products["premium"].price_minor == 2900


def test_another_process_notices_a_new_version_after_its_check_interval(
    versioned: Context, reader: SqlCatalogReader
) -> None:
    ticks = Ticks()
    other = replace(
        versioned, catalogs=CatalogSource(reader, versioned.settings.catalog, 2.0, ticks)
    )
    assert other.snapshot().version == 1
    save(versioned, lambda p: p["premium"].update(price="39.00"))
    ticks.now = 1.0
    assert other.snapshot().version == 1  # not checked again yet
    ticks.now = 2.5
    assert other.snapshot().version == 2
    assert other.catalog.products["premium"].price_minor == 3900
