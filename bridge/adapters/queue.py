"""The job queue: Huey, with SQLite (embedded default), Redis (scale-out) or memory (tests).

This module only builds the Huey instance and implements the services' `LimitsQueue` port on it.
The tasks (what a push does, how it retries) live in `bridge/adapters/tasks.py`, which registers
its tasks on the same Huey instance and hands their handles to `HueyLimitsQueue.bind`.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from huey import Huey, MemoryHuey, RedisHuey
from huey.consumer import Consumer, Scheduler
from huey.storage import SqliteStorage

from bridge.errors import QueueNotBound

__all__ = ["HueyLimitsQueue", "QueueNotBound", "TaskHandle", "make_consumer", "make_huey"]

log = logging.getLogger(__name__)

# Huey compares naive UTC datetimes (its utc=True), so this one is naive on purpose.
_FAR_FUTURE = datetime.datetime(9999, 1, 1)

# One name for every process of a deployment: workers and servers share the queue through it.
QUEUE_NAME = "plan-bridge"


# How long an idle worker waits for work before it looks at the queue again on its own (a task
# queued by another process, which cannot wake it, waits at most this long).
WAKE_TIMEOUT_S = 1.0


class WakingSqliteStorage(SqliteStorage):  # type: ignore[misc]
    """Huey's SQLite storage, made blocking: an idle worker waits on an event that every enqueue
    of this process sets, so a push queued by a commit starts at once instead of after Huey's
    polling pause (0.1 s growing to the consumer's max delay). Huey's worker does not sleep after
    an empty dequeue from a blocking storage; this dequeue does the waiting (as Redis's BRPOP
    does for RedisHuey), for at most WAKE_TIMEOUT_S."""

    blocking = True

    def __init__(self, name: str = "huey", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._work = threading.Event()
        self._stopping = False

    def stop_waiting(self) -> None:
        """The consumer is stopping: idle workers return at once and wait no more."""
        self._stopping = True
        self._work.set()

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        super().enqueue(data, priority)
        self._work.set()

    def dequeue(self) -> bytes | None:
        # Clear before looking: an enqueue after the look sets the event again, so the wait
        # below cannot sleep through it.
        self._work.clear()
        data: bytes | None = super().dequeue()
        if data is None and not self._stopping and self._work.wait(WAKE_TIMEOUT_S):
            data = super().dequeue()
        return data


class TaskHandle(Protocol):
    """What we use of a Huey task wrapper: call it to enqueue."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def make_huey(backend: str, *, path: str | None = None, redis_url: str | None = None) -> Huey:
    """The Huey instance for a backend: "sqlite" (file at `path`), "redis" or "immediate".

    Results are off: nobody waits on a push's return value, and stored results would only grow.
    """
    if backend == "sqlite":
        if not path:
            raise ValueError("the sqlite queue needs a file path (queue.path)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Huey(QUEUE_NAME, storage_class=WakingSqliteStorage, filename=path, results=False)
    if backend == "redis":
        if not redis_url:
            raise ValueError("the redis queue needs a URL (queue.redis_url)")
        return RedisHuey(QUEUE_NAME, url=redis_url, results=False)
    if backend == "immediate":
        # Tasks run inside enqueue(), in the caller's thread; scheduled retries wait in memory
        # until someone reads the schedule (tests do, with `run_scheduled`).
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    raise ValueError(f"unknown queue backend {backend!r}; use 'sqlite', 'redis' or 'immediate'")


def make_consumer(huey: Huey, check_every_s: int, **options: Any) -> Any:
    """Huey's consumer whose scheduler looks at the periodic tasks every `check_every_s` seconds
    (Huey's own looks once a minute; jobs may run every few seconds, `jobs.*_every_s`)."""

    class _Scheduler(Scheduler):  # type: ignore[misc]
        periodic_task_seconds = check_every_s

    class _Consumer(Consumer):  # type: ignore[misc]
        scheduler_class = _Scheduler

    return _Consumer(huey, **options)


class HueyLimitsQueue:
    """The `LimitsQueue` port on Huey: enqueue a site's push or the network's default limits."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._push_site: TaskHandle | None = None
        self._push_defaults: TaskHandle | None = None
        self._push_fanout: TaskHandle | None = None
        self._push_later: TaskHandle | None = None

    def bind(
        self,
        *,
        push_site: TaskHandle,
        push_defaults: TaskHandle,
        push_fanout: TaskHandle | None = None,
        push_later: TaskHandle | None = None,
    ) -> None:
        """Attach the registered tasks (the facade needs the queue before the jobs exist)."""
        self._push_site = push_site
        self._push_defaults = push_defaults
        self._push_fanout = push_fanout
        self._push_later = push_later

    def enqueue_push(self, site_id: int, version: int) -> None:
        if self._push_site is None:
            raise QueueNotBound("push tasks are not registered on this queue")
        log.debug("push queued", extra={"site_id": site_id, "version": version})
        self._push_site(site_id, version)

    def enqueue_push_later(self, site_id: int, version: int, delay_s: float) -> None:
        """Queue a site's push to run in `delay_s` (the fallback of a live push)."""
        if self._push_later is None:
            raise QueueNotBound("push tasks are not registered on this queue")
        self._push_later(site_id, version, delay_s)

    def enqueue_default_limits(self) -> None:
        if self._push_defaults is None:
            raise QueueNotBound("push tasks are not registered on this queue")
        log.debug("default limits push queued")
        self._push_defaults()

    def enqueue_fanout(self, site_ids: Sequence[int]) -> None:
        if self._push_fanout is None:
            raise QueueNotBound("the fan-out task is not registered on this queue")
        log.info("fan-out queued", extra={"sites": len(site_ids)})
        self._push_fanout(list(site_ids))

    def depth(self) -> int:
        """Tasks waiting to run now plus those scheduled for later (retries)."""
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())

    def run_scheduled(self) -> int:
        """Run every scheduled task now, whatever its ETA; for the immediate backend in tests.

        Tests drive retries through this instead of sleeping through real backoff delays.
        """
        ran = 0
        far_future = _FAR_FUTURE
        for task in self.huey.read_schedule(far_future):
            self.huey.execute(task, timestamp=far_future)
            ran += 1
        return ran
