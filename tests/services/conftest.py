"""Services under test: the real facade on a real SQLite file, with a fake clock and queue."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bridge.adapters.storage import make_engine, make_session_factory, migrate
from bridge.config import Settings, load_settings
from bridge.services.bridge import Bridge
from tests.services.fakes import FakeClock, FakeQueue

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def make_bridge(
    tmp_path: Path,
    migrated_template: Path,
    demo_settings: Settings,
    clock: FakeClock,
    queue: FakeQueue,
) -> Iterator[Callable[..., Bridge]]:
    """Build a Bridge on a fresh database; keyword arguments replace settings."""
    engines = []
    db = tmp_path / "bridge.db"
    shutil.copy(migrated_template, db)

    def build(**changes: Any) -> Bridge:
        settings = replace(demo_settings, database_url=f"sqlite:///{db}", **changes)
        engine = make_engine(settings.database_url)
        engines.append(engine)
        return Bridge(settings, make_session_factory(engine), clock, queue)

    yield build
    for engine in engines:
        engine.dispose()


@pytest.fixture
def bridge(make_bridge: Callable[..., Bridge]) -> Bridge:
    return make_bridge()


def owner(user_id: int = 5) -> dict[str, Any]:
    return {"user_id": user_id, "email": f"owner{user_id}@example.com", "locale": "nb_NO"}


def create_site(bridge: Bridge, site_id: int = 2, user_id: int = 5) -> dict[str, Any]:
    """A site.created event, as the plugin sends it."""
    bridge.handle_event(
        f"created-{site_id}",
        "site.created",
        {
            "site_id": site_id,
            "url": f"http://net.example/site{site_id}/",
            "name": f"Blog {site_id}",
            "owner": owner(user_id),
            "timezone": "Europe/Oslo",
        },
    )
    return bridge.site_view(site_id)
