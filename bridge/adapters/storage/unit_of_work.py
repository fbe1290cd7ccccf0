"""The unit of work on SQLAlchemy: one transaction, its repositories, pushes after the commit.

`with uow:` begins; `uow.commit()` commits explicitly; leaving the block without a commit (or by
an exception) rolls back. SQLAlchemy's integrity errors become our own `Duplicate` here, so no use
case ever sees a SQLAlchemy exception. Pushes noted during the transaction go to the queue only
after the commit succeeded; if the process dies in between, the reconcile pass finds the sites
again (their applied version is behind).

Why a Core connection and not an ORM session: every repository speaks Core statements, and the
session's identity map, autoflush and event machinery cost more than the statements themselves on
the hot paths (a webhook, a push acknowledgement). Why a writer lock on SQLite: every transaction
there begins with `BEGIN IMMEDIATE` (see engine.py), so the threads of one process queue for the
database's write lock anyway; without this lock they wait in SQLite's busy handler, which sleeps
in growing steps and wakes late, so a burst of webhooks costs tens to hundreds of milliseconds of
nothing each. Queued on a lock of our own they start the moment the previous writer is done.
Other processes on the same file still meet the busy timeout, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from bridge.adapters.storage.billing import SqlAudit, SqlInvoices, SqlLedger
from bridge.adapters.storage.cards import SqlCards
from bridge.adapters.storage.catalogs import SqlCatalogVersions
from bridge.adapters.storage.console import SqlConsole
from bridge.adapters.storage.failures import storage_errors, translated
from bridge.adapters.storage.imports import SqlImports
from bridge.adapters.storage.limits import SqlLimits, SqlReceipts, SqlTokens
from bridge.adapters.storage.notices import SqlNotices
from bridge.adapters.storage.receipts import SqlSalesReceipts
from bridge.adapters.storage.repositories import (
    SqlCustomers,
    SqlMemberships,
    SqlQuotes,
    SqlSites,
)
from bridge.errors import Duplicate
from bridge.services.ports import LimitsQueue

log = logging.getLogger(__name__)


class SqlUnitOfWork:
    """One transaction with every repository; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        queue: LimitsQueue,
        writer: AbstractContextManager[Any] | None = None,
    ) -> None:
        self._engine = engine
        self._queue = queue
        self._writer: AbstractContextManager[Any] = writer or nullcontext()
        self._session: Connection | None = None
        self._pushes: list[tuple[int, int]] = []
        self._defaults = False
        self._holding = False

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self._writer.__exit__(None, None, None)

    def __enter__(self) -> SqlUnitOfWork:
        self._writer.__enter__()
        self._holding = True
        try:
            with storage_errors():
                session = self._engine.connect()
                try:
                    session.begin()
                except BaseException:
                    session.close()
                    raise
        except BaseException:
            self._release()
            raise
        self._session = session
        self._pushes, self._defaults = [], False
        self.sites = SqlSites(session)
        self.customers = SqlCustomers(session)
        self.memberships = SqlMemberships(session, self.sites)
        self.invoices = SqlInvoices(session)
        self.quotes = SqlQuotes(session)
        self.ledger = SqlLedger(session)
        self.audit = SqlAudit(session)
        self.limits = SqlLimits(session)
        self.receipts = SqlReceipts(session)
        self.sales_receipts = SqlSalesReceipts(session)
        self.tokens = SqlTokens(session)
        self.catalogs = SqlCatalogVersions(session)
        self.console = SqlConsole(session)
        self.imports = SqlImports(session)
        self.cards = SqlCards(session)
        self.notices = SqlNotices(session)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        session = self._session
        self._session = None
        if session is None:
            return
        try:
            if session.in_transaction():
                session.rollback()
        except DBAPIError as failed:  # the connection died: nothing was committed
            if exc is None:
                raise translated(failed) or failed from failed
        finally:
            session.close()
            self._release()
        if isinstance(exc, IntegrityError):
            raise Duplicate("This was recorded already.") from exc
        if isinstance(exc, DBAPIError) and (error := translated(exc)) is not None:
            raise error from exc

    def commit(self) -> None:
        """Commit, then queue the pushes noted during the transaction."""
        assert self._session is not None, "commit() outside `with uow:`"
        try:
            with storage_errors():
                self._session.commit()
        except IntegrityError as exc:
            raise Duplicate("This was recorded already.") from exc
        # The transaction is over: the next writer may start while the pushes are handed over
        # (an inline queue runs them here, in units of work of their own).
        self._release()
        pushes, defaults = self._pushes, self._defaults
        self._pushes, self._defaults = [], False
        for site_id, version in pushes:
            try:
                self._queue.enqueue_push(site_id, version)
            except Exception:  # the reconcile pass finds the site again
                log.exception("could not queue a push", extra={"site_id": site_id})
        if defaults:
            try:
                self._queue.enqueue_default_limits()
            except Exception:
                log.exception("could not queue the default limits push")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint: an exception inside undoes only the writes (and noted pushes) made
        inside, then propagates (an integrity error as `Duplicate`); the transaction goes on.

        On SQLite the three statements go straight to the driver: SQLite's savepoints cost
        next to nothing, SQLAlchemy's bookkeeping of a nested transaction as much as the
        statements of a webhook (the group committer takes one per webhook)."""
        session = self._session
        assert session is not None, "savepoint() outside `with uow:`"
        noted, defaults = len(self._pushes), self._defaults
        raw = session.connection.driver_connection if session.dialect.name == "sqlite" else None
        try:
            if raw is None:
                with session.begin_nested():
                    yield
            else:
                raw.execute("SAVEPOINT unit")
                try:
                    yield
                except BaseException:
                    raw.execute("ROLLBACK TO unit")
                    raise
                finally:
                    raw.execute("RELEASE unit")
        except BaseException as exc:
            del self._pushes[noted:]
            self._defaults = defaults
            if isinstance(exc, IntegrityError):
                raise Duplicate("This was recorded already.") from exc
            raise

    def push_after_commit(self, site_id: int, version: int) -> None:
        self._pushes.append((site_id, version))

    def push_defaults_after_commit(self) -> None:
        self._defaults = True

    def forget_pushes(self) -> None:
        self._pushes.clear()


def unit_of_work_factory(engine: Engine, queue: LimitsQueue) -> Any:
    """A callable that makes a fresh unit of work (the services' `UnitOfWorkFactory`); on
    SQLite its units of work share one writer lock (see the module docstring)."""
    writer = threading.Lock() if engine.dialect.name == "sqlite" else None

    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, queue, writer)

    return make
