"""Database failures as the error tree's errors, at the storage adapter's boundary.

A database that is restarting, unreachable or out of connections raises SQLAlchemy's
`OperationalError` / `InterfaceError` (or a `DBAPIError` whose connection was invalidated): the
request cannot be served now, and may be sent again in a moment, so it is `DatabaseUnavailable`
(503, `database_unavailable`, with Retry-After), never a 500 with a traceback. PostgreSQL's
deadlock and serialization failures (SQLSTATE 40P01, 40001) mean another writer won: the
optimistic lock's own `ConcurrentChange` (409). The engine's `pool_pre_ping` replaces connections
a restart left dead, so the first request after the database is back is served.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bridge.errors import BridgeError, ConcurrentChange, DatabaseUnavailable

_LOST_THE_RACE = ("40P01", "40001")  # deadlock_detected, serialization_failure


def translated(exc: BaseException) -> BridgeError | None:
    """The error tree's error for a database failure, or None when it is not one."""
    if not isinstance(exc, DBAPIError):
        return None
    if getattr(exc.orig, "sqlstate", None) in _LOST_THE_RACE:
        return ConcurrentChange("Another change to the same records won; please try again.")
    if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated:
        return DatabaseUnavailable()
    return None


@contextmanager
def storage_errors() -> Iterator[None]:
    """Raise database failures as the error tree's errors (see the module docstring)."""
    try:
        yield
    except DBAPIError as exc:
        error = translated(exc)
        if error is None:
            raise
        raise error from exc
