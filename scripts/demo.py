"""`make demo`: a real WordPress multisite network wired to a bridge, to click through by hand.

Brings up, on free loopback ports, with the test harness's recipe (tests/wordpress/harness.py):
a private MariaDB, a copy of Debian's WordPress turned into a subdirectory network and served by
`php -S`, the plan-bridge plugin network-activated; then `bridge serve` (this checkout's code)
on the demo catalog of config.yaml, with a webhook secret and an admin token made for this run;
two subsites with an owner each, a few published posts, and their usage reported to the bridge
through the plugin's cron events. It prints the addresses and passwords, runs until Ctrl-C
(SIGINT), SIGTERM or SIGHUP, then stops every process it started and removes its temporary lab.

    .venv/bin/python scripts/demo.py [--state FILE]

--state FILE: also write the run's addresses and server pids (each the leader of its own process
group) as JSON to FILE, for scripts and tests. Needs the Debian packages of `make deps`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This checkout's bridge and harness, whatever directory the script is started from.
sys.path.insert(0, str(ROOT))

from tests.e2e.journey import (  # noqa: E402
    WAIT_S,
    BridgeServer,
    new_site,
    publish_post,
    report_usage,
)
from tests.support.ports import free_port  # noqa: E402
from tests.support.processes import (  # noqa: E402
    ServerFailed,
    log_tail,
    start_server,
    stop_server,
    wait_until_listening,
)
from tests.wordpress.harness import (  # noqa: E402
    HOST,
    HarnessError,
    Site,
    WordPressNetwork,
    fast_lab_parent,
    missing_parts,
    new_webhook_secret,
    remove_stale_labs,
)

LAB_PREFIX = "plan-bridge-demo-"
# The two subsites, and how many posts their owners have published.
SITES = {"bakery": ["Opening hours", "Our sourdough", "Christmas orders"], "studio": ["Hello"]}


class Demo:
    """One run: the lab directory, the network, the bridge, and what they were seeded with."""

    def __init__(self, lab: Path, state_file: Path | None) -> None:
        self.lab = lab
        self.state_file = state_file
        self.secret = new_webhook_secret()
        self.admin_token = secrets.token_urlsafe(24)
        self.bridge_port = free_port()
        self.bridge_url = f"http://{HOST}:{self.bridge_port}"
        self.network = WordPressNetwork(
            lab,
            web_port=free_port(),
            db_port=free_port(),
            bridge_url=self.bridge_url,
            secret=self.secret,
            plugin_dir=ROOT / "wp-plugin-stub",
            title="Plan Bridge Demo Network",
        )
        self.bridge_log = lab / "logs" / "bridge.log"
        self.bridge_proc: subprocess.Popen[bytes] | None = None
        self.sites: list[Site] = []

    def start(self) -> None:
        """Bring everything up; a Ctrl-C meanwhile takes effect between two steps."""
        self.network.start()
        _stop_if_asked()
        self._start_bridge()
        _stop_if_asked()
        bridge = BridgeServer(self.bridge_url, self.admin_token, self.bridge_log, self.secret)
        for slug, titles in SITES.items():
            site = new_site(self.network, bridge, slug, "en_US", slug=slug)
            self.sites.append(site)
            _stop_if_asked()
            for title in titles:
                status = publish_post(self.network, site, title)
                if status != "publish":
                    raise HarnessError(f"publishing {title!r} on {site.url} gave {status}")
            report_usage(self.network, bridge, site, len(titles))
            _stop_if_asked()
        self._write_state()

    def _start_bridge(self) -> None:
        folder = self.lab / "bridge"
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            ),
            "BRIDGE_CONFIG": str(ROOT / "config.yaml"),
            "BRIDGE_WEBHOOK_SECRET": self.secret,
            "BRIDGE_ADMIN_TOKEN": self.admin_token,
            "BRIDGE_PUBLIC_URL": self.bridge_url,
            "BRIDGE_DATABASE_URL": f"sqlite:///{folder / 'bridge.db'}",
            "BRIDGE_QUEUE_BACKEND": "sqlite",
            "BRIDGE_QUEUE_PATH": str(folder / "queue.db"),
            "BRIDGE_WORDPRESS_URL": self.network.url,
            "BRIDGE_GATEWAY": "test",
        }
        self.bridge_proc = start_server(
            [
                sys.executable,
                "-m",
                "bridge",
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.bridge_port),
            ],
            log_path=self.bridge_log,
            env=env,
            cwd=ROOT,
        )
        wait_until_listening(
            self.bridge_proc,
            HOST,
            self.bridge_port,
            timeout_s=WAIT_S,
            log_path=self.bridge_log,
            what="bridge serve",
        )

    @property
    def pids(self) -> dict[str, int]:
        """The running servers' pids; each leads a process group of its own."""
        pids = dict(self.network.server_pids)
        if self.bridge_proc is not None:
            pids["bridge"] = self.bridge_proc.pid
        return pids

    def _state(self) -> dict[str, Any]:
        network = self.network
        return {
            "pid": os.getpid(),
            "lab": str(self.lab),
            "pids": self.pids,
            "bridge": {"url": self.bridge_url, "admin_token": self.admin_token},
            "network": {
                "url": network.url,
                "admin_url": f"{network.url}wp-admin/network/",
                "user": network.admin_user,
                "password": network.admin_password,
            },
            "sites": [
                {
                    "blog_id": site.blog_id,
                    "url": site.url,
                    "admin_url": f"{site.url}wp-admin/",
                    "user": site.owner,
                    "password": site.owner_password,
                }
                for site in self.sites
            ],
        }

    def _write_state(self) -> None:
        text = json.dumps(self._state(), indent=2) + "\n"
        for path in (self.lab / "demo.json", self.state_file):
            if path is None:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            # Passwords inside: readable by this user only.
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(text)

    def summary(self, took_s: float) -> str:
        network = self.network
        owner, other = self.sites[0], self.sites[1]
        rows = [
            ("Bridge", f"{self.bridge_url}/"),
            ("Bridge API", f"{self.bridge_url}/api/v1  admin token: {self.admin_token}"),
            (
                "Network admin",
                f"{network.url}wp-admin/network/  "
                f"user: {network.admin_user}  password: {network.admin_password}",
            ),
            ("Console", f"{network.url}wp-admin/network/settings.php?page=plan-bridge"),
            (
                "Site owner",
                f"{owner.url}wp-admin/  user: {owner.owner}  password: {owner.owner_password}",
            ),
            ("Account page", f"{owner.url}wp-admin/admin.php?page=plan-bridge-account"),
            (
                "Second site",
                f"{other.url}wp-admin/  user: {other.owner}  password: {other.owner_password}",
            ),
        ]
        lines = [
            f"Plan Bridge demo is ready ({took_s:.1f} s): a WordPress multisite network and a "
            "bridge on loopback.",
            "",
            *(f"  {label:<14} {value}" for label, value in rows),
            "",
            "  The site owner's Account page shows the membership; Change opens the bridge's",
            "  checkout (gateway `test`: invoices are paid at once). The network admin opens the",
            "  operator's console from the Console page above.",
            f"  Lab (logs in logs/): {self.lab}",
            "",
            "Press Ctrl-C to stop everything and remove the lab.",
        ]
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop the bridge, then the network; remove the lab. Safe to call more than once."""
        proc, self.bridge_proc = self.bridge_proc, None
        try:
            if proc is not None:
                stop_server(proc)
        finally:
            self.network.stop()
            shutil.rmtree(self.lab, ignore_errors=True)

    def logs(self) -> str:
        names = ("bridge.log", "php-server.log", "mariadb.log", "wp-debug.log")
        return "\n".join(
            f"--- {name} ---\n{log_tail(self.lab / 'logs' / name, 15)}" for name in names
        )


# Set by Ctrl-C (SIGINT), SIGTERM or SIGHUP. The handler only records it: an exception raised in
# the middle of a step could leave a child unstopped (a Popen that never returned, or the
# bootstrap mariadbd of mariadb-install-db, a shell script); the demo stops between two steps.
STOP = threading.Event()
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _ask_to_stop(signum: int, frame: FrameType | None) -> None:
    STOP.set()


def _stop_if_asked() -> None:
    if STOP.is_set():
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plan Bridge demo: WordPress + bridge on loopback")
    parser.add_argument("--state", type=Path, help="also write addresses and pids here (JSON)")
    args = parser.parse_args(argv)

    problem = missing_parts()
    if problem:
        print(f"make demo cannot start: {problem}.", file=sys.stderr)
        return 2
    # Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal was closed) stop the demo; the servers
    # run in sessions of their own and would outlive a demo that just died. Set for SIGINT too:
    # a shell that starts a command in the background hands it SIGINT ignored.
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _ask_to_stop)

    started = time.monotonic()
    parent = fast_lab_parent()
    remove_stale_labs(parent or Path(tempfile.gettempdir()), LAB_PREFIX)
    lab = Path(tempfile.mkdtemp(prefix=LAB_PREFIX, dir=parent))
    demo = Demo(lab, args.state)
    status = 0
    try:
        print(f"Starting the Plan Bridge demo in {lab} ...", flush=True)
        demo.start()
        print(demo.summary(time.monotonic() - started), flush=True)
        while True:
            for name, pid in demo.pids.items():
                if not _running(pid):
                    raise ServerFailed(f"{name} (pid {pid}) stopped on its own")
            STOP.wait(0.5)
            _stop_if_asked()
    except KeyboardInterrupt:
        print("\nStopping the demo ...", flush=True)
    except (HarnessError, ServerFailed, AssertionError, OSError) as exc:
        print(f"make demo failed: {exc}\n{demo.logs()}", file=sys.stderr, flush=True)
        status = 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, signal.SIG_IGN)
        demo.stop()
    print("Stopped the bridge, WordPress and MariaDB, and removed the lab.", flush=True)
    return status


def _running(pid: int) -> bool:
    """Whether pid is alive (a zombie counts as stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] not in ("Z", "X")


if __name__ == "__main__":
    sys.exit(main())
