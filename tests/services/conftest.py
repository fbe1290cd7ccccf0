"""Use cases under test: the real unit of work on a real SQLite file, a fake clock and queue."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bridge.adapters.storage import make_engine, migrate
from bridge.adapters.storage.group_commit import make_committer
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.api.inputs import parse_balance_entry, parse_event
from bridge.config import Settings, load_settings
from bridge.services import operator, sites
from bridge.services.context import Actor, Context, owner
from bridge.services.events import handle_event
from bridge.services.views import BalanceEntryView, SiteView
from tests.services.fakes import FakeClock, FakeQueue

ROOT = Path(__file__).resolve().parents[2]

# The owner of the site most tests use (site 2, user 5), as the checkout would act for them.
OWNER = owner(2, 5)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "bridge.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def demo_settings() -> Settings:
    return load_settings({}, ROOT / "config.yaml", require_secrets=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


def context_on(settings: Settings, clock: FakeClock, queue: FakeQueue) -> tuple[Context, Any]:
    """The use cases' context on `settings.database_url`, and its engine (to dispose)."""
    engine = make_engine(settings.database_url)
    uow = unit_of_work_factory(engine, queue)
    return Context(settings, uow, clock, queue, committer=make_committer(engine, uow)), engine


@pytest.fixture
def make_ctx(
    tmp_path: Path,
    migrated_template: Path,
    demo_settings: Settings,
    clock: FakeClock,
    queue: FakeQueue,
) -> Iterator[Callable[..., Context]]:
    """Build a context on a fresh database; keyword arguments replace settings."""
    engines = []
    db = tmp_path / "bridge.db"
    shutil.copy(migrated_template, db)

    def build(**changes: Any) -> Context:
        settings = replace(demo_settings, database_url=f"sqlite:///{db}", **changes)
        ctx, engine = context_on(settings, clock, queue)
        engines.append(engine)
        return ctx

    yield build
    for engine in engines:
        engine.dispose()


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx()


def send_event(ctx: Context, event_id: str, type: str, data: Mapping[str, Any]) -> str:
    """An event as the webhook endpoint hands it on: parsed at the edge, then handled."""
    return handle_event(ctx, event_id, type, parse_event(type, data, ctx.catalog.currency))


def adjust_balance(
    ctx: Context, site_id: int, amount: Any, reason: Any, actor: Actor
) -> BalanceEntryView:
    body = {"amount": amount, "reason": reason}
    minor, text, why = parse_balance_entry(body, ctx.catalog.currency, refund=False)
    return operator.move_balance(ctx, site_id, minor, text, why, actor, "adjustment")


def record_refund(
    ctx: Context, site_id: int, amount: Any, reason: Any, actor: Actor
) -> BalanceEntryView:
    body = {"amount": amount, "reason": reason}
    minor, text, why = parse_balance_entry(body, ctx.catalog.currency, refund=True)
    return operator.move_balance(ctx, site_id, minor, text, why, actor, "refund")


def owner_doc(user_id: int = 5) -> dict[str, Any]:
    return {"user_id": user_id, "email": f"owner{user_id}@example.com", "locale": "nb_NO"}


def create_site(ctx: Context, site_id: int = 2, user_id: int = 5) -> SiteView:
    """A site.created event, as the plugin sends it."""
    send_event(
        ctx,
        f"created-{site_id}",
        "site.created",
        {
            "site_id": site_id,
            "url": f"http://net.example/site{site_id}/",
            "name": f"Blog {site_id}",
            "owner": owner_doc(user_id),
            "timezone": "Europe/Oslo",
        },
    )
    return sites.site_view(ctx, site_id)
