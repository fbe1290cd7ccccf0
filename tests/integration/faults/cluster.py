"""Real `bridge serve` and `bridge worker` processes on one database and queue, killed at will.

Three processes share the database and the queue, as a deployment does: `serve-test` (the `test`
gateway: invoices are paid at once; with its in-process worker), `serve-manual` (the `manual`
gateway, `--no-worker`: invoices wait for a payment) and a `bridge worker`. The periodic jobs run
every few seconds through their settings (`BRIDGE_JOBS_*_EVERY_S`), never through a clock of
the test's: the bridge under test reads the real time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.integration.scale.fleet import ADMIN, SECRET
from tests.support.ports import free_port
from tests.support.processes import log_tail, start_server, stop_server

ROOT = Path(__file__).resolve().parents[3]
BRIDGE = Path(sys.executable).with_name("bridge")


def cluster_env(database_url: str, queue: dict[str, str], network_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_CONFIG": str(ROOT / "config.yaml"),
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_ADMIN_TOKEN": ADMIN,
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_WORDPRESS_URL": network_url,
        "BRIDGE_WORDPRESS_TIMEOUT_S": "5",
        "BRIDGE_PUSH_BASE_DELAY_S": "0.1",
        "BRIDGE_PUSH_MAX_DELAY_S": "0.5",
        "BRIDGE_PUSH_MAX_ATTEMPTS": "1000",
        "BRIDGE_JOBS_RECONCILE_EVERY_S": "2",
        "BRIDGE_JOBS_ROLL_OVER_EVERY_S": "2",
        "BRIDGE_CHANGE_INVOICE_TTL_S": "8",
        **queue,
    }


@dataclass
class Member:
    """One process of the cluster; `start()` again after a kill (a new log file each time)."""

    name: str
    argv_tail: list[str]
    env: dict[str, str]
    folder: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    log: Path | None = None

    @property
    def url(self) -> str | None:
        return None if self.port is None else f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        self.log = self.folder / f"{self.name}-{self.starts}.log"
        argv = [str(BRIDGE), *self.argv_tail]
        if self.port is not None:
            argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.popen = start_server(argv, log_path=self.log, env=self.env, cwd=ROOT)

    def ready(self) -> bool:
        if self.popen is None or self.popen.poll() is not None:
            return False
        if self.url is not None:
            try:
                return requests.get(f"{self.url}/healthz", timeout=0.5).status_code == 200
            except requests.RequestException:
                return False
        assert self.log is not None
        return "Plan Bridge worker:" in self.log.read_text(errors="replace")

    def kill(self) -> None:
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is not None:
            stop_server(self.popen, timeout_s=15)

    def tail(self) -> str:
        return f"--- {self.log}\n{log_tail(self.log) if self.log else ''}"


@dataclass
class Cluster:
    env: dict[str, str]
    folder: Path
    members: list[Member] = field(default_factory=list)
    kills: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        test_env = {**self.env, "BRIDGE_GATEWAY": "test"}
        manual_env = {**self.env, "BRIDGE_GATEWAY": "manual"}
        self.members = [
            Member("serve-test", ["serve", "--workers", "2"], test_env, self.folder, free_port()),
            Member("serve-manual", ["serve", "--no-worker"], manual_env, self.folder, free_port()),
            Member("worker", ["worker", "--workers", "2"], manual_env, self.folder),
        ]

    @property
    def servers(self) -> list[Member]:
        return [m for m in self.members if m.url is not None]

    def start(self) -> None:
        for member in self.members:
            member.start()
        self.wait_ready(60)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            down = [m for m in self.members if not m.ready()]
            for m in down:
                if m.popen is not None and m.popen.poll() is not None:
                    m.start()  # died on its own (e.g. killed during start): systemd restarts it
            if not down:
                return
            time.sleep(0.1)
        tails = "\n".join(m.tail() for m in self.members)
        raise AssertionError(f"the cluster did not come up within {timeout_s} s\n{tails}")

    def kill_one(self, member: Member) -> None:
        """SIGKILL, then start it again at once (systemd's Restart=always, without its delay)."""
        member.kill()
        member.start()
        with self.lock:
            self.kills += 1

    def stop(self) -> None:
        for member in self.members:
            member.stop()

    def tails(self) -> str:
        return "\n".join(m.tail() for m in self.members)
