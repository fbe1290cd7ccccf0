"""The catalog versions repository: append-only, the current version is the highest id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.failures import storage_errors
from bridge.adapters.storage.models import CatalogVersionRow
from bridge.services.ports import CatalogVersionRecord

VERSIONS = cast(Table, CatalogVersionRow.__table__)


def _record(row: RowMapping) -> CatalogVersionRecord:
    return CatalogVersionRecord(
        id=row["id"],
        document=row["document"],
        actor=row["actor"],
        reason=row["reason"],
        source=row["source"],
        diff=tuple(row["diff"]),
        created_at=row["created_at"],
    )


class SqlCatalogVersions:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def current_id(self) -> int | None:
        """The current version's id: one read of the primary key's index."""
        value = self._s.execute(select(func.max(VERSIONS.c.id))).scalar()
        return None if value is None else int(value)

    def get(self, version_id: int) -> CatalogVersionRecord | None:
        row = self._s.execute(select(VERSIONS).where(VERSIONS.c.id == version_id)).mappings()
        found = row.first()
        return None if found is None else _record(found)

    def add(
        self,
        document: Mapping[str, Any],
        actor: str,
        reason: str,
        source: str,
        diff: Sequence[Mapping[str, Any]],
        at: datetime,
    ) -> int:
        result = self._s.execute(
            insert(VERSIONS)
            .values(
                document=dict(document),
                actor=actor,
                reason=reason,
                source=source,
                diff=[dict(d) for d in diff],
                created_at=at,
            )
            .returning(VERSIONS.c.id)
        )
        return int(result.scalar_one())

    def listing(self, offset: int, limit: int) -> tuple[list[CatalogVersionRecord], int]:
        """A page of versions, newest first, and how many there are."""
        total = int(self._s.execute(select(func.count()).select_from(VERSIONS)).scalar_one())
        rows = self._s.execute(
            select(VERSIONS).order_by(VERSIONS.c.id.desc()).offset(offset).limit(limit)
        ).mappings()
        return [_record(r) for r in rows], total


class SqlCatalogReader:
    """The catalog source's reads, on an engine of their own: a request that holds a write
    transaction can still read the current version (SQLite would otherwise wait on itself)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def current_id(self) -> int | None:
        with storage_errors(), self._engine.connect() as conn:
            value = conn.execute(select(func.max(VERSIONS.c.id))).scalar()
        return None if value is None else int(value)

    def get(self, version_id: int) -> CatalogVersionRecord | None:
        with storage_errors(), self._engine.connect() as conn:
            row = conn.execute(select(VERSIONS).where(VERSIONS.c.id == version_id)).mappings()
            found = row.first()
        return None if found is None else _record(found)
