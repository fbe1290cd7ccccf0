"""Alembic environment: uses the connection handed over by bridge.adapters.storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bridge.adapters.storage import (
    card_models,  # noqa: F401  (its tables on Base.metadata)
    notice_models,  # noqa: F401  (its table on Base.metadata)
)
from bridge.adapters.storage.engine import make_engine
from bridge.adapters.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
