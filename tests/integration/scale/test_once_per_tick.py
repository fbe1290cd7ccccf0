"""Three `bridge worker` processes on PostgreSQL and Redis: each tick's periodic work runs once.

Every process's Huey scheduler queues the periodic tasks when their minute comes, so three
processes queue three copies of a tick's roll-over. Rather than wait for real minutes, the test
does what three schedulers do at 03:15, 03:17 and 03:20 (the same `read_periodic` they call,
the same queue) and lets six consumer threads in three processes race for the copies. Every job
that runs a tick logs "tick ran" with the job and the tick; each (job, tick) must appear once
across all logs. Ticks the workers' own schedulers queue meanwhile must obey the same rule.

Start-up: the three workers start together on an empty database; the network's default limits
get one version and one push (only the process that writes the version queues its push).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from bridge.bootstrap import bootstrap
from bridge.config import load_settings
from tests.integration.push.receiver import Receiver
from tests.integration.scale.fleet import (
    SECRET,
    Fleet,
    bridge_env,
    fresh_postgres,
    fresh_redis,
    log_records,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

# Huey's scheduler works in naive UTC datetimes.
TICKS = [datetime(2026, 1, 1, 3, 15), datetime(2026, 1, 1, 3, 17), datetime(2026, 1, 1, 3, 20)]
EXPECTED = {
    ("roll_over_memberships", "2026-01-01T03:15"),
    ("reconcile_pushes", "2026-01-01T03:15"),
    ("roll_over_memberships", "2026-01-01T03:17"),
    ("forget_used_checkout_tokens", "2026-01-01T03:17"),  # daily, at 03:17
    ("roll_over_memberships", "2026-01-01T03:20"),
    ("reconcile_pushes", "2026-01-01T03:20"),
}


def test_each_tick_runs_once_across_three_worker_processes(tmp_path: Path) -> None:
    with Receiver(SECRET) as receiver, fresh_postgres() as database, fresh_redis() as queue:
        env = bridge_env(database, queue, receiver.url)
        fleet = Fleet(env, tmp_path)
        runtime = bootstrap(load_settings(environ=env))
        try:
            workers = [fleet.worker(f"worker-{i}") for i in range(3)]
            for worker in workers:
                fleet.wait_started(worker)
            huey = runtime.queue.huey
            copies = 0
            for tick in TICKS:
                for _scheduler in workers:
                    for task in huey.read_periodic(tick):
                        huey.enqueue(task)
                        copies += 1
            assert copies == 3 * len(EXPECTED)
            wait_for("the queue drained", lambda: huey.pending_count() == 0, 60, fleet.logs)
            wait_for(
                "the default limits pushed",
                lambda: any(r.path == "/bridge/v1/default-limits" for r in receiver.state.log),
                30,
                fleet.logs,
            )
        finally:
            fleet.stop_all()  # SIGTERM: Huey lets running tasks finish
            runtime.close()

        ran = Counter(
            (record["job"], record["tick"])
            for worker in workers
            for record in log_records(worker.log)
            if record.get("message") == "tick ran"
        )
        by_process = {
            worker.name: sum(1 for r in log_records(worker.log) if r.get("message") == "tick ran")
            for worker in workers
        }
        print(f"tick runs per process: {by_process}; {copies} copies queued")
        assert set(ran) >= EXPECTED, ran
        assert {key: n for key, n in ran.items() if n != 1} == {}
        defaults = [r for r in receiver.state.log if r.path == "/bridge/v1/default-limits"]
        assert [r.status for r in defaults] == [200]
