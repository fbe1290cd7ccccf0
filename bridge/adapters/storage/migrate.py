"""Run the Alembic migrations programmatically, from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from bridge.adapters.storage.engine import make_engine, normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock id: several processes starting at once migrate one after another.
_LOCK_ID = 0x42524447


def alembic_config(url: str) -> Config:
    """An Alembic Config built in code (no alembic.ini needed, so the installed package works)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(database_url: str, revision: str = "head", engine: Engine | None = None) -> None:
    """Create or upgrade the database at `database_url` to `revision`."""
    own = engine is None
    engine = engine or make_engine(database_url)
    config = alembic_config(database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
                connection.commit()
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            finally:
                if connection.dialect.name == "postgresql":
                    connection.rollback()
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
                    connection.commit()
    finally:
        if own:
            engine.dispose()
