"""A Redis database per test session.

Uses the server at 127.0.0.1:6379 when one answers, else starts `redis-server --save ''
--appendonly no` on a free port. On a shared server the session claims an empty database number
(1-15; never 0) with a marker key, so parallel sessions and other users' data stay apart, and
flushes it at the end.
"""

from __future__ import annotations

import secrets
import shutil
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


@contextmanager
def _private_server() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        raise RedisUnavailable(
            f"nothing answers at {SHARED_HOST}:{SHARED_PORT} and redis-server is missing "
            f"(Debian package redis-server; {INSTALL_HINT})"
        )
    lab = Path(tempfile.mkdtemp(prefix="plan-bridge-redis-"))
    port = free_port()
    log = lab / "redis.log"
    proc = start_server(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(lab),
        ],
        log_path=log,
    )
    try:
        wait_until_listening(proc, "127.0.0.1", port, timeout_s=30, log_path=log, what="redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_server(proc, timeout_s=10)
        shutil.rmtree(lab, ignore_errors=True)
