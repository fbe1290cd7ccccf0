"""`bridge serve` as outside checks see it: a real process, real HTTP, the repo's config.yaml.

1. The contract: with only BRIDGE_DATABASE_URL (in folders that do not exist yet),
   BRIDGE_ADMIN_TOKEN and BRIDGE_WEBHOOK_SECRET set, /healthz answers 200 within 15 s; a signed
   site.created, options, a quote, commit and pay then move the site to the new plan, and the
   in-process worker pushes the new limits to the site.
2. Concurrency: 20 commits of 20 quotes for one membership, at once, through two `bridge serve`
   processes on one database: exactly one changes the membership, the rest get 409, and the
   ledger adds up. On SQLite and on PostgreSQL.
3. Every log line these processes write is checked after each test: no secret, no key derived
   from it, no e-mail address (the events they receive carry owners' e-mail addresses).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.contract import events_webhook, secret_forms, sign_headers
from tests.integration.push.receiver import Receiver
from tests.support.ports import free_port
from tests.support.processes import log_tail, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = Path(sys.executable).with_name("bridge")
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
ADMIN = "admin-" + secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {ADMIN}"}

pytestmark = pytest.mark.slow

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@pytest.fixture(autouse=True)
def logs_hold_no_secret_and_no_email(tmp_path: Path) -> Iterator[None]:
    """After each test, read every log line its `bridge serve` processes wrote."""
    yield
    logs = sorted(tmp_path.glob("*.log"))
    if not logs:
        return  # this test started no server
    forbidden = [ADMIN, *secret_forms(SECRET)]
    lines = [
        line
        for log in logs
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    assert lines, "the serve test wrote no log line to check"
    leaks = [line for line in lines if any(f in line for f in forbidden) or EMAIL.search(line)]
    assert leaks == []


@dataclass
class Served:
    url: str
    proc: Any
    log: Path
    healthy_after_s: float

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, headers=AUTH, timeout=10)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(self.url + path, json=body, headers=AUTH, timeout=30)

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}; serve log {self.log}:\n{log_tail(self.log)}")


def bounded_wait(check: Callable[[], bool], timeout_s: float) -> bool:
    """Poll a real process's effect until true or the deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def start_bridge(
    database_url: str,
    log: Path,
    *extra: str,
    timeout_s: float = 15,
    wordpress_url: str | None = None,
) -> Served:
    """`bridge serve` from the repo root with only the three variables of the contract set (and
    the network's URL, where pushes go, when a test receives them)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(
        BRIDGE_DATABASE_URL=database_url, BRIDGE_ADMIN_TOKEN=ADMIN, BRIDGE_WEBHOOK_SECRET=SECRET
    )
    if wordpress_url is not None:
        env["BRIDGE_WORDPRESS_URL"] = wordpress_url
    argv = [str(BRIDGE), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    started = time.monotonic()
    proc = start_server(argv, log_path=log, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    served = Served(url, proc, log, 0.0)

    def healthy() -> bool:
        if proc.poll() is not None:
            served.fail(f"bridge serve exited with {proc.returncode}")
        try:
            return requests.get(url + "/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    if not bounded_wait(healthy, timeout_s):
        stop_server(proc)
        served.fail(f"/healthz did not answer 200 within {timeout_s} s")
    served.healthy_after_s = time.monotonic() - started
    return served


def send_event(served: Served, event_type: str, data: dict[str, Any]) -> requests.Response:
    body = json.dumps({"type": event_type, "data": data})
    headers = sign_headers(events_webhook(SECRET), secrets.token_hex(8), datetime.now(UTC), body)
    headers["Content-Type"] = "application/json"
    return requests.post(served.url + "/webhooks/wordpress", data=body, headers=headers, timeout=10)


def site_created(served: Served, site_id: int, site_url: str) -> None:
    data = {
        "site_id": site_id,
        "url": site_url,
        "name": f"Site {site_id}",
        "owner": {"user_id": site_id, "email": f"owner{site_id}@example.com", "locale": "nb_NO"},
        "timezone": "Europe/Oslo",
    }
    response = send_event(served, "site.created", data)
    assert response.status_code == 204, response.text


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as r:
        yield r


def test_serve_answers_healthz_and_changes_a_plan_end_to_end(
    tmp_path: Path, receiver: Receiver
) -> None:
    database = tmp_path / "not" / "yet" / "there" / "bridge.db"
    served = start_bridge(
        f"sqlite:///{database}", tmp_path / "serve.log", wordpress_url=receiver.url
    )
    try:
        assert served.healthy_after_s < 15
        assert served.get("/healthz").json()["database"] == "ok"

        site_created(served, 2, receiver.site_url(2))
        before = served.get("/api/v1/sites/2").json()
        assert before["membership"]["plan"]["id"] == "free"

        options = served.get("/api/v1/sites/2/options").json()
        offered = {plan["id"] for plan in options["plans"]}
        assert "premium" in offered and "basic" not in offered  # the "High End" family only

        quote = served.post("/api/v1/sites/2/quotes", {"plan": "premium"})
        assert quote.status_code == 201, quote.text
        commit = served.post(f"/api/v1/quotes/{quote.json()['id']}/commit")
        committed_at = time.monotonic()
        assert commit.status_code == 200, commit.text
        invoice_id = commit.json()["invoice"]["id"]
        paid = served.post(f"/api/v1/invoices/{invoice_id}/pay", {"reference": "serve-test"})
        assert paid.status_code == 200, paid.text
        assert paid.json()["invoice"]["status"] == "paid"

        after = served.get("/api/v1/sites/2").json()
        assert after["membership"]["plan"]["id"] == "premium"
        desired = after["limits"]["desired_version"]
        assert desired > before["limits"]["desired_version"]

        # The in-process worker pushed the new document to the site.
        if not bounded_wait(lambda: receiver.state.applied.get(2) == desired, 15):
            served.fail(f"the site never received version {desired}")
        push_s = time.monotonic() - committed_at
        # The site answers before the worker records the push: wait for the record, bounded.
        if not bounded_wait(
            lambda: (
                served.get("/api/v1/sites/2").json()["limits"]["applied_version"] == desired
                and 'bridge_pushes_total{outcome="ok"}' in served.get("/metrics").text
            ),
            15,
        ):
            served.fail("the bridge never recorded the acknowledged push")
        assert "bridge_http_requests_total" in served.get("/metrics").text
        print(
            f"bridge serve healthy after {served.healthy_after_s:.2f} s; "
            f"commit → limits on the site in {push_s * 1000:.0f} ms"
        )
    finally:
        served.proc.send_signal(signal.SIGTERM)
        try:
            served.proc.wait(timeout=15)
        finally:
            stop_server(served.proc)
    assert served.proc.returncode == 0, log_tail(served.log)
    log_text = served.log.read_text()
    assert SECRET not in log_text and SECRET[6:] not in log_text and ADMIN not in log_text


def test_serve_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_DATABASE_URL"] = f"sqlite:///{tmp_path}/bridge.db"
    import subprocess

    result = subprocess.run(
        [str(BRIDGE), "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "BRIDGE_ADMIN_TOKEN" in result.stderr and "BRIDGE_WEBHOOK_SECRET" in result.stderr


def race_commits(database_url: str, tmp_path: Path, receiver: Receiver, site_id: int) -> None:
    """20 quotes, then 20 commits released at once across two serve processes."""
    a = start_bridge(
        database_url, tmp_path / "serve-a.log", "--threads", "10", wordpress_url=receiver.url
    )
    try:
        b = start_bridge(
            database_url,
            tmp_path / "serve-b.log",
            "--threads",
            "10",
            "--no-worker",
            wordpress_url=receiver.url,
        )
    except BaseException:
        stop_server(a.proc)
        raise
    try:
        site_created(a, site_id, receiver.site_url(site_id))
        plans = ("premium",)
        quotes = []
        for i in range(20):
            billing = {"every": 1, "unit": "year" if i % 2 else "month"}
            response = a.post(
                f"/api/v1/sites/{site_id}/quotes", {"plan": plans[0], "billing": billing}
            )
            assert response.status_code == 201, response.text
            quotes.append(response.json()["id"])

        barrier = threading.Barrier(len(quotes))

        def commit(i: int) -> requests.Response:
            server = (a, b)[i % 2]
            barrier.wait(timeout=30)
            return server.post(f"/api/v1/quotes/{quotes[i]}/commit")

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(quotes)) as pool:
            responses = list(pool.map(commit, range(len(quotes))))
        elapsed_s = time.perf_counter() - started

        statuses = Counter(r.status_code for r in responses)
        codes = Counter(r.json()["error"]["code"] for r in responses if r.status_code == 409)
        print(f"{database_url.split(':')[0]}: {dict(statuses)} {dict(codes)} in {elapsed_s:.2f} s")
        assert statuses == {200: 1, 409: 19}, [r.text for r in responses if r.status_code >= 500]
        (winner,) = [r.json() for r in responses if r.status_code == 200]

        site = a.get(f"/api/v1/sites/{site_id}").json()
        assert site["membership"]["plan"]["id"] == "premium"
        ledger = a.get(f"/api/v1/sites/{site_id}/ledger").json()
        changes = [i for i in ledger["invoices"] if i["kind"] == "change"]
        assert [i["id"] for i in changes] == [winner["invoice"]["id"]]
        assert changes[0]["status"] == "paid"
        entries = ledger["entries"]
        total = sum((Decimal(e["amount"]) for e in entries), Decimal(0))
        assert total == Decimal(ledger["balance"])
        if entries:
            assert Decimal(entries[-1]["balance_after"]) == Decimal(ledger["balance"])
    finally:
        for served in (a, b):
            stop_server(served.proc)


def test_twenty_simultaneous_commits_change_the_membership_once_on_sqlite(
    tmp_path: Path, receiver: Receiver
) -> None:
    race_commits(f"sqlite:///{tmp_path}/db/bridge.db", tmp_path, receiver, site_id=2)


@pytest.mark.postgres
def test_twenty_simultaneous_commits_change_the_membership_once_on_postgresql(
    tmp_path: Path, receiver: Receiver, postgres_url: str
) -> None:
    # The session database may hold other tests' sites: take an id nobody else uses.
    site_id = 900_000 + secrets.randbelow(99_999)
    race_commits(postgres_url, tmp_path, receiver, site_id=site_id)
