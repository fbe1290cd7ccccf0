"""A `bridge worker` process killed with SIGKILL in the middle of pushes loses nothing.

Real parts: the worker is the installed `bridge` command in its own process, on an SQLite
database and an SqliteHuey (or RedisHuey) queue; the receiver is a real HTTP server on loopback that hangs, so
the kill lands while pushes are in flight (their tasks already taken off the queue). After a
restart (two worker processes this time: scale-out), the start-up reconcile re-queues every
site whose applied version is behind.
"""

from __future__ import annotations

import base64
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from bridge import create_app
from bridge.adapters.storage import migrate
from bridge.app import runtime_of
from bridge.config import load_settings
from bridge.services import sites
from tests.integration.push.receiver import Receiver
from tests.services.conftest import send_event
from tests.support.processes import log_tail, start_server, stop_server

ROOT = Path(__file__).resolve().parents[3]
BRIDGE = Path(sys.executable).with_name("bridge")
SECRET = "whsec_" + base64.b64encode(b"worker-crash-test-secret-32bytes").decode()
SITES = range(2, 8)

pytestmark = pytest.mark.slow


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, log: Path) -> None:
    """Bounded polling of a real process's effect (the only waiting these tests do)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout_s} s; worker log:\n{log_tail(log)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as r:
        yield r


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def queue_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The embedded SqliteHuey queue, and RedisHuey for scale-out."""
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
        return {"BRIDGE_QUEUE_BACKEND": "redis", "BRIDGE_QUEUE_REDIS_URL": redis_url}
    return {"BRIDGE_QUEUE_BACKEND": "sqlite", "BRIDGE_QUEUE_PATH": f"{tmp_path}/state/queue.db"}


@pytest.fixture
def env(tmp_path: Path, receiver: Receiver, queue_env: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_CONFIG": str(ROOT / "config.yaml"),
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path}/state/bridge.db",
        "BRIDGE_ADMIN_TOKEN": "admin-token-for-the-crash-test-012345678",
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_WORDPRESS_URL": receiver.url,
        "BRIDGE_WORDPRESS_TIMEOUT_S": "20",  # the kill, not a timeout, ends the first pushes
        "BRIDGE_PUSH_BASE_DELAY_S": "0.2",
        "BRIDGE_PUSH_MAX_DELAY_S": "1",
        **queue_env,
    }


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Flask]:
    """The same database and queue, seen from the test: events go in, states are read."""
    settings = load_settings(environ=env)
    migrate(settings.database_url)
    app = create_app(settings)
    yield app
    runtime_of(app).close()


def behind(app: Flask) -> list[int]:
    ctx = runtime_of(app).ctx
    return [
        site_id
        for site_id in SITES
        if (state := sites.site_view(ctx, site_id)["limits"])["applied_version"]
        < state["desired_version"]
    ]


def test_every_site_converges_after_a_worker_is_killed_mid_push(
    app: Flask, env: dict[str, str], receiver: Receiver, tmp_path: Path
) -> None:
    ctx = runtime_of(app).ctx
    for site_id in SITES:
        data = {
            "site_id": site_id,
            "url": receiver.site_url(site_id),
            "name": f"Site {site_id}",
            "owner": {"user_id": site_id, "email": f"o{site_id}@example.com", "locale": "en_US"},
            "timezone": "UTC",
        }
        assert send_event(ctx, f"created-{site_id}", "site.created", data) == "processed"
    assert behind(app) == list(SITES)  # queued in SQLite, nobody consuming yet

    receiver.state.hang_all = True
    log = tmp_path / "worker-1.log"
    worker = start_server([str(BRIDGE), "worker", "--workers", "2"], log_path=log, env=env)
    try:
        wait_for("two pushes in flight", lambda: receiver.state.arrived >= 2, 20, log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop_server(worker)
    assert worker.returncode == -signal.SIGKILL
    in_flight_when_killed = receiver.state.arrived
    assert behind(app) == list(SITES)

    receiver.state.hang_all = False
    receiver.state.release.set()  # the hung requests answer 503 to nobody
    # Scale-out: two worker processes on the same queue and database take over.
    logs = [tmp_path / "worker-2.log", tmp_path / "worker-3.log"]
    started = time.monotonic()
    workers = [
        start_server([str(BRIDGE), "worker", "--workers", "2"], log_path=path, env=env)
        for path in logs
    ]
    try:
        wait_for("every site on its desired version", lambda: behind(app) == [], 30, logs[0])
        converged_s = time.monotonic() - started
    finally:
        for process in workers:
            stop_server(process)

    for site_id in SITES:
        state = sites.site_view(ctx, site_id)["limits"]
        assert receiver.state.applied[site_id] == state["desired_version"]
        assert state["last_error"] is None and not state["dead"]
    print(
        f"{env['BRIDGE_QUEUE_BACKEND']}: killed with {in_flight_when_killed} pushes in flight; "
        f"two restarted workers converged {len(SITES)} sites in {converged_s:.2f} s"
    )
