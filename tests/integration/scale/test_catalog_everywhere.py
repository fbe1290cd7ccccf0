"""A new catalog version reaches every process; a default-limits change is pushed once.

Two `bridge serve --no-worker` and two `bridge worker` processes on PostgreSQL and Redis. An
operator raises the default plan's disk limit with `bridge catalog import` (a third process).
Both servers then offer the new limits without a restart, every site gets and acknowledges a
new limits document, and the network's default limits are pushed once more, not once per
process.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.integration.push.receiver import Receiver
from tests.integration.scale.fleet import (
    AUTH,
    BRIDGE,
    ROOT,
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

SITES = range(1, 21)


def offered_disk(url: str) -> Any:
    response = requests.get(f"{url}/api/v1/sites/1/options", headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    (free,) = [p for p in response.json()["plans"] if p["id"] == "free"]
    return free["limits"]["disk_mb"]


def default_pushes(receiver: Receiver) -> list[int | None]:
    return [r.status for r in receiver.state.log if r.path == "/bridge/v1/default-limits"]


def test_a_catalog_import_reaches_every_process_and_pushes_the_defaults_once(
    tmp_path: Path,
) -> None:
    with Receiver(SECRET) as receiver, fresh_postgres() as database, fresh_redis() as queue:
        env = bridge_env(database, queue, receiver.url)
        fleet = Fleet(env, tmp_path)
        try:
            servers = [fleet.serve(f"serve-{i}", "--no-worker") for i in range(2)]
            urls = [s.url for s in servers if s.url is not None]
            for worker in [fleet.worker(f"worker-{i}") for i in range(2)]:
                fleet.wait_started(worker)
            for site_id in SITES:
                body = site_created_body(site_id, receiver.site_url(site_id))
                assert signed_event(urls[site_id % 2], "site.created", body).status_code == 204

            def converged_past(minimum: dict[int, int]) -> bool:
                state = versions(database)
                return all(
                    s in state and state[s][0] == state[s][1] > minimum.get(s, 0) for s in SITES
                )

            wait_for("the sites pushed", lambda: converged_past({}), 60, fleet.logs)
            wait_for(
                "the defaults pushed", lambda: default_pushes(receiver) == [200], 30, fleet.logs
            )
            before = {s: desired for s, (desired, _) in versions(database).items()}
            assert [offered_disk(url) for url in urls] == [100, 100]

            exported = subprocess.run(
                [str(BRIDGE), "catalog", "export"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            data = yaml.safe_load(exported)
            data["catalog"]["products"]["free"]["limits"]["disk_mb"] = 150
            changed = tmp_path / "catalog.yaml"
            changed.write_text(yaml.safe_dump(data, sort_keys=False))
            subprocess.run(
                [str(BRIDGE), "catalog", "import", str(changed), "--reason", "scale-out test"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                timeout=60,
                check=True,
            )

            wait_for(
                "both servers offering the new limits",
                lambda: [offered_disk(url) for url in urls] == [150, 150],
                30,
                fleet.logs,
            )
            wait_for("every site's new limits", lambda: converged_past(before), 60, fleet.logs)
            wait_for(
                "the new defaults pushed",
                lambda: len(default_pushes(receiver)) >= 2,
                30,
                fleet.logs,
            )
        finally:
            fleet.stop_all()
        assert default_pushes(receiver) == [200, 200]  # once at the start, once for the change
