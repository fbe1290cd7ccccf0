"""Import batches and the remembered id mapping (SQLAlchemy Core), and the removals of `--undo`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.models import (
    Customer,
    ImportBatchRow,
    ImportRecordRow,
    InvoiceRow,
    LedgerEntry,
    MembershipRow,
    QuoteRow,
    SiteRow,
)
from bridge.services.import_ports import ImportBatchRecord, ImportRecord

BATCHES = cast(Table, ImportBatchRow.__table__)
RECORDS = cast(Table, ImportRecordRow.__table__)
MEMBERSHIPS = cast(Table, MembershipRow.__table__)
SITES = cast(Table, SiteRow.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
INVOICES = cast(Table, InvoiceRow.__table__)
QUOTES = cast(Table, QuoteRow.__table__)
LEDGER = cast(Table, LedgerEntry.__table__)


def _batch(row: RowMapping) -> ImportBatchRecord:
    return ImportBatchRecord(
        id=row["id"],
        source=row["source"],
        network=row["network"],
        actor=row["actor"],
        catalog_before=row["catalog_before"],
        catalog_after=row["catalog_after"],
        report=row["report"],
        created_at=row["created_at"],
        undone_at=row["undone_at"],
    )


def _record(row: RowMapping) -> ImportRecord:
    return ImportRecord(
        id=row["id"],
        batch_id=row["batch_id"],
        last_batch_id=row["last_batch_id"],
        source=row["source"],
        kind=row["kind"],
        source_id=row["source_id"],
        bridge_id=row["bridge_id"],
        written=row["written"],
        written_version=row["written_version"],
        data=row["data"],
    )


class SqlImports:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def start_batch(
        self, source: str, network: str, actor: str, catalog_before: int | None, at: datetime
    ) -> int:
        result = self._s.execute(
            insert(BATCHES)
            .values(
                source=source,
                network=network,
                actor=actor,
                catalog_before=catalog_before,
                report={},
                created_at=at,
            )
            .returning(BATCHES.c.id)
        )
        return int(result.scalar_one())

    def finish_batch(
        self, batch_id: int, catalog_after: int | None, report: Mapping[str, Any]
    ) -> None:
        self._s.execute(
            update(BATCHES)
            .where(BATCHES.c.id == batch_id)
            .values(catalog_after=catalog_after, report=dict(report))
        )

    def batch(self, batch_id: int) -> ImportBatchRecord | None:
        row = self._s.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).mappings().first()
        return None if row is None else _batch(row)

    def batches(self, source: str) -> list[ImportBatchRecord]:
        rows = self._s.execute(
            select(BATCHES).where(BATCHES.c.source == source).order_by(BATCHES.c.id)
        ).mappings()
        return [_batch(r) for r in rows]

    def mark_undone(self, batch_id: int, at: datetime) -> None:
        self._s.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(undone_at=at))

    def record(self, source: str, kind: str, source_id: str) -> ImportRecord | None:
        row = (
            self._s.execute(
                select(RECORDS).where(
                    RECORDS.c.source == source,
                    RECORDS.c.kind == kind,
                    RECORDS.c.source_id == source_id,
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _record(row)

    def of_batch(self, batch_id: int) -> list[ImportRecord]:
        rows = self._s.execute(
            select(RECORDS).where(RECORDS.c.batch_id == batch_id).order_by(RECORDS.c.id)
        ).mappings()
        return [_record(r) for r in rows]

    def remember(
        self,
        batch_id: int,
        source: str,
        kind: str,
        source_id: str,
        bridge_id: str,
        written: Mapping[str, Any],
        written_version: int | None,
        data: Mapping[str, Any],
    ) -> None:
        values = {
            "last_batch_id": batch_id,
            "bridge_id": bridge_id,
            "written": dict(written),
            "written_version": written_version,
            "data": dict(data),
        }
        found = self.record(source, kind, source_id)
        if found is None:
            self._s.execute(
                insert(RECORDS).values(
                    batch_id=batch_id, source=source, kind=kind, source_id=source_id, **values
                )
            )
        else:
            self._s.execute(update(RECORDS).where(RECORDS.c.id == found.id).values(**values))

    def forget(self, record_id: int) -> None:
        self._s.execute(delete(RECORDS).where(RECORDS.c.id == record_id))

    def activity(self, membership_id: int) -> int:
        total = 0
        for table in (INVOICES, QUOTES, LEDGER):
            total += int(
                self._s.execute(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.membership_id == membership_id)
                ).scalar_one()
            )
        return total

    def delete_membership(self, membership_id: int) -> None:
        self._s.execute(
            update(SITES).where(SITES.c.membership_id == membership_id).values(membership_id=None)
        )
        self._s.execute(delete(MEMBERSHIPS).where(MEMBERSHIPS.c.id == membership_id))

    def detach_site(self, site_id: int) -> None:
        self._s.execute(update(SITES).where(SITES.c.id == site_id).values(membership_id=None))

    def customer_of_membership(self, membership_id: int) -> int | None:
        value = self._s.execute(
            select(MEMBERSHIPS.c.customer_id).where(MEMBERSHIPS.c.id == membership_id)
        ).scalar()
        return None if value is None else int(value)

    def delete_customer_if_unused(self, customer_id: int) -> bool:
        used = self._s.execute(
            select(func.count())
            .select_from(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.customer_id == customer_id)
        ).scalar_one()
        if used:
            return False
        self._s.execute(delete(CUSTOMERS).where(CUSTOMERS.c.id == customer_id))
        return True
