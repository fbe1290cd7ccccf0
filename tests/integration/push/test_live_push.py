"""Live pushes: a commit's own push starts at once on a thread, its queued copy is the fallback.

The app is the real one on SQLite with the SQLite job queue (no consumer runs: the tests run the
queued copy themselves with `run_scheduled`), its live pushes started as `bridge serve` starts
them, against a real HTTP receiver on loopback that applies the version rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bridge import create_app
from bridge.adapters.live import LivePushes
from bridge.adapters.storage import migrate
from bridge.app import runtime_of
from bridge.config import load_settings
from tests.integration.push.receiver import Receiver
from tests.integration.push.test_push_retries import (
    ROOT,
    SECRET,
    create_site,
    environment,
    limits_state,
)

GRACE_S = 30.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as r:
        yield r


@pytest.fixture
def app(tmp_path: Path, receiver: Receiver) -> Iterator[Flask]:
    env = environment(
        tmp_path,
        receiver,
        BRIDGE_QUEUE_BACKEND="sqlite",
        BRIDGE_QUEUE_PATH=str(tmp_path / "queue.db"),
        BRIDGE_WORDPRESS_TIMEOUT_S="10",
    )
    settings = load_settings(environ=env, path=ROOT / "config.yaml")
    migrate(settings.database_url)
    app = create_app(settings)
    runtime = runtime_of(app)
    assert runtime.live is not None
    runtime.live.start(runtime.runner, threads=1, grace_s=GRACE_S)
    yield app
    runtime.live.stop(5)
    runtime.close()


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)


def queued_copies(app: Flask) -> list[tuple[Any, ...]]:
    """Queued tasks (a task with a delay waits in the queue until a worker schedules it)."""
    huey = runtime_of(app).queue.huey
    return [tuple(task.args) for task in [*huey.pending(), *huey.scheduled()]]


def run_queued_copies(app: Flask) -> int:
    """What a worker does when the copies come due, without waiting for them."""
    huey = runtime_of(app).queue.huey
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task, timestamp=datetime(9999, 1, 1))
        ran += 1
    return ran


def pushes_to(receiver: Receiver, site_id: int) -> list[int]:
    return [r.status for r in receiver.state.log if r.site_id == site_id]


def test_the_commit_answers_while_its_push_runs_on_a_thread(app: Flask, receiver: Receiver) -> None:
    receiver.state.hang_all = True  # WordPress takes its time: the push stays in flight
    create_site(app, receiver, 2)  # the event's commit returned...
    wait_for("the push to arrive", lambda: receiver.state.arrived == 1)
    state = limits_state(app, 2)  # ...while its push is still in flight
    assert (state["applied_version"], state["attempts"], state["last_error"]) == (0, 0, None)
    assert queued_copies(app) == [(2, 1, 2)]  # the durable copy, as the chain's next attempt

    receiver.state.hang_all = False
    receiver.state.release.set()  # the hung request is answered 503
    wait_for("the failure to be recorded", lambda: limits_state(app, 2)["attempts"] == 1)
    assert run_queued_copies(app) == 1  # the copy comes due: it pushes
    state = limits_state(app, 2)
    assert (state["applied_version"], state["attempts"]) == (1, 0)
    assert pushes_to(receiver, 2) == [503, 200]


def test_the_queued_copy_of_an_applied_push_sends_nothing(app: Flask, receiver: Receiver) -> None:
    create_site(app, receiver, 2)
    wait_for("the live push's acknowledgement", lambda: limits_state(app, 2)["applied_version"])
    assert pushes_to(receiver, 2) == [200]
    assert queued_copies(app) == [(2, 1, 2)]
    assert run_queued_copies(app) == 1
    assert pushes_to(receiver, 2) == [200]  # the copy found the site up to date
    assert receiver.state.applied[2] == limits_state(app, 2)["desired_version"] == 1


class _Jobs:
    def __init__(self) -> None:
        self.now: list[int] = []
        self.later: list[tuple[int, float]] = []

    def enqueue_push(self, site_id: int, version: int) -> None:
        self.now.append(site_id)

    def enqueue_push_later(self, site_id: int, version: int, delay_s: float) -> None:
        self.later.append((site_id, delay_s))

    def enqueue_default_limits(self) -> None:
        pass


class _StuckRunner:
    """A push runner whose pushes wait until released (a slow WordPress)."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()
        self.started: list[int] = []

    def push_site(self, site_id: int, attempt: int = 1) -> None:
        self.started.append(site_id)
        self.release.wait(timeout=30)


def test_a_burst_beyond_the_backlog_and_pushes_after_close_go_to_the_queue_at_once() -> None:
    jobs, runner = _Jobs(), _StuckRunner()
    live = LivePushes(jobs)
    live.enqueue_push(1, 1)  # not started: straight to the queue
    assert jobs.now == [1]
    live.start(runner, threads=1, grace_s=12, max_backlog=2)  # type: ignore[arg-type]
    live.enqueue_push(2, 1)
    wait_for("the first live push", lambda: runner.started == [2])
    for site_id in range(3, 7):
        live.enqueue_push(site_id, 1)
    # Site 2 is being pushed, 3 and 4 wait for the thread; 5 and 6 found the backlog full.
    assert jobs.later == [(2, 12), (3, 12), (4, 12)]
    assert jobs.now == [1, 5, 6]
    live.close()
    live.enqueue_push(7, 1)
    assert jobs.now == [1, 5, 6, 7]
    runner.release.set()
    live.stop(5)
    assert runner.started == [2]  # 3 and 4 were left to their queued copies


def test_a_push_goes_live_even_when_its_queued_copy_cannot_be_written() -> None:
    class DownQueue(_Jobs):
        def enqueue_push_later(self, site_id: int, version: int, delay_s: float) -> None:
            raise ConnectionError("the queue is down")

    runner = _StuckRunner()
    runner.release.set()
    live = LivePushes(DownQueue())
    live.start(runner, threads=1, grace_s=12)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):  # the unit of work logs it; the reconcile repairs it
        live.enqueue_push(2, 1)
    wait_for("the live push", lambda: runner.started == [2])
    live.stop(5)
