"""A PostgreSQL database per test session.

Where the server comes from, first that works:
1. BRIDGE_TEST_POSTGRES_URL (a server URL whose user may CREATE DATABASE);
2. a server at 127.0.0.1:5432 that lets user `postgres` in without a password (trust);
3. a private server started with initdb/pg_ctl from /usr/lib/postgresql/*/bin in a temp dir, on
   a free port (as root it runs as the `postgres` user through runuser).
Each session gets a freshly created database, dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tests.support.parts import INSTALL_HINT
from tests.support.ports import free_port

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TIMEOUT_S = 30


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be reached or started; the message says why."""


@contextmanager
def session_database() -> Iterator[str]:
    """Yield the URL of a new, empty database; drop the database afterwards."""
    with _server() as admin_url:
        name = f"bridge_test_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield _with_dbname(admin_url, name)
        finally:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def _reachable(url: str) -> str | None:
    """None if url accepts a connection, else the error."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


@contextmanager
def _server() -> Iterator[str]:
    override = os.environ.get("BRIDGE_TEST_POSTGRES_URL")
    if override:
        error = _reachable(override)
        if error:
            raise PostgresUnavailable(f"BRIDGE_TEST_POSTGRES_URL does not connect: {error}")
        yield override
        return
    if _reachable(DEFAULT_URL) is None:
        yield DEFAULT_URL
        return
    with _private_server() as url:
        yield url


def _with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    user = params.get("user", "postgres")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", 5432)
    password = params.get("password")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgresql://{auth}{host}:{port}/{dbname}"


def _postgres_bin() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresUnavailable(
            "no server at 127.0.0.1:5432 and no initdb under /usr/lib/postgresql "
            f"(Debian package postgresql; {INSTALL_HINT})"
        )
    return candidates[-1].parent


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the caller's own: `stop()` and `start()` it to play an outage."""

    bindir: Path
    lab: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.lab} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [
                *self.as_user,
                str(self.bindir / "pg_ctl"),
                "start",
                "-D",
                str(self.lab / "data"),
                "-w",
                "-t",
                str(TIMEOUT_S),
                "-l",
                str(self.lab / "postgres.log"),
                "-o",
                options,
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        _run(
            [
                *self.as_user,
                str(self.bindir / "pg_ctl"),
                "stop",
                "-D",
                str(self.lab / "data"),
                "-m",
                mode,
                "-w",
                "-t",
                str(TIMEOUT_S),
            ]
        )


@contextmanager
def private_server() -> Iterator[PrivatePostgres]:
    """A private server (initdb + pg_ctl in a temporary directory, on a free port), always
    this one even when a shared server answers: the outage tests stop and start it."""
    bindir = _postgres_bin()
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable(
                "running as root, and PostgreSQL refuses to run as root, but there is no "
                "`postgres` user to run it as"
            ) from exc
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root without runuser (util-linux)")
        as_user = ["runuser", "-u", "postgres", "--"]
    lab = Path(tempfile.mkdtemp(prefix="plan-bridge-pg-"))
    try:
        if as_user:
            shutil.chown(lab, user="postgres", group="postgres")
        server = PrivatePostgres(bindir, lab, free_port(), as_user)
        _run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(lab / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(PostgresUnavailable):
                server.stop()
    finally:
        shutil.rmtree(lab, ignore_errors=True)


@contextmanager
def _private_server() -> Iterator[str]:
    with private_server() as server:
        yield server.url


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
