"""`bridge import ultimate-multisite` against UM 2.x tables in the harness's real MariaDB.

The network's tables are built in the harness's own WordPress database (tests/integration/
wordpress/um_network.py, written from docs/ultimate-multisite/schema.md), read through a
read-only database user, and imported into a bridge on SQLite: the catalog, the memberships, the
report's lines, an idempotent second run, changes and conflicts, and --undo.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bridge.adapters.storage import make_engine, migrate
from bridge.adapters.storage.catalogs import SqlCatalogReader
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.adapters.um_reader import UmReader, database_url, read_network
from bridge.api.inputs import parse_event
from bridge.config import load_settings
from bridge.domain.catalog_data import catalog_data
from bridge.domain.limits import Limits
from bridge.domain.periods import BillingOption
from bridge.errors import UmImportRefused
from bridge.services import catalog as catalogs
from bridge.services.catalog_source import CatalogSource
from bridge.services.context import OPERATOR, SYSTEM, Context
from bridge.services.events import handle_event
from bridge.services.operator import MembershipInput, put_membership
from bridge.services.um_import import import_network
from bridge.services.um_undo import undo_import
from tests.integration.wordpress import um_network
from tests.services.fakes import FakeClock, FakeQueue
from tests.wordpress.harness import Site, WordPressNetwork

pytestmark = [pytest.mark.wordpress]
ROOT = Path(__file__).resolve().parents[3]
WHO = "cli:test"


@pytest.fixture(scope="module")
def um_sites(wp_network: WordPressNetwork) -> list[Site]:
    return [wp_network.create_site(wp_network.next_slug(f"um{n}")) for n in range(3)]


@pytest.fixture(scope="module")
def um_urls(wp_network: WordPressNetwork, um_sites: list[Site]) -> Iterator[tuple[str, str]]:
    writer, reader = um_network.database_users(wp_network)
    um_network.build(writer, [s.owner_id for s in um_sites], [s.blog_id for s in um_sites])
    try:
        yield writer, reader
    finally:
        um_network.reset(writer)


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Context]:
    db = tmp_path / "bridge.db"
    migrate(f"sqlite:///{db}")
    settings = replace(
        load_settings({}, ROOT / "config.yaml", require_secrets=False),
        database_url=f"sqlite:///{db}",
    )
    engine = make_engine(settings.database_url)
    reader = make_engine(settings.database_url, reader=True)
    queue = FakeQueue()
    base = Context(settings, unit_of_work_factory(engine, queue), FakeClock(), queue)
    ctx = replace(base, catalogs=CatalogSource(SqlCatalogReader(reader), settings.catalog, 0))
    ctx.clock.set(datetime(2026, 12, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    assert catalogs.start_up(ctx, SYSTEM) == "seeded"
    yield ctx
    engine.dispose()
    reader.dispose()


def _site_created(ctx: Context, site: Site) -> None:
    data = {
        "site_id": site.blog_id,
        "url": site.url,
        "name": f"Site {site.slug}",
        "owner": {"user_id": site.owner_id, "email": site.owner_email, "locale": "en_US"},
    }
    event = parse_event("site.created", data, "USD")
    assert handle_event(ctx, f"created-{site.blog_id}", "site.created", event) == "processed"


def _read(reader_url: str) -> tuple[Any, Any]:
    return read_network(database_url({"BRIDGE_UM_DATABASE_URL": reader_url}), "wp_", 1)


def _membership_of(ctx: Context, blog_id: int) -> tuple[int, Any]:
    with ctx.uow() as uow:
        site = uow.sites.get(blog_id)
        assert site is not None and site.membership_id is not None
        return site.membership_id, uow.memberships.get(site.membership_id)


def test_import_brings_catalog_memberships_and_a_report_then_reruns_and_undoes(
    bridge: Context, um_urls: tuple[str, str], um_sites: list[Site]
) -> None:
    writer, reader = um_urls
    a, b, c = um_sites
    _site_created(bridge, b)  # b's bridge membership came from site.created alone: moved
    _site_created(bridge, c)
    put_membership(bridge, c.blog_id, MembershipInput(plan="premium"), OPERATOR)  # c: left
    network, zone = _read(reader)

    preview = import_network(bridge, network, zone, OPERATOR, WHO, dry_run=True)
    lines = preview.report.lines()
    text_ = "\n".join(lines)
    assert bridge.snapshot().version == 1  # a dry run writes nothing
    assert "  memberships (active): 2" in lines
    assert "  memberships (trialing): 1" in lines
    assert "  memberships (cancelled): 1" in lines
    assert "  products (plan): 5" in lines and "  products (package): 1" in lines
    assert "  membership 5: pending (never paid or activated)" in lines
    assert "  membership 6: its customer 4 is not imported" in lines
    assert "  customer 4: its WordPress user 99999 no longer exists" in lines
    assert "  membership 1: UM 15.00, bridge 15.00 + tax = 15.00: ok" in lines
    assert "  membership 2: UM 370.00, bridge 370.00 + tax = 370.00: ok" in lines
    assert "  membership 1: stripe subscription sub_TEST1 (customer cus_TEST1)" in lines
    assert "  2026-11: 1 payments, 15.00" in lines and "  2025-09: 1 payments, 45.00" in lines
    assert f"  site {c.blog_id}: its bridge membership" in text_
    assert "main site's local time (Europe/Oslo)" in text_
    assert "product 4: plugins limits have no counterpart here; not imported" in text_
    assert "product 7: negative setup fee (signup credit) becomes 0" in text_
    assert "membership 4: UM's recurring total 20" in text_  # derived prices are flagged
    assert "@example" not in text_

    done = import_network(bridge, network, zone, OPERATOR, WHO, dry_run=False)
    assert done.batch_id == 1 and bridge.snapshot().version == 2
    products = catalog_data(bridge.catalog)["products"]
    assert products["2"] == {
        "name": "Starter",
        "kind": "plan",
        "price": "10.00",
        "billing": {"every": 1, "unit": "month"},
        "group": "main",
        "order": 2,
        "trial_days": 14,
        "addons": ["5", "6"],
        "variations": [{"billing": {"every": 1, "unit": "year"}, "price": "100.00"}],
        "limits": {
            "visits": "unlimited",
            "disk_mb": 500,
            "posts": {"post": 50, "page": "unlimited"},
            "users": 1,
            "custom_domains": "unlimited",
            "sites": 1,
        },
    }
    assert products["3"]["limits"] == {
        "visits": "unlimited",
        "disk_mb": "unlimited",
        "users": "unlimited",
        "custom_domains": 2,
        "sites": 3,
    }
    assert products["3"]["setup_fee"] == "20.00"
    assert products["4"]["group"] == "agency" and products["4"]["limits"] == {"sites": "unlimited"}
    assert products["5"]["kind"] == "package" and products["5"]["limits"] == {"sites": 1}
    assert products["6"]["kind"] == "service" and products["6"]["billing"] == "once"
    assert products["7"]["active"] is False and "setup_fee" not in products["7"]
    assert products["7"]["limits"] == {"sites": 1, "custom_domains": 0}
    assert "free" in products and "premium" in products  # the bridge's own stay

    mid_a, ma = _membership_of(bridge, a.blog_id)
    assert (ma.plan, ma.billing, ma.plan_price_minor, ma.status) == (
        "2", BillingOption(1, "month"), 1000, "active",
    )  # fmt: skip
    assert {k: (h.quantity, h.price_minor) for k, h in ma.addons.items()} == {"5": (1, 500)}
    assert ma.period_end == datetime(2026, 12, 24, 23, 59, 59, tzinfo=UTC)
    assert ma.period_start == ma.anchor == datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC)
    assert (ma.paid_value_minor, ma.setup_fee_paid_minor, ma.balance_minor) == (1500, 0, 0)
    with bridge.uow() as uow:
        site_a = uow.sites.get(a.blog_id)
        assert site_a is not None and site_a.overrides == Limits(disk_mb=800)
        assert site_a.owner_user_id == a.owner_id

    _, mb = _membership_of(bridge, b.blog_id)
    assert (mb.plan, mb.billing, mb.plan_price_minor) == ("3", BillingOption(1, "year"), 25000)
    assert mb.addons["5"].quantity == 2 and mb.setup_fee_paid_minor == 2000
    assert mb.overrides == Limits(visits=5000)
    change = mb.scheduled_change
    assert change is not None and change.plan == "2" and change.plan_price_minor == 10000
    assert change.billing == BillingOption(1, "year")
    assert change.effective_at == datetime(2027, 6, 1, 23, 59, 59, tzinfo=UTC)
    assert change.addon_quantities() == {"5": 1}

    _, mc = _membership_of(bridge, c.blog_id)
    assert mc.plan == "premium"  # left on its paid bridge membership, and reported
    statuses = sorted(m.status for m in _memberships(bridge))
    assert statuses.count("trialing") == 1 and statuses.count("cancelled") == 2
    trialing = next(m for m in _memberships(bridge) if m.status == "trialing")
    assert trialing.trial_end == datetime(2026, 12, 10, 23, 59, 59, tzinfo=UTC)

    # The second run changes nothing.
    count = len(_memberships(bridge))
    again = import_network(bridge, network, zone, OPERATOR, WHO, dry_run=False)
    assert len(_memberships(bridge)) == count and bridge.snapshot().version == 2
    assert not again.report.changes and not again.report.conflicts

    # UM moves on (a renewal of membership 1); the operator changed membership 3 in the bridge
    # and UM changed it too: the renewal comes over, membership 3 is a conflict, kept.
    engine = create_engine(writer, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE wp_wu_memberships SET date_expiration = '2027-01-24 23:59:59' WHERE id IN (1, 3)"))  # fmt: skip
    engine.dispose()
    trial_id = next(i for i, m in _memberships_by_id(bridge).items() if m.status == "trialing")
    with bridge.uow() as uow:
        m3 = uow.memberships.get(trial_id)
        uow.memberships.save(
            trial_id, m3.version, replace(m3, overrides=Limits(users=9)), bridge.now()
        )
        uow.commit()
    third = import_network(bridge, *_read(reader), OPERATOR, WHO, dry_run=False)
    assert ("membership", "1", f"membership {mid_a} updated") in third.report.changes
    assert any(k == "membership" and i == "3" for k, i, _ in third.report.conflicts)
    assert _membership_of(bridge, a.blog_id)[1].period_end == datetime(2027, 1, 24, 23, 59, 59, tzinfo=UTC)  # fmt: skip
    assert _memberships_by_id(bridge)[trial_id].overrides == Limits(users=9)

    # Undo batch 1: refused while membership 3 carries the bridge's change; listed.
    with pytest.raises(UmImportRefused, match=f"membership {trial_id} .UM 3. changed since"):
        undo_import(bridge, 1, OPERATOR, WHO)
    with bridge.uow() as uow:
        m3 = uow.memberships.get(trial_id)
        uow.memberships.save(trial_id, m3.version, replace(m3, overrides=None), bridge.now())
        rec = uow.imports.record("ultimate-multisite", "membership", "3")
        assert rec is not None
        uow.imports.remember(1, rec.source, rec.kind, rec.source_id, rec.bridge_id, rec.written, m3.version + 1, rec.data)  # fmt: skip
        uow.commit()
    lines = undo_import(bridge, 1, OPERATOR, WHO)
    assert f"site {b.blog_id} back on membership" in "\n".join(lines)
    assert any(line.startswith("catalog reverted to version 1") for line in lines)
    assert "2" not in catalog_data(bridge.catalog)["products"]
    _, back = _membership_of(bridge, b.blog_id)
    assert back.plan == "free" and back.status == "active"
    with bridge.uow() as uow:
        site_a = uow.sites.get(a.blog_id)
        assert site_a is not None and site_a.membership_id is None
    assert sorted(m.plan for m in _memberships(bridge)) == ["free", "premium"]


def _memberships_by_id(ctx: Context) -> dict[int, Any]:
    with ctx.uow() as uow:
        return {x.id: uow.memberships.get(x.id) for x in uow.memberships.listing()}


def _memberships(ctx: Context) -> list[Any]:
    return list(_memberships_by_id(ctx).values())


def test_the_reader_works_inside_a_read_only_transaction(um_urls: tuple[str, str]) -> None:
    _, reader = um_urls
    url = database_url({"BRIDGE_UM_DATABASE_URL": reader})
    network = UmReader(url).read()
    assert [p.id for p in network.products] == [1, 2, 3, 4, 5, 6, 7]
    assert network.timezone == "Europe/Oslo"
    assert len(network.memberships) == 6 and network.memberships[1].meta["wu_swap_order"]


def test_wp_ultimo_1_and_another_currency_are_refused(
    bridge: Context, um_urls: tuple[str, str]
) -> None:
    writer, reader = um_urls
    with pytest.raises(UmImportRefused, match=r"WP Ultimo 1\.x"):
        _v1(writer, reader)
    network, zone = _read(reader)
    eur = replace(network, settings=network.settings.replace('s:3:"USD"', 's:3:"EUR"'))
    with pytest.raises(UmImportRefused, match="charges in EUR and this bridge's catalog is in USD"):
        import_network(bridge, eur, zone, OPERATOR, WHO, dry_run=True)


def _v1(writer: str, reader: str) -> None:
    """A second network prefix holding only WP Ultimo 1.x's table: refused with a message."""
    engine = create_engine(writer, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS v1_wu_subscriptions (ID mediumint PRIMARY KEY)"))  # fmt: skip
    engine.dispose()
    UmReader(database_url({"BRIDGE_UM_DATABASE_URL": reader}), prefix="v1_").read()


def test_the_command_prints_the_report_and_writes_nothing_on_a_dry_run(
    um_urls: tuple[str, str], tmp_path: Path
) -> None:
    from bridge.cli import cli

    _, reader = um_urls
    env = {
        **os.environ,
        "BRIDGE_UM_DATABASE_URL": reader,
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "BRIDGE_QUEUE_BACKEND": "immediate",
        "BRIDGE_WEBHOOK_SECRET": "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        "BRIDGE_ADMIN_TOKEN": "x" * 32,
    }
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    result = CliRunner().invoke(
        cli,
        ["--config", str(tmp_path / "config.yaml"), "import", "ultimate-multisite", "--dry-run"],
        env=env,
        obj={},
    )
    assert result.exit_code == 0, result.output
    assert "Ultimate Multisite import report" in result.output
    assert "dry run: nothing was written" in result.output
    assert "@example" not in result.output
