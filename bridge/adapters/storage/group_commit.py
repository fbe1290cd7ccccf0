"""Group commit: concurrent short writes of one process committed in one SQLite transaction.

SQLite has one writer at a time; every webhook used to take the writer lock, begin, run its
few statements, commit and hand the lock on, so eight request threads got the throughput of one
and paid a transaction each. Here the first thread to arrive becomes the leader: it takes every
unit of work waiting at that moment (its own included), runs them one after the other in ONE
transaction, each inside a savepoint of its own, and commits once. Threads that arrive while a
leader commits wait; when it is done, the one whose work is still waiting leads the next group
(every thread then waiting joins it). A group is therefore as large as the number of threads
that wrote at once (the server's threads), never larger.

Guarantees, the same as one transaction per unit:
- a caller gets its result (or its exception) only after the transaction holding its writes
  committed; if the commit fails, every caller of the group gets the commit's exception;
- a unit that raises has its own writes undone (ROLLBACK TO its savepoint, and the pushes it
  noted forgotten) and its exception raised in its own thread; the group goes on without it;
- pushes noted by the units are queued after the commit, as by any unit of work.

On PostgreSQL writers run in parallel; there `SoloCommitter` gives each unit its own
transaction (grouping would only lengthen row locks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import Engine

from bridge.adapters.storage.unit_of_work import SqlUnitOfWork
from bridge.services.ports import UnitOfWork

__all__ = ["GroupCommitter", "SoloCommitter", "make_committer"]

T = TypeVar("T")


class _Unit:
    __slots__ = ("done", "error", "value", "work")

    def __init__(self, work: Callable[[UnitOfWork], Any]) -> None:
        self.work = work
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    """Runs units of work (`work(uow) -> result`) in shared transactions; see the module."""

    def __init__(self, make_uow: Callable[[], SqlUnitOfWork]) -> None:
        self._make_uow = make_uow
        self._cond = threading.Condition()
        self._waiting: list[_Unit] = []
        self._leader: int | None = None  # the thread committing a group, if any

    def __call__(self, work: Callable[[UnitOfWork], T]) -> T:
        if self._leader == threading.get_ident():
            # A unit that asked for another would wait for its own group forever.
            raise RuntimeError("a grouped unit of work cannot start another one")
        unit = _Unit(work)
        with self._cond:
            self._waiting.append(unit)
            while not unit.done:
                if self._leader is not None:
                    self._cond.wait()
                    continue
                self._leader = threading.get_ident()
                group, self._waiting = self._waiting, []
                self._cond.release()
                try:
                    self._commit(group)
                finally:
                    self._cond.acquire()
                    self._leader = None
                    self._cond.notify_all()
        if unit.error is not None:
            raise unit.error
        result: T = unit.value
        return result

    def waiting(self) -> int:
        """Units queued for the next group (for tests and metrics)."""
        with self._cond:
            return len(self._waiting)

    def _commit(self, group: list[_Unit]) -> None:
        try:
            with self._make_uow() as uow:
                for unit in group:
                    try:
                        with uow.savepoint():
                            unit.value = unit.work(cast(UnitOfWork, uow))
                    except Exception as exc:
                        unit.error = exc
                uow.commit()
        except BaseException as exc:  # nothing of the group is committed
            for unit in group:
                if unit.error is None:
                    unit.error, unit.value = exc, None
            if not isinstance(exc, Exception):
                raise
        finally:
            for unit in group:
                unit.done = True


class SoloCommitter:
    """One transaction per unit of work (PostgreSQL, or anywhere grouping is not wanted)."""

    def __init__(self, make_uow: Callable[[], UnitOfWork]) -> None:
        self._make_uow = make_uow

    def __call__(self, work: Callable[[UnitOfWork], T]) -> T:
        with self._make_uow() as uow:
            result = work(uow)
            uow.commit()
        return result


def make_committer(engine: Engine, make_uow: Callable[[], Any]) -> GroupCommitter | SoloCommitter:
    """Group commits on SQLite (one writer at a time anyway), a transaction each elsewhere."""
    if engine.dialect.name == "sqlite":
        return GroupCommitter(make_uow)
    return SoloCommitter(make_uow)
