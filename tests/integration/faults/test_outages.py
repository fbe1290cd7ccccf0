"""Outages heal by themselves: the network down past the retry budget, PostgreSQL restarted under
load, Redis down during a commit. Each test starts private servers of its own (PostgreSQL with
initdb/pg_ctl, redis-server) so it can stop and start them; the waits take seconds through short
retry and reconcile settings, never through a clock of the test's.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from psycopg import sql

from tests.integration.faults.cluster import Member, cluster_env
from tests.integration.push.receiver import Receiver
from tests.integration.scale.fleet import AUTH, SECRET, signed_event, site_created_body
from tests.support import postgres as postgres_support
from tests.support import redis as redis_support
from tests.support.parts import require_part
from tests.support.ports import free_port

pytestmark = pytest.mark.slow

SITE_IDS = range(2, 6)


def wait_for(what: str, check: Any, timeout_s: float, *members: Member) -> float:
    """Bounded polling of real processes' effects; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(
        f"{what} did not happen within {timeout_s} s\n" + "\n".join(m.tail() for m in members)
    )


def private_postgres(stack: ExitStack) -> tuple[postgres_support.PrivatePostgres, str]:
    try:
        server = stack.enter_context(postgres_support.private_server())
    except postgres_support.PostgresUnavailable as exc:
        require_part("PostgreSQL (initdb, pg_ctl)", False, str(exc))
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("bridge")))
    return server, server.url.rsplit("/", 1)[0] + "/bridge"


def serve(name: str, env: dict[str, str], folder: Path, *extra: str) -> Member:
    member = Member(name, ["serve", *extra], env, folder, free_port())
    member.start()
    wait_for(f"{name} answering /healthz", member.ready, 60, member)
    return member


def create_sites(url: str, receiver_url: str) -> None:
    for site_id in SITE_IDS:
        body = site_created_body(site_id, f"{receiver_url}site{site_id}/")
        assert signed_event(url, "site.created", body).status_code == 204


def test_sites_converge_without_an_operator_after_the_network_is_down_past_the_retry_budget(
    tmp_path: Path,
) -> None:
    port = free_port()
    network = f"http://127.0.0.1:{port}/"
    env = cluster_env(f"sqlite:///{tmp_path}/bridge.db", {}, network)
    env.update(
        BRIDGE_QUEUE_BACKEND="sqlite",
        BRIDGE_QUEUE_PATH=f"{tmp_path}/queue.db",
        BRIDGE_PUSH_MAX_ATTEMPTS="3",
        BRIDGE_PUSH_DEAD_RETRY_S="2",
        BRIDGE_PUSH_DEAD_RETRY_MAX_S="4",
        BRIDGE_JOBS_RECONCILE_EVERY_S="1",
    )
    server = serve("serve", env, tmp_path)
    try:
        create_sites(server.url or "", network)  # nothing listens at the network's address

        def dead() -> bool:
            states = [
                requests.get(f"{server.url}/api/v1/sites/{s}", headers=AUTH, timeout=10).json()
                for s in SITE_IDS
            ]
            return all(state["limits"]["dead"] for state in states)

        wait_for("every push dead", dead, 60, server)
        # The operator's views still show them while the reconcile retries them slowly.
        page = requests.get(f"{server.url}/api/v1/sites/2", headers=AUTH, timeout=10).json()
        assert page["limits"]["last_error"] and page["limits"]["applied_version"] == 0

        with Receiver(SECRET, port=port) as receiver:  # the network is back
            took = wait_for(
                "every site on its desired version",
                lambda: all(
                    receiver.state.applied.get(s) == page["limits"]["desired_version"]
                    for s in SITE_IDS
                ),
                60,
                server,
            )
            for site_id in SITE_IDS:
                state = requests.get(
                    f"{server.url}/api/v1/sites/{site_id}", headers=AUTH, timeout=10
                ).json()["limits"]
                assert state["applied_version"] == state["desired_version"]
                assert not state["dead"] and state["last_error"] is None
        print(f"network back: {len(SITE_IDS)} dead pushes converged in {took:.1f} s, no operator")
    finally:
        server.stop()


