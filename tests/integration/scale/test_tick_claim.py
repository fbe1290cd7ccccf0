"""The tick claim on both real queue storages: SqliteHuey (embedded) and RedisHuey (scale-out).

Three schedulers' copies of one tick run the job once; the next tick runs it again; a direct
call (no tick: the operator's or a test's) always runs. Huey's `execute` runs a task the way a
consumer thread does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from huey import Huey

from bridge.adapters.queue import HueyLimitsQueue, make_huey
from bridge.adapters.tasks import check_every_s, register_jobs, tick_key
from bridge.services.ports import SystemClock
from tests.integration.scale.fleet import fresh_redis


class CountingRunner:
    """The few things `register_jobs` uses of a PushRunner; counts roll-overs."""

    def __init__(self) -> None:
        self.ctx: Any = SimpleNamespace(clock=SystemClock())
        self.roll_overs = 0

    def roll_over(self) -> None:
        self.roll_overs += 1

    def behind(self) -> list[int]:
        return []


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def huey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Huey]:
    if request.param == "redis":
        with fresh_redis() as url:  # a database number of this test's own, flushed after
            yield make_huey("redis", redis_url=url)
        return
    yield make_huey("sqlite", path=str(tmp_path / "queue.db"))


def roll_overs_of(huey: Huey, tick: datetime, schedulers: int) -> list[Any]:
    return [
        task
        for _ in range(schedulers)
        for task in huey.read_periodic(tick)
        if task.name == "roll_over_memberships"
    ]


def test_three_copies_of_a_tick_run_once_and_the_next_tick_runs_again(huey: Huey) -> None:
    runner = CountingRunner()
    jobs = register_jobs(huey, runner, HueyLimitsQueue(huey))  # type: ignore[arg-type]
    first, second = datetime(2026, 1, 1, 3, 15, 7), datetime(2026, 1, 1, 3, 16, 41)

    for task in roll_overs_of(huey, first, 3):
        assert task.kwargs == {"tick": "2026-01-01T03:15"}
        huey.execute(task)
    assert runner.roll_overs == 1
    assert huey.get(tick_key("roll_over_memberships", "2026-01-01T03:15"), peek=True)

    for task in roll_overs_of(huey, second, 3):
        huey.execute(task)
    assert runner.roll_overs == 2

    huey.execute(jobs.roll_over.s())  # no tick: always runs
    assert runner.roll_overs == 3


def test_a_copy_queued_behind_later_ticks_still_finds_its_claim(huey: Huey) -> None:
    """Workers take queued copies in any order: a copy of 03:17 that runs after 03:20's (found
    by the crash of a CI run, when claims three intervals back were deleted) must not run again;
    claims an hour back are cleaned up."""
    runner = CountingRunner()
    register_jobs(huey, runner, HueyLimitsQueue(huey))  # type: ignore[arg-type]
    early, late = roll_overs_of(huey, datetime(2026, 1, 1, 3, 17), 2)
    huey.execute(early)
    for task in roll_overs_of(huey, datetime(2026, 1, 1, 3, 20), 1):
        huey.execute(task)
    huey.execute(late)  # the straggler of 03:17
    assert runner.roll_overs == 2
    for task in roll_overs_of(huey, datetime(2026, 1, 1, 4, 17), 1):
        huey.execute(task)
    assert huey.get(tick_key("roll_over_memberships", "2026-01-01T03:17"), peek=True) is None


def test_a_job_every_few_seconds_runs_once_per_interval_of_its_own(huey: Huey) -> None:
    """`jobs.roll_over_every_s: 5`: the scheduler checks every 5 s (a divisor of 60), every
    check queues a copy, and the copies of one 5-second interval run the job once."""
    runner = CountingRunner()
    jobs = register_jobs(huey, runner, HueyLimitsQueue(huey), roll_over_every_s=5)  # type: ignore[arg-type]
    assert jobs.check_every_s == 5
    for second in (5, 6, 9, 10, 14):
        for task in roll_overs_of(huey, datetime(2026, 1, 1, 3, 15, second), 2):
            huey.execute(task)
    assert runner.roll_overs == 2  # 03:15:05 and 03:15:10
    assert huey.get(tick_key("roll_over_memberships", "2026-01-01T03:15:10"), peek=True)


def test_the_scheduler_checks_often_enough_for_the_shortest_interval() -> None:
    assert [check_every_s(*i) for i in [(300, 60), (2, 60), (7,), (45,), (3600,)]] == [
        60,
        2,
        6,
        30,
        60,
    ]
