"""The ports of imports from other systems (`bridge import ultimate-multisite`): the batch and
the remembered id mapping records, and their repository; `ports.UnitOfWork.imports` is one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ImportBatchRecord:
    """One run of an import (`bridge import ultimate-multisite`) and its report."""

    id: int
    source: str
    network: str
    actor: str
    catalog_before: int | None
    catalog_after: int | None
    report: Mapping[str, Any]
    created_at: datetime
    undone_at: datetime | None


@dataclass(frozen=True)
class ImportRecord:
    """What an import wrote for one source row: the bridge's id, what was written, the batch
    that created it and the membership version it left (to see later changes in the bridge)."""

    id: int
    batch_id: int
    last_batch_id: int
    source: str
    kind: str
    source_id: str
    bridge_id: str
    written: Mapping[str, Any]
    written_version: int | None
    data: Mapping[str, Any]


class ImportRepository(Protocol):
    """Import batches and the remembered id mapping, plus the removals `--undo` needs."""

    def start_batch(
        self, source: str, network: str, actor: str, catalog_before: int | None, at: datetime
    ) -> int: ...
    def finish_batch(
        self, batch_id: int, catalog_after: int | None, report: Mapping[str, Any]
    ) -> None: ...
    def batch(self, batch_id: int) -> ImportBatchRecord | None: ...
    def batches(self, source: str) -> list[ImportBatchRecord]: ...
    def mark_undone(self, batch_id: int, at: datetime) -> None: ...
    def record(self, source: str, kind: str, source_id: str) -> ImportRecord | None: ...
    def of_batch(self, batch_id: int) -> list[ImportRecord]: ...
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
        """Insert the record, or update it (keeping the batch that created it)."""
        ...

    def forget(self, record_id: int) -> None: ...
    def activity(self, membership_id: int) -> int:
        """Invoices, quotes and ledger entries of a membership (0: nothing happened on it)."""
        ...

    def delete_membership(self, membership_id: int) -> None: ...
    def detach_site(self, site_id: int) -> None: ...
    def delete_customer_if_unused(self, customer_id: int) -> bool: ...
    def customer_of_membership(self, membership_id: int) -> int | None: ...
