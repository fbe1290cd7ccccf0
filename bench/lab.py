"""What the benchmarks share: a bridge tree to run, its environment, signed events, a light
HTTP client and the statistics.

Every measure runs the bridge as a deployment does (BRIDGE_* variables, the `bridge` command or
`create_app`), so `--tree DIR` points any of them at another checkout (the baseline: `git archive
<commit> | tar -x -C DIR`). Everything listens on loopback only.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "var" / "bench"  # seeded databases kept between runs (never used by make test)

ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghij"
SECRET = "whsec_" + base64.b64encode(b"bench-commit-secret-32-bytes-ok!").decode()
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def environment(
    lab: Path, *, tree: Path = ROOT, database_url: str | None = None, **extra: str
) -> dict[str, str]:
    """BRIDGE_* for a bridge in `lab` (SQLite database and queue unless told otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(
        {
            "PYTHONPATH": str(tree),
            "BRIDGE_CONFIG": str(tree / "config.yaml"),
            "BRIDGE_DATABASE_URL": database_url or f"sqlite:///{lab / 'bridge.db'}",
            "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
            "BRIDGE_WEBHOOK_SECRET": SECRET,
            "BRIDGE_GATEWAY": "test",
            "BRIDGE_QUEUE_BACKEND": "sqlite",
            "BRIDGE_QUEUE_PATH": str(lab / "queue.db"),
            "BRIDGE_WORDPRESS_URL": "http://127.0.0.1:9/",
        }
    )
    env.update(extra)
    return env


def bridge_command(*args: str) -> list[str]:
    """`bridge ARGS` run by this interpreter (the tree comes from PYTHONPATH)."""
    return [sys.executable, "-c", "from bridge.cli import main; main()", *args]


def migrate(env: Mapping[str, str]) -> None:
    subprocess.run(bridge_command("migrate"), env=dict(env), check=True, capture_output=True)


def signed(
    kind: str, data: Mapping[str, Any], msg_id: str, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """A network event signed the way the plugin signs it: body and headers."""
    from bridge.contract import events_webhook

    at = at or datetime.now(UTC)
    body = json.dumps({"type": kind, "data": dict(data)})
    webhook: Webhook = events_webhook(SECRET)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": webhook.sign(msg_id, at, body),
        "Content-Type": "application/json",
    }
    return body.encode(), headers


def site_created(site_id: int, run: str = "") -> tuple[bytes, dict[str, str]]:
    return signed(
        "site.created",
        {
            "site_id": site_id,
            "url": f"http://127.0.0.1:9/site{site_id}/",
            "name": f"Bench {site_id}",
            "owner": {"user_id": site_id, "email": "o@example.com", "locale": "en_US"},
        },
        f"msg_bench_created_{run}{site_id}",
    )


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: the least client CPU per request, so
    that on two cores the client does not take the server's time)."""

    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout_s
                )
            try:
                self._conn.request(method, path, body=body, headers=dict(headers or {}))
                response = self._conn.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(
        self, method: str, path: str, payload: Any = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        status, data = self.request(method, path, body, all_headers)
        return status, (json.loads(data) if data else None)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def wait_http(port: int, path: str = "/healthz", timeout_s: float = 60.0, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            status, _ = Client("127.0.0.1", port, timeout_s=2).request("GET", path)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}{path} within {timeout_s} s")


@contextmanager
def process(
    argv: Sequence[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, stopped with SIGTERM (then SIGKILL) at the end."""
    import signal

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv), env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    """count, p50, p95, p99, max (milliseconds)."""
    ordered = sorted(values_ms)
    if not ordered:
        return {"count": 0}

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(pct(0.95), 3),
        "p99_ms": round(pct(0.99), 3),
        "max_ms": round(ordered[-1], 3),
    }


def save(name: str, result: Mapping[str, Any]) -> Path:
    """Write bench/results/<name>.json (the latest figures of that measure)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
