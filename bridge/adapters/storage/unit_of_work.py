"""The unit of work on SQLAlchemy: one transaction, its repositories, pushes after the commit.

`with uow:` begins; `uow.commit()` commits explicitly; leaving the block without a commit (or by
an exception) rolls back. SQLAlchemy's integrity and stale-data errors become our own
`Duplicate` and `ConcurrentChange` here, so no use case ever sees a SQLAlchemy exception. Pushes
noted during the transaction go to the queue only after the commit succeeded; if the process
dies in between, the reconcile pass finds the sites again (their applied version is behind).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bridge.adapters.storage.billing import SqlAudit, SqlInvoices, SqlLedger
from bridge.adapters.storage.catalogs import SqlCatalogVersions
from bridge.adapters.storage.limits import SqlLimits, SqlReceipts, SqlTokens
from bridge.adapters.storage.repositories import (
    SqlCustomers,
    SqlMemberships,
    SqlQuotes,
    SqlSites,
)
from bridge.errors import ConcurrentChange, Duplicate
from bridge.services.ports import LimitsQueue

log = logging.getLogger(__name__)


class SqlUnitOfWork:
    """One transaction with every repository; see the module docstring."""

    def __init__(self, sessions: sessionmaker[Session], queue: LimitsQueue) -> None:
        self._sessions = sessions
        self._queue = queue
        self._session: Session | None = None
        self._pushes: list[tuple[int, int]] = []
        self._defaults = False

    def __enter__(self) -> SqlUnitOfWork:
        session = self._sessions()
        session.begin()
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
        self.tokens = SqlTokens(session)
        self.catalogs = SqlCatalogVersions(session)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        session = self._session
        self._session = None
        if session is None:
            return
        try:
            if session.in_transaction():
                session.rollback()
        finally:
            session.close()
        if isinstance(exc, IntegrityError):
            raise Duplicate("This was recorded already.") from exc
        if isinstance(exc, StaleDataError):
            raise ConcurrentChange(
                "The membership changed at the same time; please try again."
            ) from exc

    def commit(self) -> None:
        """Commit, then queue the pushes noted during the transaction."""
        assert self._session is not None, "commit() outside `with uow:`"
        try:
            self._session.commit()
        except IntegrityError as exc:
            raise Duplicate("This was recorded already.") from exc
        except StaleDataError as exc:
            raise ConcurrentChange(
                "The membership changed at the same time; please try again."
            ) from exc
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

    def push_after_commit(self, site_id: int, version: int) -> None:
        self._pushes.append((site_id, version))

    def push_defaults_after_commit(self) -> None:
        self._defaults = True

    def forget_pushes(self) -> None:
        self._pushes.clear()


def unit_of_work_factory(sessions: sessionmaker[Session], queue: LimitsQueue) -> Any:
    """A callable that makes a fresh unit of work (the services' `UnitOfWorkFactory`)."""

    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, queue)

    return make
