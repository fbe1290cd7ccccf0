"""Crash anywhere, lose nothing: SIGKILL real bridge processes under a money workload, audit.

Real parts: `bridge serve` (twice: the `test` and the `manual` gateway) and `bridge worker` on
one database (SQLite, and PostgreSQL with a Redis queue), pushing to a loopback receiver that
answers like the plugin. Client threads (workload.py) quote, commit, pay, cancel, roll over and
put memberships on periods that end seconds ahead, while the test kills one process with SIGKILL
at a random moment and starts it again, over and over. After each round of kills the workload
stops, the processes are up, and the audits (tests/support/audits.py) must all pass once the
sites have converged: ledgers, invoices paid and applied once, renewals once per period, quotes
committed once, every site on its membership's limits.

Budget: BRIDGE_FAULTS_KILLS kills per database (default 200 on SQLite, 100 on PostgreSQL) or
BRIDGE_FAULTS_BUDGET_S seconds of kills per database (default 75), whichever comes first.
The seed is printed; BRIDGE_FAULTS_SEED=<seed> replays its choices (not its timing).
`make soak` runs the same test with a larger budget.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from bridge.adapters.storage import make_engine, migrate
from bridge.bootstrap import bootstrap
from bridge.config import load_settings
from bridge.contract import events_webhook, sign_headers
from tests.integration.faults.cluster import Cluster, cluster_env
from tests.integration.faults.workload import Tally, run_clients
from tests.integration.push.receiver import Receiver
from tests.integration.scale.fleet import SECRET, fresh_postgres, fresh_redis, site_created_body
from tests.support import receipt_audits  # noqa: F401  (registers the receipts' invariants)
from tests.support.audits import audit, expected_limits
from tests.support.bridge_app import RecordingPusher

pytestmark = pytest.mark.slow

DEFAULT_KILLS = {"sqlite": 200, "postgres": 100}
KILLS_PER_ROUND = 10
SITE_IDS = list(range(2, 10))
CONVERGE_S = 90


def _seed() -> int:
    raw = os.environ.get("BRIDGE_FAULTS_SEED")
    return int(raw) if raw else secrets.randbelow(2**31)


@contextmanager
def storage(backend: str, folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    if backend == "sqlite":
        yield (
            f"sqlite:///{folder}/state/bridge.db",
            {"BRIDGE_QUEUE_BACKEND": "sqlite", "BRIDGE_QUEUE_PATH": f"{folder}/state/queue.db"},
        )
        return
    with fresh_postgres() as database, fresh_redis() as queue:
        yield database, {"BRIDGE_QUEUE_BACKEND": "redis", "BRIDGE_QUEUE_REDIS_URL": queue}


def create_sites(url: str, receiver: Receiver) -> None:
    for site_id in SITE_IDS:
        body = json.dumps(
            {"type": "site.created", "data": site_created_body(site_id, receiver.site_url(site_id))}
        )
        headers = sign_headers(
            events_webhook(SECRET), secrets.token_hex(8), datetime.now(UTC), body
        )
        headers["Content-Type"] = "application/json"
        response = requests.post(
            f"{url}/webhooks/wordpress", data=body, headers=headers, timeout=30
        )
        assert response.status_code == 204, response.text


def logged_errors(folder: Path) -> list[str]:
    """The processes' logged errors with their tracebacks (what a 500 left behind)."""
    found = []
    for log in sorted(folder.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if '"unexpected error"' in line or '"level": "error"' in line:
                found.append(f"{log.name}: {line[:4000]}")
    return found[:10]


def converged_audit(
    cluster: Cluster, engine: Engine, runtime: Any, receiver: Receiver
) -> dict[str, list[str]]:
    """The audits, polled until they pass or CONVERGE_S passes (pushes take a moment)."""
    deadline = time.monotonic() + CONVERGE_S
    while True:
        with receiver.state.lock:
            received = {k: dict(v) for k, v in receiver.state.documents.items()}
        failures = audit(
            engine, received=received, expected_limits=expected_limits(runtime, engine)
        )
        if not failures or time.monotonic() > deadline:
            return failures
        time.sleep(0.3)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
def test_kills_at_random_moments_lose_no_money_and_no_limits(backend: str, tmp_path: Path) -> None:
    seed = _seed()
    kills_wanted = int(os.environ.get("BRIDGE_FAULTS_KILLS") or DEFAULT_KILLS[backend])
    budget_s = float(os.environ.get("BRIDGE_FAULTS_BUDGET_S") or 75)
    print(f"\n{backend}: seed {seed} (replay with BRIDGE_FAULTS_SEED={seed})")
    rng = random.Random(seed)
    tally = Tally()
    with Receiver(SECRET) as receiver, storage(backend, tmp_path) as (database, queue):
        env = cluster_env(database, queue, receiver.url)
        migrate(database)
        cluster = Cluster(env, tmp_path)
        engine = make_engine(database)
        runtime = bootstrap(
            load_settings(environ=env), queue_backend="immediate", pusher=RecordingPusher()
        )
        rounds = 0
        started = time.monotonic()
        try:
            cluster.start()
            create_sites(cluster.servers[0].url or "", receiver)
            while cluster.kills < kills_wanted and time.monotonic() - started < budget_s:
                stop = threading.Event()
                clients = run_clients(cluster, engine, SITE_IDS, seed, rounds, stop, tally)
                for _ in range(min(KILLS_PER_ROUND, kills_wanted - cluster.kills)):
                    time.sleep(rng.uniform(0.05, 0.6))
                    # Mostly a process that is up; sometimes one still starting (migrations,
                    # the start-up reconcile).
                    victim = rng.choice(cluster.members)
                    if victim.ready() or rng.random() < 0.3:
                        cluster.kill_one(victim)
                stop.set()
                for client in clients:
                    client.join(timeout=60)
                cluster.wait_ready(60)
                failures = converged_audit(cluster, engine, runtime, receiver)
                rounds += 1
                assert failures == {}, (
                    f"seed {seed}, round {rounds}, after {cluster.kills} kills:\n"
                    + json.dumps(failures, indent=1)
                    + "\n"
                    + cluster.tails()
                )
            elapsed = time.monotonic() - started
        finally:
            cluster.stop()
            runtime.close()
            engine.dispose()
    assert tally.failures == [], (tally.failures[:20], logged_errors(tmp_path))
    print(
        f"{backend}: {cluster.kills} kills in {rounds} rounds, {elapsed:.0f} s, audits passed; "
        f"answers: {dict(sorted(tally.answers.items()))}"
    )
