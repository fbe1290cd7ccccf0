"""A Redis database per test session.

Uses the server at 127.0.0.1:6379 when one answers, else starts `redis-server --save ''
--appendonly no` on a free port. On a shared server the session claims an empty database number
(1-15; never 0) with a marker key, so parallel sessions and other users' data stay apart, and
flushes it at the end.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.parts import INSTALL_HINT
from tests.support.ports import free_port
from tests.support.processes import start_server, stop_server, wait_until_listening

SHARED_HOST, SHARED_PORT = "127.0.0.1", 6379
CLAIM_KEY = "plan-bridge:test-session"
CLAIM_TTL_S = 6 * 3600


class RedisUnavailable(RuntimeError):
    """No Redis server could be reached or started; the message says why."""


@contextmanager
def session_database() -> Iterator[str]:
    """Yield a redis:// URL of a database only this session uses; flush it afterwards."""
    if _answers(SHARED_HOST, SHARED_PORT):
        with _claimed_database(SHARED_HOST, SHARED_PORT) as url:
            yield url
        return
    with _private_server() as url:
        yield url


def _answers(host: str, port: int) -> bool:
    client = redis.Redis(host=host, port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@contextmanager
def _claimed_database(host: str, port: int) -> Iterator[str]:
    token = secrets.token_hex(8)
    for db in range(15, 0, -1):
        client = redis.Redis(host=host, port=port, db=db, socket_timeout=5)
        try:
            claimed = client.set(CLAIM_KEY, token, nx=True, ex=CLAIM_TTL_S)
            if claimed and client.dbsize() == 1:
                break
            if claimed:  # someone else's data lives here: leave it alone
                client.delete(CLAIM_KEY)
        finally:
            client.close()
    else:
        raise RedisUnavailable(f"no free database number (1-15) on {host}:{port}")
    try:
        yield f"redis://{host}:{port}/{db}"
    finally:
        client = redis.Redis(host=host, port=port, db=db, socket_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()


class PrivateRedis:
    """A redis-server of the caller's own on a fixed free port: `stop()` and `start()` it."""

    def __init__(self, lab: Path) -> None:
        self.lab = lab
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.lab / "redis.log"
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.lab)]
        self.proc = start_server(argv, log_path=log)
        wait_until_listening(
            self.proc, "127.0.0.1", self.port, timeout_s=30, log_path=log, what="redis"
        )

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc, timeout_s=10)
            self.proc = None


@contextmanager
def private_server() -> Iterator[PrivateRedis]:
    """A private redis-server in a temporary directory (the outage tests stop and start it)."""
    if shutil.which("redis-server") is None:
        raise RedisUnavailable(
            f"redis-server is missing (Debian package redis-server; {INSTALL_HINT})"
        )
    lab = Path(tempfile.mkdtemp(prefix="plan-bridge-redis-"))
    server = PrivateRedis(lab)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(lab, ignore_errors=True)


@contextmanager
def _private_server() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        raise RedisUnavailable(
            f"nothing answers at {SHARED_HOST}:{SHARED_PORT} and redis-server is missing "
            f"(Debian package redis-server; {INSTALL_HINT})"
        )
    with private_server() as server:
        yield server.url
