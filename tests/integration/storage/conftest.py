"""Storage tests run on SQLite and on PostgreSQL (the harness's `postgres_url`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from bridge.adapters.storage import make_engine, migrate
from bridge.adapters.storage.group_commit import make_committer
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.config import Settings, load_settings
from bridge.services.context import Context
from tests.services.conftest import send_event
from tests.services.fakes import FakeClock, FakeQueue

ROOT = Path(__file__).resolve().parents[3]


def _reset_postgres(url: str) -> None:
    """An empty public schema, so every test migrates up from nothing."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/nested/folder/bridge.db"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    migrate(database_url)
    engine = make_engine(database_url, pool_size=25, max_overflow=10)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    loaded = load_settings({}, ROOT / "config.yaml", require_secrets=False)
    return replace(loaded, database_url=database_url)


@pytest.fixture
def make_ctx(engine: Engine, settings: Settings, clock: FakeClock) -> Callable[..., Context]:
    def build(**changes: Any) -> Context:
        queue = FakeQueue()
        uow = unit_of_work_factory(engine, queue)
        committer = make_committer(engine, uow)
        return Context(replace(settings, **changes), uow, clock, queue, committer=committer)

    return build


def create_site(ctx: Context, site_id: int, user_id: int) -> None:
    send_event(
        ctx,
        f"created-{site_id}",
        "site.created",
        {
            "site_id": site_id,
            "url": f"http://net.example/site{site_id}/",
            "name": f"Blog {site_id}",
            "owner": {"user_id": user_id, "email": "o@example.com", "locale": "id_ID"},
        },
    )
