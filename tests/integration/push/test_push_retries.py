"""Pushes against a real HTTP receiver on loopback: retries, no retries, dead, and the schedule.

The app is the real one on SQLite with the immediate queue: a push runs inside the call that
queues it, and a scheduled retry waits in the queue until the test runs it with
`queue.run_scheduled()`, so backoff is checked by its computed delays, never by sleeping.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from bridge import create_app
from bridge.adapters.storage import migrate
from bridge.app import runtime_of
from bridge.config import load_settings
from bridge.services import pushes, sites
from bridge.services.pushes import RetryPolicy
from tests.integration.push.receiver import Receiver
from tests.services.conftest import send_event
from tests.support.bridge_app import FixedClock

ROOT = Path(__file__).resolve().parents[3]
SECRET = "whsec_" + base64.b64encode(b"push-retry-tests-secret-32-bytes").decode()


class Dice:
    """An injected random source that returns the given values in turn (then the last one)."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as r:
        yield r


def environment(tmp_path: Path, receiver: Receiver, **extra: str) -> dict[str, str]:
    return {
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path}/bridge.db",
        "BRIDGE_ADMIN_TOKEN": "admin-token-for-push-tests-0123456789abc",
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_WORDPRESS_URL": receiver.url,
        "BRIDGE_WORDPRESS_TIMEOUT_S": "0.3",
        "BRIDGE_QUEUE_BACKEND": "immediate",
        "BRIDGE_PUSH_MAX_ATTEMPTS": "4",
        "BRIDGE_PUSH_BASE_DELAY_S": "2",
        "BRIDGE_PUSH_MAX_DELAY_S": "60",
        **extra,
    }


@pytest.fixture
def dice() -> Dice:
    return Dice(0.5)


@pytest.fixture
def app(tmp_path: Path, receiver: Receiver, dice: Dice) -> Iterator[Flask]:
    env = environment(tmp_path, receiver)
    settings = load_settings(environ=env, path=ROOT / "config.yaml")
    migrate(settings.database_url)
    app = create_app(settings, rand=dice)
    yield app
    runtime_of(app).close()


def create_site(app: Flask, receiver: Receiver, site_id: int) -> None:
    data = {
        "site_id": site_id,
        "url": receiver.site_url(site_id),
        "name": f"Site {site_id}",
        "owner": {"user_id": 100 + site_id, "email": f"o{site_id}@example.com", "locale": "en_US"},
        "timezone": "UTC",
    }
    outcome = send_event(runtime_of(app).ctx, f"evt-site-{site_id}", "site.created", data)
    assert outcome == "processed"


def limits_state(app: Flask, site_id: int) -> dict[str, Any]:
    state = sites.site_view(runtime_of(app).ctx, site_id)["limits"]
    assert isinstance(state, dict)
    return state


def run_retries(app: Flask) -> int:
    return int(runtime_of(app).queue.run_scheduled())


def scheduled_delays_s(app: Flask) -> list[float]:
    huey = runtime_of(app).queue.huey
    now = datetime.now(UTC).replace(tzinfo=None)
    return [(task.eta - now).total_seconds() for task in huey.scheduled()]


def test_a_new_site_gets_its_limits_pushed_and_acknowledged(app: Flask, receiver: Receiver) -> None:
    started = time.perf_counter()
    create_site(app, receiver, 2)
    elapsed_ms = (time.perf_counter() - started) * 1000
    state = limits_state(app, 2)
    assert receiver.state.applied[2] == state["desired_version"] >= 1
    assert state["applied_version"] == state["desired_version"]
    assert state["last_error"] is None
    print(f"event + signed push + acknowledgement over loopback: {elapsed_ms:.1f} ms")


