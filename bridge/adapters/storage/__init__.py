"""Storage: SQLAlchemy 2 models, engines for SQLite and PostgreSQL, Alembic migrations."""

from __future__ import annotations

from bridge.adapters.storage.engine import (
    ensure_sqlite_folder,
    make_engine,
    make_session_factory,
    normalize_url,
)
from bridge.adapters.storage.migrate import migrate

__all__ = [
    "ensure_sqlite_folder",
    "make_engine",
    "make_session_factory",
    "migrate",
    "normalize_url",
]
