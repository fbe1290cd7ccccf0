"""Fan-out against a real HTTP receiver on loopback: batches, per-site errors, dead pushes.

The app is the real one on SQLite with the immediate queue (a fan-out and the single pushes it
hands on run inside the call that queues them; retries wait until `run_scheduled`). Many sites
change at once the way they do in production: a catalog import raises the Free plan's limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bridge import create_app
from bridge.adapters.storage import migrate
from bridge.adapters.tasks import fanout_lease
from bridge.app import runtime_of
from bridge.config import load_settings
from bridge.domain.catalog_data import catalog_data
from bridge.services import catalog as catalogs
from bridge.services.context import OPERATOR
from tests.integration.push.receiver import Receiver
from tests.integration.push.test_push_retries import (
    ROOT,
    SECRET,
    Dice,
    create_site,
    environment,
    limits_state,
    run_retries,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as r:
        yield r


def fanout_app(tmp_path: Path, receiver: Receiver, **extra: str) -> Flask:
    env = environment(
        tmp_path,
        receiver,
        BRIDGE_PUSH_FANOUT_FROM="2",
        BRIDGE_PUSH_BATCH_SIZE="2",
        BRIDGE_PUSH_MAX_DOCS_PER_S="0",
        **extra,
    )
    settings = load_settings(environ=env, path=ROOT / "config.yaml")
    migrate(settings.database_url)
    return create_app(settings, rand=Dice(0.5))


@pytest.fixture
def app(tmp_path: Path, receiver: Receiver) -> Iterator[Flask]:
    app = fanout_app(tmp_path, receiver)
    yield app
    runtime_of(app).close()


def with_sites(app: Flask, receiver: Receiver, count: int) -> list[int]:
    ids = list(range(2, 2 + count))
    for site_id in ids:
        create_site(app, receiver, site_id)
    receiver.state.log.clear()
    return ids


def raise_free_disk(app: Flask) -> None:
    ctx = runtime_of(app).ctx
    data = catalog_data(ctx.catalog)
    data["products"]["free"]["limits"]["disk_mb"] += 100  # type: ignore[index]
    catalogs.import_catalog(ctx, data, OPERATOR, "wp:admin", "more disk for Free")


def routes(receiver: Receiver) -> list[tuple[str, Any]]:
    """The site pushes received (the default plan's own push aside), in order."""
    return [
        (r.path, r.site_id) for r in receiver.state.log if r.path != "/bridge/v1/default-limits"
    ]


def test_raising_a_plans_limits_reaches_every_site_in_batches(
    app: Flask, receiver: Receiver
) -> None:
    ids = with_sites(app, receiver, 5)

    raise_free_disk(app)

    assert receiver.state.batches == 3  # 2 + 2 + 1 documents
    assert {r[0] for r in routes(receiver)} == {"/bridge/v1/limits/batch"}
    assert len(routes(receiver)) == 5
    for site_id in ids:
        state = limits_state(app, site_id)
        assert state["applied_version"] == state["desired_version"] == 2
        assert receiver.state.applied[site_id] == 2


def test_a_site_refused_inside_a_batch_is_pushed_on_its_own_and_shows_the_error(
    app: Flask, receiver: Receiver
) -> None:
    ids = with_sites(app, receiver, 3)
    receiver.state.unknown_sites = {3}

    raise_free_disk(app)

    assert routes(receiver)[-1] == ("/bridge/v1/limits", 3)  # the single push after the batch
    refused = limits_state(app, 3)
    assert refused["applied_version"] < refused["desired_version"]
    assert "bridge_unknown_site" in refused["last_error"]
    for site_id in (s for s in ids if s != 3):
        state = limits_state(app, site_id)
        assert state["applied_version"] == state["desired_version"]


def test_sites_of_a_batch_that_failed_whole_retry_alone_and_end_dead_like_any_push(
    app: Flask, receiver: Receiver
) -> None:
    ids = with_sites(app, receiver, 2)
    receiver.state.script.extend(["503"] * 40)  # the network is down throughout

    raise_free_disk(app)
    while run_retries(app):
        pass

    assert routes(receiver)[0] == ("/bridge/v1/limits/batch", None)
    singles = [site_id for path, site_id in routes(receiver) if path == "/bridge/v1/limits"]
    assert sorted(singles) == [2, 2, 2, 2, 3, 3, 3, 3]
    for site_id in ids:
        state = limits_state(app, site_id)
        assert state["dead"] is True and "503" in state["last_error"]


def test_a_second_fanout_waits_while_one_holds_the_network(app: Flask, receiver: Receiver) -> None:
    ids = with_sites(app, receiver, 2)
    runtime = runtime_of(app)
    held_until = runtime.ctx.clock.now().timestamp() + 60
    runtime.queue.huey.put("bridge:fanout", held_until)  # another worker's fan-out

    raise_free_disk(app)

    assert routes(receiver) == []
    assert runtime.jobs.reconcile(False) == 0  # the running fan-out keeps the network
    runtime.queue.huey.delete("bridge:fanout")
    assert run_retries(app) == 1  # the waiting fan-out runs once the network is free
    assert routes(receiver) == [("/bridge/v1/limits/batch", 2), ("/bridge/v1/limits/batch", 3)]
    assert receiver.state.batches == 1
    assert all(limits_state(app, s)["applied_version"] == 2 for s in ids)


def test_a_lease_left_by_a_killed_worker_is_taken_over_once_its_deadline_passed(
    app: Flask, receiver: Receiver
) -> None:
    ids = with_sites(app, receiver, 2)
    runtime = runtime_of(app)
    runtime.queue.huey.put("bridge:fanout", runtime.ctx.clock.now().timestamp() - 1)

    raise_free_disk(app)

    assert receiver.state.batches == 1
    assert all(limits_state(app, s)["applied_version"] == 2 for s in ids)
    assert runtime.queue.huey.get("bridge:fanout", peek=True) is None  # released at the end


def test_the_lease_outlasts_a_batch_that_waits_its_turn_under_a_slow_cap() -> None:
    assert fanout_lease(100, 200, 5) == timedelta(minutes=1)
    assert fanout_lease(100, 0, 10) == timedelta(minutes=1)
    assert fanout_lease(100, 1, 10) == timedelta(seconds=3 * (100 + 2 * 10))
