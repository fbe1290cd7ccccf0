"""Start servers in their own process group and stop them again, for good.

Why process groups: `php -S` with PHP_CLI_SERVER_WORKERS forks workers that outlive their
master, so stopping the master alone leaves the port served. Why zombies count as stopped: in
some sandboxes PID 1 reaps orphans only every few seconds, and an unreaped process holds no port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.ports import is_listening


class ServerFailed(RuntimeError):
    """A server process exited or did not become ready; the message carries its log's tail."""


def start_server(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start argv in a new session (its own process group), stdout and stderr to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until_listening(
    proc: subprocess.Popen[bytes],
    host: str,
    port: int,
    *,
    timeout_s: float,
    log_path: Path,
    what: str,
) -> None:
    """Wait until host:port accepts connections; fail early if proc exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(
                f"{what} exited with status {proc.returncode} before listening on "
                f"{host}:{port}; log {log_path}:\n{log_tail(log_path)}"
            )
        if is_listening(host, port, timeout_s=0.2):
            return
        time.sleep(0.02)
    raise ServerFailed(
        f"{what} did not listen on {host}:{port} within {timeout_s} s; "
        f"log {log_path}:\n{log_tail(log_path)}"
    )


def live_group_members(pgid: int) -> list[int]:
    """PIDs in process group pgid that are still running (zombies count as stopped)."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def stop_server(
    proc: subprocess.Popen[bytes],
    *,
    timeout_s: float = 10.0,
    first_signal: signal.Signals = signal.SIGTERM,
) -> None:
    """Stop the process group led by proc: first_signal, then SIGKILL after timeout_s.

    Idempotent. Returns once the leader is reaped and no other member runs.
    """
    pgid = proc.pid
    _signal_group(pgid, first_signal)
    deadline = time.monotonic() + timeout_s
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _signal_group(pgid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)
    killed = False
    while members := live_group_members(pgid):
        if time.monotonic() > deadline:
            if killed:
                raise ServerFailed(f"process group {pgid} survived SIGKILL: {members}")
            _signal_group(pgid, signal.SIGKILL)
            killed = True
            deadline = time.monotonic() + timeout_s
        time.sleep(0.01)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
