"""Two `bridge serve --no-worker` and two `bridge worker` processes on PostgreSQL and Redis.

1,000 sites (BRIDGE_SCALE_SITES to change it) are created through both servers and pushed to a
loopback receiver that answers like the plugin. Then an operator overrides every site's limits
through the API of both servers (a new limits version per site); when a third of those pushes
have arrived, one worker is killed with SIGKILL (its pushes in flight are lost from the queue)
and started again, as systemd's Restart=on-failure does: its start-up catch-up re-queues
every site that is behind. Every site must reach applied == desired, and the receiver must hold
each site's desired version, within a bounded time.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.integration.push.receiver import Receiver
from tests.integration.scale.fleet import (
    AUTH,
    SECRET,
    Fleet,
    bridge_env,
    fresh_postgres,
    fresh_redis,
    signed_event,
    site_created_body,
    versions,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SITES = int(os.environ.get("BRIDGE_SCALE_SITES", "1000"))
CONVERGE_S = 300  # bound for each phase (typically a small fraction of it)


def behind(database: str, site_ids: range, minimum: dict[int, int]) -> list[int]:
    state = versions(database)
    return [
        s
        for s in site_ids
        if s not in state or state[s][1] != state[s][0] or state[s][0] <= minimum.get(s, 0)
    ]


def test_two_servers_two_workers_converge_every_site_after_a_worker_is_killed(
    tmp_path: Path,
) -> None:
    site_ids = range(1, SITES + 1)
    with Receiver(SECRET) as receiver, fresh_postgres() as database, fresh_redis() as queue:
        fleet = Fleet(bridge_env(database, queue, receiver.url), tmp_path)
        try:
            servers = [fleet.serve(f"serve-{i}", "--no-worker") for i in range(2)]
            urls = [s.url for s in servers if s.url is not None]
            workers = [fleet.worker(f"worker-{i}", threads=4) for i in range(2)]

            started = time.monotonic()

            def create(site_id: int) -> int:
                body = site_created_body(site_id, receiver.site_url(site_id))
                return signed_event(urls[site_id % 2], "site.created", body).status_code

            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = set(pool.map(create, site_ids))
            assert statuses == {204}
            wait_for(
                f"{SITES} new sites pushed",
                lambda: behind(database, site_ids, {}) == [],
                CONVERGE_S,
                fleet.logs,
            )
            created_s = time.monotonic() - started
            first = {s: desired for s, (desired, _applied) in versions(database).items()}

            arrived_before = receiver.state.arrived
            started = time.monotonic()

            def override(site_id: int) -> int:
                response = requests.put(
                    f"{urls[site_id % 2]}/api/v1/sites/{site_id}/overrides",
                    json={"scope": "site", "limits": {"disk_mb": 1000 + site_id}},
                    headers=AUTH,
                    timeout=30,
                )
                return response.status_code

            killed = fleet.procs.index(workers[0])
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = pool.map(override, site_ids)
                wait_for(
                    "a third of the new pushes arrived",
                    lambda: receiver.state.arrived - arrived_before >= SITES // 3,
                    CONVERGE_S,
                    fleet.logs,
                )
                fleet.kill(workers[0])
                statuses = set(results)
            assert statuses == {200}
            assert fleet.procs[killed].popen.returncode is not None
            fleet.worker("worker-0-restarted", threads=4)  # systemd's Restart=on-failure
            wait_for(
                f"{SITES} sites on their new version",
                lambda: behind(database, site_ids, first) == [],
                CONVERGE_S,
                fleet.logs,
            )
            changed_s = time.monotonic() - started
        finally:
            fleet.stop_all()

        state = versions(database)
        wrong = {s: (receiver.state.applied.get(s), state[s][0]) for s in site_ids}
        assert {s: v for s, v in wrong.items() if v[0] != v[1]} == {}
        print(
            f"{SITES} sites: created and pushed in {created_s:.1f} s; overridden, one worker "
            f"killed and restarted, converged in {changed_s:.1f} s "
            f"({receiver.state.arrived} pushes received in all)"
        )