def test_a_postgres_restart_under_load_answers_503_with_a_code_then_serves_again(
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        database, url = private_postgres(stack)
        receiver = stack.enter_context(Receiver(SECRET))
        env = cluster_env(
            url,
            {"BRIDGE_QUEUE_BACKEND": "sqlite", "BRIDGE_QUEUE_PATH": f"{tmp_path}/queue.db"},
            receiver.url,
        )
        server = serve("serve", env, tmp_path)
        stack.callback(server.stop)
        create_sites(server.url or "", receiver.url)

        answers: Counter[str] = Counter()
        problems: list[str] = []
        stop = threading.Event()

        def load(n: int) -> None:
            while not stop.is_set():
                site = SITE_IDS[n % len(SITE_IDS)]
                try:
                    if n % 2:
                        r = requests.get(
                            f"{server.url}/api/v1/sites/{site}", headers=AUTH, timeout=15
                        )
                    else:
                        r = requests.post(
                            f"{server.url}/api/v1/sites/{site}/quotes",
                            json={"plan": "premium"},
                            headers=AUTH,
                            timeout=15,
                        )
                except requests.RequestException as exc:  # a hang ends here: a failure
                    problems.append(f"no answer: {exc}")
                    continue
                answers[str(r.status_code)] += 1
                if r.status_code >= 500:
                    body = r.json()["error"]
                    if r.status_code != 503 or body["code"] != "database_unavailable":
                        problems.append(f"{r.status_code} {body}")
                    elif r.headers.get("Retry-After") is None:
                        problems.append("503 without Retry-After")

        threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(4)]
        for t in threads:
            t.start()
        wait_for("some answers", lambda: answers["200"] + answers["201"] > 20, 60, server)
        database.stop("fast")
        wait_for("503s while the database is down", lambda: answers["503"] >= 5, 30, server)
        down_at = time.monotonic()
        database.start()
        down_s = time.monotonic() - down_at
        before = answers["503"]
        served = answers["200"] + answers["201"]
        took = wait_for(
            "answers again after the restart",
            lambda: answers["200"] + answers["201"] > served + 10,
            30,
            server,
        )
        stop.set()
        for t in threads:
            t.join(timeout=30)
        refused_after_start = answers["503"] - before
        print(
            f"postgres restart: {answers['503']} requests refused with 503 while it was down "
            f"(pg_ctl start took {down_s:.1f} s; {refused_after_start} refused after it "
            f"returned), serving again "
            f"{took:.2f} s after pg_ctl start returned; answers {dict(answers)}"
        )
        assert problems == [], problems[:10]


def test_a_commit_succeeds_with_redis_down_and_its_push_is_found_when_redis_returns(
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        try:
            redis = stack.enter_context(redis_support.private_server())
        except redis_support.RedisUnavailable as exc:
            require_part("Redis", False, str(exc))
        receiver = stack.enter_context(Receiver(SECRET))
        database = f"sqlite:///{tmp_path}/bridge.db"
        env = cluster_env(
            database,
            {"BRIDGE_QUEUE_BACKEND": "redis", "BRIDGE_QUEUE_REDIS_URL": redis.url},
            receiver.url,
        )
        env["BRIDGE_JOBS_RECONCILE_EVERY_S"] = "1"
        server = serve("serve", env, tmp_path, "--no-worker")
        stack.callback(server.stop)
        worker = Member("worker", ["worker"], env, tmp_path)
        worker.start()
        stack.callback(worker.stop)
        wait_for("the worker", worker.ready, 60, worker)
        create_sites(server.url or "", receiver.url)
        wait_for("sites pushed", lambda: len(receiver.state.applied) == len(SITE_IDS), 60, worker)

        redis.stop()
        # The commit's live push (bridge serve pushes at once) meets a failing site, so only
        # the queue could retry it, and the queue is down: the reconcile must find it.
        receiver.state.script.append("503")
        quote = requests.post(
            f"{server.url}/api/v1/sites/2/quotes",
            json={"plan": "premium"},
            headers=AUTH,
            timeout=15,
        )
        assert quote.status_code == 201, quote.text
        commit = requests.post(
            f"{server.url}/api/v1/quotes/{quote.json()['id']}/commit", headers=AUTH, timeout=15
        )
        assert commit.status_code == 200, commit.text
        assert commit.json()["status"] == "applied"
        assert "could not queue a push" in (server.log.read_text() if server.log else "")
        desired = requests.get(f"{server.url}/api/v1/sites/2", headers=AUTH, timeout=10).json()[
            "limits"
        ]["desired_version"]
        assert receiver.state.applied[2] < desired

        redis.start()  # same port, empty: the push that could not be queued is in no queue
        took = wait_for(
            "the reconcile pushes the commit's limits",
            lambda: receiver.state.applied.get(2) == desired,
            60,
            worker,
            server,
        )
        assert versions_of(database)[2] == (desired, desired)
        print(f"redis back: the commit's push found by the reconcile in {took:.1f} s")


def versions_of(database: str) -> dict[int, tuple[int, int]]:
    import sqlite3

    path = database.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT site_id, desired_version, applied_version FROM limits_documents"
        ).fetchall()
    return {int(s): (int(d), int(a)) for s, d, a in rows}