def test_retries_after_503_until_the_site_answers(app: Flask, receiver: Receiver) -> None:
    receiver.state.script.extend(["503", "503"])
    create_site(app, receiver, 2)

    state = limits_state(app, 2)
    assert state["applied_version"] < state["desired_version"]
    assert "503" in state["last_error"]
    assert run_retries(app) == 1  # attempt 2: 503 again
    assert run_retries(app) == 1  # attempt 3: accepted
    assert run_retries(app) == 0

    state = limits_state(app, 2)
    assert state["applied_version"] == state["desired_version"]
    assert state["last_error"] is None and not state["dead"]
    assert [r.status for r in receiver.state.log] == [503, 503, 200]


def test_retries_after_the_site_times_out(app: Flask, receiver: Receiver) -> None:
    receiver.state.script.append("hang")  # longer than the 0.3 s timeout, then released
    create_site(app, receiver, 2)
    receiver.state.release.set()

    assert "did not answer in time" in limits_state(app, 2)["last_error"]
    assert run_retries(app) == 1
    state = limits_state(app, 2)
    assert state["applied_version"] == state["desired_version"]


def test_retries_after_429_too_many_requests(app: Flask, receiver: Receiver) -> None:
    receiver.state.script.append("429")
    create_site(app, receiver, 2)
    assert run_retries(app) == 1
    state = limits_state(app, 2)
    assert state["applied_version"] == state["desired_version"]


def test_does_not_retry_a_push_the_site_refuses_with_400(app: Flask, receiver: Receiver) -> None:
    receiver.state.script.append("400")
    create_site(app, receiver, 2)

    assert run_retries(app) == 0
    state = limits_state(app, 2)
    assert state["applied_version"] < state["desired_version"]
    assert "bridge_invalid_document" in state["last_error"]
    assert "400" in state["last_error"]
    assert not state["dead"]
    assert len(receiver.state.log) == 1


