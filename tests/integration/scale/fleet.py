"""Real `bridge serve` and `bridge worker` processes on one PostgreSQL database and one Redis queue.

The scale-out tests start several of each, the way deploy/'s systemd units do, and look at the
database (applied == desired per site) and at the processes' JSON log lines.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from bridge.contract import events_webhook, sign_headers
from tests.support import postgres as postgres_support
from tests.support import redis as redis_support
from tests.support.parts import require_part
from tests.support.ports import free_port
from tests.support.processes import log_tail, start_server, stop_server

ROOT = Path(__file__).resolve().parents[3]
BRIDGE = Path(sys.executable).with_name("bridge")
SECRET = "whsec_" + base64.b64encode(b"scale-out-test-secret-32-bytes!!").decode()
ADMIN = "admin-" + secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {ADMIN}"}


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A database of this test's own (the reconcile looks at every site in it)."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_support.session_database())
        except postgres_support.PostgresUnavailable as exc:
            require_part("PostgreSQL", False, str(exc))
        yield url


@contextmanager
def fresh_redis() -> Iterator[str]:
    """A Redis database number of this test's own, flushed afterwards."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(redis_support.session_database())
        except redis_support.RedisUnavailable as exc:
            require_part("Redis", False, str(exc))
        yield url


def bridge_env(database_url: str, redis_url: str, wordpress_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_CONFIG": str(ROOT / "config.yaml"),
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_ADMIN_TOKEN": ADMIN,
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_WORDPRESS_URL": wordpress_url,
        "BRIDGE_WORDPRESS_TIMEOUT_S": "10",
        "BRIDGE_PUSH_BASE_DELAY_S": "0.2",
        "BRIDGE_PUSH_MAX_DELAY_S": "1",
        "BRIDGE_QUEUE_BACKEND": "redis",
        "BRIDGE_QUEUE_REDIS_URL": redis_url,
    }


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, logs: list[Path]) -> None:
    """Bounded polling of real processes' effects; on failure, show their logs' tails."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tails = "\n".join(f"--- {log}\n{log_tail(log)}" for log in logs)
    pytest.fail(f"{what} did not happen within {timeout_s} s\n{tails}")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None


@dataclass
class Fleet:
    """Processes started by a test; `stop_all` (the fixture's teardown) stops what is left."""

    env: dict[str, str]
    dir: Path
    procs: list[Proc] = field(default_factory=list)

    @property
    def logs(self) -> list[Path]:
        return [p.log for p in self.procs]

    def worker(self, name: str, threads: int = 2) -> Proc:
        log = self.dir / f"{name}.log"
        popen = start_server(
            [str(BRIDGE), "worker", "--workers", str(threads)], log_path=log, env=self.env, cwd=ROOT
        )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def serve(self, name: str, *extra: str, port: int | None = None) -> Proc:
        port = port or free_port()
        log = self.dir / f"{name}.log"
        argv = [str(BRIDGE), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        popen = start_server(argv, log_path=log, env=self.env, cwd=ROOT)
        proc = Proc(name, popen, log, f"http://127.0.0.1:{port}")
        self.procs.append(proc)

        def healthy() -> bool:
            if popen.poll() is not None:
                pytest.fail(f"{name} exited with {popen.returncode}:\n{log_tail(log)}")
            try:
                return requests.get(f"{proc.url}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(f"{name} answering /healthz", healthy, 30, [log])
        return proc

    def wait_started(self, proc: Proc) -> None:
        """A worker has caught up (it prints its start-up line once its consumer is built)."""
        wait_for(
            f"{proc.name} started",
            lambda: "Plan Bridge worker:" in proc.log.read_text(errors="replace"),
            30,
            [proc.log],
        )

    def kill(self, proc: Proc) -> None:
        os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            stop_server(proc.popen, timeout_s=30)


def signed_event(url: str, event_type: str, data: dict[str, Any]) -> requests.Response:
    body = json.dumps({"type": event_type, "data": data})
    headers = sign_headers(events_webhook(SECRET), secrets.token_hex(8), datetime.now(UTC), body)
    headers["Content-Type"] = "application/json"
    return requests.post(f"{url}/webhooks/wordpress", data=body, headers=headers, timeout=30)


def site_created_body(site_id: int, site_url: str) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "url": site_url,
        "name": f"Site {site_id}",
        "owner": {"user_id": site_id, "email": f"owner{site_id}@example.com", "locale": "en_US"},
        "timezone": "UTC",
    }


def versions(database_url: str) -> dict[int, tuple[int, int]]:
    """site id -> (desired, applied) limits versions, read straight from the database."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT site_id, desired_version, applied_version FROM limits_documents"
        ).fetchall()
    return {int(site_id): (int(desired), int(applied)) for site_id, desired, applied in rows}


def log_records(log: Path) -> list[dict[str, Any]]:
    """The JSON lines of a bridge process's log (other lines, e.g. click's, are skipped)."""
    records = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records
