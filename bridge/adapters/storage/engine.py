"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3; other URLs pass unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_sqlite_folder(url: str) -> None:
    """Create the missing parent folders of a SQLite file, so a fresh machine just works."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, reader: bool = False, **kwargs: Any) -> Engine:
    """An engine with the bridge's connection rules (see the SQLite notes below); a `reader`
    engine only reads, outside write transactions, so it never waits on a writer."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    ensure_sqlite_folder(url)
    kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, **kwargs)
    _configure_sqlite(engine, immediate=not reader)
    return engine


def _configure_sqlite(engine: Engine, *, immediate: bool = True) -> None:
    """WAL, busy timeout, foreign keys; and BEGIN IMMEDIATE for every transaction (writers).

    pysqlite opens transactions lazily and as DEFERRED: two writers that both read first then
    write get "database is locked" at once instead of waiting (a read lock cannot be upgraded
    while another writer committed). Taking the write lock at BEGIN makes them queue behind
    busy_timeout instead, which is what concurrent commits need. This is the recipe from
    SQLAlchemy's pysqlite documentation ("Serializable isolation / Savepoints / Transactional DDL").
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if not immediate:
        return  # a reader: no BEGIN, each SELECT sees the last commit (WAL never blocks it)

    # The dialect's own begin hook rather than the recipe's "begin" engine event: any engine
    # event makes SQLAlchemy dispatch four (empty) events around every statement, which costs
    # more than an SQLite statement (a webhook runs two).
    def _do_begin(dbapi_connection: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        finally:
            cursor.close()

    engine.dialect.do_begin = _do_begin  # type: ignore[method-assign]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (the services return plain dicts)."""
    return sessionmaker(engine, expire_on_commit=False)