def test_a_push_is_dead_after_max_attempts_with_its_last_error_visible(
    app: Flask, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.state.script.extend(["503", "503", "503", "503"])
    create_site(app, receiver, 2)
    while run_retries(app):
        pass

    state = limits_state(app, 2)
    assert state["dead"] is True
    assert "503" in state["last_error"]
    assert len(receiver.state.log) == 4  # max_attempts
    assert pushes.sites_behind(runtime_of(app).ctx) == []  # reconcile leaves dead sites alone

    # The operator sees it with `bridge sites`, and `bridge repush --dead` brings it back.
    env = environment(tmp_path, receiver, BRIDGE_CONFIG=str(ROOT / "config.yaml"))
    listing = CliRunner().invoke(_cli(), ["sites", "--json"], env=env)
    assert listing.exit_code == 0, listing.output
    (row,) = [r for r in json.loads(listing.output) if r["site_id"] == 2]
    assert row["push"] == "dead" and "503" in row["last_error"]

    repush = CliRunner().invoke(_cli(), ["repush", "--dead"], env=env)
    assert repush.exit_code == 0, repush.output
    state = limits_state(app, 2)
    assert state["applied_version"] == state["desired_version"] and not state["dead"]


def _cli() -> Any:
    from bridge.cli import cli

    return cli


def test_retry_delays_follow_capped_exponential_backoff_with_full_jitter(
    app: Flask, receiver: Receiver, dice: Dice
) -> None:
    receiver.state.script.extend(["503", "503", "503"])
    create_site(app, receiver, 2)
    for expected_s in (1.0, 2.0, 4.0):  # 0.5 × min(60, 2 × 2^(n-1))
        (delay_s,) = scheduled_delays_s(app)
        assert delay_s == pytest.approx(expected_s, abs=0.5)
        run_retries(app)
    assert dice.calls == 3


@pytest.mark.parametrize(
    ("attempt", "rand", "expected_s"),
    [
        (1, 0.0, 0.0),
        (1, 0.999, 1.998),
        (2, 0.5, 2.0),
        (3, 0.5, 4.0),
        (6, 1.0, 60.0),  # 2 × 2^5 = 64, capped at 60
        (30, 0.25, 15.0),  # far past the cap, still a quarter of it
    ],
)
def test_backoff_delay_is_a_random_part_of_the_capped_exponential(
    attempt: int, rand: float, expected_s: float
) -> None:
    policy = RetryPolicy(max_attempts=8, base_delay_s=2.0, max_delay_s=60.0)
    assert policy.delay_s(attempt, lambda: rand) == pytest.approx(expected_s)


def test_the_recorded_next_attempt_is_when_the_queue_retries(
    app: Flask, receiver: Receiver, dice: Dice
) -> None:
    dice.values = [0.25]
    receiver.state.script.append("503")
    before = datetime.now(UTC)
    create_site(app, receiver, 2)
    state = limits_state(app, 2)
    recorded_s = (datetime.fromisoformat(state["next_attempt_at"]) - before).total_seconds()
    [scheduled_s] = scheduled_delays_s(app)
    # One formula: a quarter of the 2 s ceiling in both places. The recorded instant is shown
    # to the whole second, so it may read up to a second and a half earlier, never later; the
    # old second formula (2 s, no jitter) read later.
    assert scheduled_s == pytest.approx(0.5, abs=0.2)
    assert scheduled_s - 1.6 <= recorded_s <= scheduled_s + 0.05


def test_pushes_go_to_the_networks_url_whatever_url_the_site_reported(
    app: Flask, receiver: Receiver
) -> None:
    data = {
        "site_id": 7,
        "url": "http://127.0.0.9:9/somewhere-else/",  # data from the event, never a target
        "name": "Site 7",
        "owner": {"user_id": 107, "email": "o7@example.invalid", "locale": "en_US"},
    }
    assert send_event(runtime_of(app).ctx, "evt-7", "site.created", data) == "processed"
    state = limits_state(app, 7)
    assert state["applied_version"] == state["desired_version"] >= 1
    assert [(r.site_id, r.status) for r in receiver.state.log] == [(7, 200)]


def test_a_redirect_is_not_followed_and_the_push_is_refused(app: Flask, receiver: Receiver) -> None:
    receiver.state.script.append("302")
    create_site(app, receiver, 2)
    state = limits_state(app, 2)
    assert "redirect" in state["last_error"]
    assert state["applied_version"] < state["desired_version"]
    assert [r.status for r in receiver.state.log] == [302]  # nothing re-posted or fetched
    assert run_retries(app) == 0  # a refusal is not retried


def test_a_dead_push_is_tried_again_by_the_reconcile_after_dead_retry_s_and_shows_dead_until_it_lands(
    app: Flask, receiver: Receiver
) -> None:
    """Outages heal by themselves: a dead push is due again `push.dead_retry_s` (900 s) after
    it died; the reconcile finds it then (not before), and it stays marked dead for the
    operator while the slow retries fail, until the site acknowledges."""
    receiver.state.script.extend(["503"] * 4)
    create_site(app, receiver, 2)
    while run_retries(app):
        pass
    ctx = runtime_of(app).ctx
    state = limits_state(app, 2)
    assert state["dead"] is True and state["next_attempt_at"] is not None
    due = datetime.fromisoformat(state["next_attempt_at"].replace("Z", "+00:00"))
    assert pushes.sites_behind(ctx) == []
    assert pushes.sites_behind(replace(ctx, clock=FixedClock(due - timedelta(seconds=1)))) == []
    assert pushes.sites_behind(replace(ctx, clock=FixedClock(due))) == [2]

    receiver.state.script.append("503")  # the network is still down for the first retry
    runtime_of(app).jobs.push_site(2)  # what the reconcile queues for a due site
    state = limits_state(app, 2)
    assert state["dead"] is True and "503" in state["last_error"]  # still shown while it retries
    while run_retries(app):
        pass
    state = limits_state(app, 2)
    assert state["applied_version"] == state["desired_version"]
    assert not state["dead"] and state["last_error"] is None


def test_each_dead_round_doubles_the_wait_up_to_the_cap() -> None:
    policy = pushes.RetryPolicy(max_attempts=4, dead_retry_s=900, dead_retry_max_s=3000)
    assert [policy.dead_delay_s(failures) for failures in (4, 8, 12, 16, 400)] == [
        900,
        1800,
        3000,
        3000,
        3000,
    ]
