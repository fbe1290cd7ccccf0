"""Where a process gets the catalog: the database's current version, checked cheaply.

Every process (server threads, workers, the CLI) holds one `CatalogSource`. It answers from
memory and asks the database for the current version's id (one indexed `max(id)`, on a reader
connection outside any transaction) at most every
`check_every_s` seconds; only when the id moved does it read and parse the new version. So a
version imported anywhere reaches every process within a few seconds, without a restart, and
the quote path pays nothing but a clock read most of the time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.domain.catalog import Catalog, parse_catalog
from bridge.services.ports import CatalogReader

CHECK_EVERY_S = 2.0


@dataclass(frozen=True)
class CatalogSnapshot:
    """A catalog and its version id (0: config.yaml's catalog, before any version is stored)."""

    version: int
    catalog: Catalog


class CatalogSupply(Protocol):
    def current(self) -> CatalogSnapshot: ...
    def forget(self) -> None:
        """Look again on the next read (a new version was stored)."""
        ...


class PinnedCatalog:
    """One fixed snapshot: what a use case works on while it writes a new version."""

    def __init__(self, snapshot: CatalogSnapshot) -> None:
        self._snapshot = snapshot

    def current(self) -> CatalogSnapshot:
        return self._snapshot

    def forget(self) -> None:
        return None


class CatalogSource:
    """The current catalog version, re-checked at most every `check_every_s` seconds."""

    def __init__(
        self,
        reader: CatalogReader,
        fallback: Catalog,
        check_every_s: float = CHECK_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._every = check_every_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._snapshot = CatalogSnapshot(0, fallback)
        self._checked_at: float | None = None
        self.checks = 0  # database checks made (for the benchmark and tests)

    def current(self) -> CatalogSnapshot:
        """The current version (from memory unless the last check is too old)."""
        now = self._monotonic()
        checked = self._checked_at
        if checked is not None and now - checked < self._every:
            return self._snapshot
        with self._lock:
            if self._checked_at is not None and now - self._checked_at < self._every:
                return self._snapshot
            self._reload()
            self._checked_at = now
            return self._snapshot

    def forget(self) -> None:
        """Check the database on the next read (after this process stored a new version)."""
        self._checked_at = None

    def _reload(self) -> None:
        self.checks += 1
        version = self._reader.current_id()
        if version is None or version == self._snapshot.version:
            return
        record = self._reader.get(version)
        if record is not None:
            self._snapshot = CatalogSnapshot(version, parse_catalog(record.document))
