"""Live pushes: a commit's own pushes start at once on threads of the serving process.

Without this, a commit's push went through the queue: written to the queue's storage, taken by
a worker (in-process or another process), then pushed. That costs a queue round trip and, with
workers elsewhere, their polling or the queue's latency. Here `LivePushes` is the `LimitsQueue`
the units of work of `bridge serve` hand their pushes to after their commit:

1. the durable copy first: the push is queued in the job queue to run `grace_s` later
   (`HueyLimitsQueue.enqueue_push_later`, marked so the reconcile leaves the site alone), so
   a process that dies now loses nothing;
2. then the live push: a thread of this process (never the request's thread, which answers
   at once) pushes the site's current document through the same `PushRunner` as the worker.

Exactly one effect, by the version rule: the plugin applies a document only when its version is
newer than the one applied, and the runner records the site's acknowledgement. When the queued
copy comes due, the runner finds the site's applied version at the desired one and does nothing
(`up_to_date`, no request to WordPress). If the live push failed (WordPress down), the failure
is recorded as the first attempt and the queued copy is the retry chain's next attempt. If
WordPress is slower than `grace_s`, both may push the same version: the plugin applies it once.

Live pushes are for a commit's own few sites. When many pushes arrive at once (a catalog change
raising the limits of many members, an operator's repush of every dead push) and `max_backlog`
of them already wait for a live thread, the others go to the queue at once, as before, where
workers (and the batched fan-out) take them. Not started (`start` not called: workers, the CLI,
tests), it passes every push straight to the queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from bridge.services.pushes import PushRunner

__all__ = ["LivePushes"]

log = logging.getLogger(__name__)


class _Queue(Protocol):
    def enqueue_push(self, site_id: int, version: int) -> None: ...
    def enqueue_push_later(self, site_id: int, version: int, delay_s: float) -> None: ...
    def enqueue_default_limits(self) -> None: ...
    def enqueue_fanout(self, site_ids: Sequence[int]) -> None: ...


class LivePushes:
    """The `LimitsQueue` of a serving process; see the module docstring."""

    def __init__(self, jobs: _Queue) -> None:
        self._jobs = jobs
        self._work: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._runner: PushRunner | None = None
        self._grace_s = 0.0
        self._max_backlog = 0

    @property
    def live(self) -> bool:
        return self._runner is not None

    def start(
        self, runner: PushRunner, *, threads: int, grace_s: float, max_backlog: int = 16
    ) -> None:
        """Push live from now on, on `threads` threads; the queued copies wait `grace_s`."""
        self._runner, self._grace_s, self._max_backlog = runner, grace_s, max_backlog
        for n in range(threads):
            thread = threading.Thread(target=self._run, name=f"live-push-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Push live no more: new pushes go to the queue, the ones not started yet are left to
        their queued copies; the pushes under way go on."""
        if self._runner is None:
            return
        self._runner = None
        for _ in self._threads:
            self._work.put(None)

    def stop(self, timeout_s: float) -> None:
        """`close`, then wait up to `timeout_s` for the pushes under way."""
        self.close()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        self._threads = []

    def enqueue_push(self, site_id: int, version: int) -> None:
        if self._runner is None or self._work.qsize() >= self._max_backlog:
            self._jobs.enqueue_push(site_id, version)
            return
        try:
            self._jobs.enqueue_push_later(site_id, version, self._grace_s)
        finally:  # pushed live even when the queue is down (the reconcile is the fallback then)
            self._work.put((site_id, version))

    def enqueue_default_limits(self) -> None:
        self._jobs.enqueue_default_limits()

    def enqueue_fanout(self, site_ids: Sequence[int]) -> None:
        self._jobs.enqueue_fanout(site_ids)  # many sites at once: batches, never live

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            runner = self._runner
            if runner is None:
                continue  # stopping: the queued copy pushes it
            site_id, version = item
            try:
                runner.push_site(site_id)
            except Exception:  # the queued copy pushes it
                log.exception("live push failed", extra={"site_id": site_id, "version": version})
