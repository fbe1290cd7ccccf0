"""`make demo` end to end: start it as `make demo` does, use what it prints, stop it with Ctrl-C.

The demo runs as a subprocess (the virtualenv's python on scripts/demo.py, the command of the
Makefile's `demo` target) in a session of its own, so the SIGINT the test sends reaches the demo
alone, as Ctrl-C in a terminal would. `--state` makes it write its server pids (each the leader
of its own process group) and lab directory, which the test checks are gone afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from tests.e2e.journey import BridgeServer, Journey
from tests.support.processes import live_group_members
from tests.wordpress.harness import Site

ROOT = Path(__file__).resolve().parents[2]
# Bounds for waiting on the demo, never assertions about its speed.
START_WAIT_S = 120.0
STOP_WAIT_S = 60.0
READY = "Press Ctrl-C"

pytestmark = [pytest.mark.slow, pytest.mark.wordpress]


class RunningDemo:
    """The demo process and the lines it has printed so far."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts/demo.py"), "--state", str(state_file)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout_s: float) -> None:
        """Wait until a printed line contains text; fail with the output if the demo ends."""
        while True:
            try:
                line = self._queue.get(timeout=timeout_s)
            except queue.Empty:
                pytest.fail(f"no {text!r} within {timeout_s} s:\n" + "\n".join(self.lines))
            if line is None:
                self.proc.wait(timeout=STOP_WAIT_S)
                pytest.fail(
                    f"the demo ended (status {self.proc.returncode}) before {text!r}:\n"
                    + "\n".join(self.lines)
                )
            self.lines.append(line)
            if text in line:
                return

    def printed(self, label: str) -> str:
        """The value after `label` on its line of the demo's summary."""
        for line in self.lines:
            match = re.match(rf"\s+{re.escape(label)}\s+(.+)$", line)
            if match:
                return match.group(1)
        raise AssertionError(f"the demo printed no {label!r} line:\n" + "\n".join(self.lines))

    def lab(self) -> Path:
        """The lab directory the demo announced when it began."""
        for line in self.lines:
            match = re.match(r"Starting the Plan Bridge demo in (\S+) \.\.\.$", line)
            if match:
                return Path(match.group(1))
        raise AssertionError("the demo did not say where its lab is:\n" + "\n".join(self.lines))

    def state(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.state_file.read_text()))

    def interrupt(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Ctrl-C (or sig) to the demo; its exit status once it has cleaned up."""
        self.proc.send_signal(sig)
        status = self.proc.wait(timeout=STOP_WAIT_S)
        self._drain()
        return status

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get(timeout=5)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningDemo]:
    running = RunningDemo(tmp_path / "demo.json")
    try:
        yield running
    finally:
        # A failed test must not leave the demo, or what it started, behind.
        if running.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.interrupt()
        if running.proc.poll() is None:
            os.killpg(running.proc.pid, signal.SIGKILL)
            running.proc.wait()
        if running.state_file.exists():
            state = running.state()
            for pid in state["pids"].values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            shutil.rmtree(state["lab"], ignore_errors=True)


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain text (zombies have none)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.mark.browser
def test_make_demo_owner_reaches_the_change_page_and_ctrl_c_leaves_nothing_running(
    demo: RunningDemo, browser: Any, tmp_path: Path
) -> None:
    demo.wait_for(READY, START_WAIT_S)
    bridge_url = demo.printed("Bridge").rstrip("/")
    owner = re.fullmatch(
        r"(?P<url>http://127\.0\.0\.1:\d+/(?P<slug>[a-z0-9]+)/)wp-admin/\s+"
        r"user: (?P<user>\S+)\s+password: (?P<password>\S+)",
        demo.printed("Site owner"),
    )
    assert owner, demo.printed("Site owner")
    assert re.search(r"user: netadmin\s+password: \S+", demo.printed("Network admin"))
    state = demo.state()
    assert set(state["pids"]) == {"bridge", "php", "mariadbd"}
    lab = Path(state["lab"])
    assert lab.is_dir()
    blog_id = next(s["blog_id"] for s in state["sites"] if s["url"] == owner["url"])

    site = Site(
        blog_id=blog_id,
        slug=owner["slug"],
        url=owner["url"],
        owner=owner["user"],
        owner_password=owner["password"],
        owner_id=0,
        owner_email="",
    )
    bridge = BridgeServer(bridge_url, state["bridge"]["admin_token"], lab / "logs/bridge.log")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        # The journey's steps; the demo's network is not a harness object of this process.
        trip = Journey(cast(Any, None), bridge, site, page, tmp_path)
        trip.log_in()
        trip.open_account()
        trip.click_change()
        assert page.url == f"{bridge_url}/checkout/sites/{blog_id}"
    finally:
        context.close()

    assert demo.interrupt() == 0, "\n".join(demo.lines)
    assert any("Stopped" in line for line in demo.lines), "\n".join(demo.lines)
    for name, pid in state["pids"].items():
        assert live_group_members(pid) == [], f"{name} (process group {pid}) still runs"
    assert not lab.exists(), f"the lab {lab} is still there"
    assert _processes_mentioning(str(lab)) == []


def test_ctrl_c_while_the_demo_starts_leaves_nothing_running(demo: RunningDemo) -> None:
    demo.wait_for("Starting the Plan Bridge demo", START_WAIT_S)
    lab = demo.lab()
    # Interrupt once MariaDB of this run is up, in the middle of the bring-up.
    deadline = time.monotonic() + START_WAIT_S
    while not any("mariadbd" in line for line in _processes_mentioning(str(lab))):
        assert demo.proc.poll() is None, "\n".join(demo.lines)
        assert time.monotonic() < deadline, "MariaDB of the demo never started"
        time.sleep(0.05)
    assert demo.interrupt() == 0, "\n".join(demo.lines)
    assert not any("Press Ctrl-C" in line for line in demo.lines)
    assert not lab.exists(), f"the lab {lab} is still there"
    assert _processes_mentioning(str(lab)) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_sigterm_or_a_closed_terminal_stops_the_demo_for_good(
    demo: RunningDemo, sig: signal.Signals
) -> None:
    demo.wait_for(READY, START_WAIT_S)
    state = demo.state()
    assert demo.interrupt(sig) == 0, "\n".join(demo.lines)
    for name, pid in state["pids"].items():
        assert live_group_members(pid) == [], f"{name} (process group {pid}) still runs"
    assert not Path(state["lab"]).exists()
    assert _processes_mentioning(state["lab"]) == []
