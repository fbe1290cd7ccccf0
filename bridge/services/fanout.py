"""Fan-out: many sites' limits documents in signed batches, under a per-network rate cap.

When many sites change at once (a catalog import that raises a plan's or a package's limits, the
default plan's among them; `bridge repush` of many sites; the reconcile after an outage), one
request per site would cost the network a PHP request per site. A fan-out sends the documents in
batches of `push.batch_size` (the plugin takes at most 200) to the network's batch endpoint,
which applies each under the same version rule and answers per site. A change of fewer than
`push.fanout_from` sites stays single pushes.

The cap: at most `push.max_docs_per_s` documents a second (paced batch by batch, 0: no cap) and
`push.max_concurrent_batches` batch requests in flight, so a fan-out cannot take the operator's
own network down. The queue's task runs one fan-out at a time per network (adapters/tasks.py).

What fails inside a fan-out goes to the single-push chain (`PushRunner`, its `RetryPolicy`, dead
after its attempts like any push): a site the plugin answered with an error, every site of a
batch that failed whole, a site with no stored document. After two batches in a row fail whole
with a retryable error the network is taken to be down: the fan-out stops and hands back the
sites it did not send (`left`), which the task fans out again after the policy's delay.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bridge.errors import PushRejected, WordPressUnavailable
from bridge.services.context import Context
from bridge.services.ports import Pusher

log = logging.getLogger(__name__)

# Whole-batch retryable failures in a row after which the network is taken to be down.
STOP_AFTER_FAILED_BATCHES = 2


def queue_pushes(ctx: Context, site_ids: Sequence[int]) -> None:
    """Queue pushes of these sites' documents: one fan-out when they are `push.fanout_from` or
    more, else one single push each."""
    targets = list(dict.fromkeys(site_ids))
    if len(targets) >= ctx.settings.push.fanout_from:
        ctx.queue.enqueue_fanout(targets)
        return
    for site_id in targets:
        ctx.queue.enqueue_push(site_id, 0)


class Throttle:
    """At most `per_s` documents a second across threads: each batch waits its turn (no burst);
    `per_s` 0 means no cap."""

    def __init__(
        self,
        per_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_s = per_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def take(self, documents: int) -> None:
        if self.per_s <= 0 or documents <= 0:
            return
        with self._lock:
            now = self._monotonic()
            start = max(now, self._next)
            self._next = start + documents / self.per_s
        if start > now:
            self._sleep(start - now)


@dataclass
class FanoutReport:
    """What a fan-out did: sites acknowledged, skipped (already up to date), handed to the
    single-push chain (`failed`) and not sent because it stopped (`left`)."""

    acknowledged: int = 0
    skipped: int = 0
    batches: int = 0
    seconds: float = 0.0
    failed: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)


class FanoutRunner:
    """Push many sites' current documents in batches and say what is left to do."""

    def __init__(
        self,
        ctx: Context,
        pusher: Pusher,
        on_outcome: Callable[[str], None] | None = None,
        throttle: Throttle | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.pusher = pusher
        self.on_outcome = on_outcome
        self.throttle = throttle or Throttle(ctx.settings.push.max_docs_per_s)
        self._monotonic = monotonic

    def run(
        self, site_ids: Sequence[int], heartbeat: Callable[[], None] | None = None
    ) -> FanoutReport:
        """Send the documents of the sites still behind, batch by batch, under the cap;
        `heartbeat` is called after each batch."""
        push = self.ctx.settings.push
        targets = list(dict.fromkeys(site_ids))
        chunks = [targets[n : n + push.batch_size] for n in range(0, len(targets), push.batch_size)]
        run = _Run(push.max_concurrent_batches)
        started = self._monotonic()
        # Twice as many threads as requests in flight: while some wait on the network, others
        # read the next documents or record the last answers.
        with ThreadPoolExecutor(2 * push.max_concurrent_batches, "fanout") as pool:
            for chunk in chunks:
                pool.submit(self._batch, chunk, run, heartbeat)
        report = run.report
        report.seconds = round(self._monotonic() - started, 3)
        report.failed.sort()
        report.left.sort()
        log.info(
            "fan-out done",
            extra={
                "sites": len(targets),
                "batches": report.batches,
                "acknowledged": report.acknowledged,
                "skipped": report.skipped,
                "failed": len(report.failed),
                "left": len(report.left),
                "seconds": report.seconds,
                "docs_per_s": round(report.acknowledged / report.seconds, 1)
                if report.seconds
                else None,
            },
        )
        return report

    def _batch(self, site_ids: list[int], run: _Run, heartbeat: Callable[[], None] | None) -> None:
        try:
            self._send(site_ids, run)
        except Exception:  # never lose a batch's sites to a bug: the single chain takes them
            log.exception("fan-out batch failed", extra={"sites": len(site_ids)})
            run.add(failed=site_ids)
        if heartbeat is not None:
            heartbeat()

    def _send(self, site_ids: list[int], run: _Run) -> None:
        if run.stopped():
            run.add(left=site_ids)
            return
        with self.ctx.uow() as uow:
            rows = {row[0]: row for row in uow.limits.pending(site_ids)}
        # No stored document, or the site is gone: the single push builds it or says gone.
        missing = [s for s in site_ids if s not in rows or rows[s][3] is None]
        behind = [rows[s] for s in site_ids if s not in missing and rows[s][2] < rows[s][1]]
        run.add(failed=missing, skipped=len(site_ids) - len(missing) - len(behind))
        if not behind:
            return
        sent = [row[0] for row in behind]
        self.throttle.take(len(behind))
        with run.in_flight:  # the cap on requests; reading and recording overlap other sends
            if run.stopped():
                run.add(left=sent)
                return
            try:
                items = self.pusher.push_batch(
                    self.ctx.settings.wordpress.url,
                    [(row[0], row[3] or "") for row in behind],
                    self.ctx.clock.now(),
                    _msg_id(behind),
                )
            except WordPressUnavailable as exc:
                run.add(failed=sent, batches=1, whole_failure=True)
                log.warning("fan-out batch failed whole", extra={"error": str(exc)})
                return
            except PushRejected as exc:
                # A plugin without the batch route (404), a bad signature (401): each site alone.
                run.add(failed=sent, batches=1)
                log.warning(
                    "fan-out batch refused", extra={"error": str(exc), "status": exc.status}
                )
                return
        acks: list[tuple[int, int]] = []
        failed: list[int] = []
        for site_id, item in zip(sent, items, strict=True):
            if item.status != "error" and item.applied_version is not None:
                acks.append((site_id, item.applied_version))
                self._count("ok" if item.status == "applied" else "up_to_date")
            else:
                failed.append(site_id)
        if acks:
            with self.ctx.uow() as uow:
                uow.limits.acknowledge_many(acks, self.ctx.now())
                uow.commit()
        run.add(failed=failed, acknowledged=len(acks), batches=1)

    def _count(self, outcome: str) -> None:
        if self.on_outcome is not None:
            self.on_outcome(outcome)


class _Run:
    """One fan-out's tally, shared by its batch threads."""

    def __init__(self, in_flight: int) -> None:
        self.report = FanoutReport()
        self.in_flight = threading.BoundedSemaphore(in_flight)
        self._failed_in_a_row = 0
        self._lock = threading.Lock()

    def stopped(self) -> bool:
        with self._lock:
            return self._failed_in_a_row >= STOP_AFTER_FAILED_BATCHES

    def add(
        self,
        *,
        failed: Sequence[int] = (),
        left: Sequence[int] = (),
        acknowledged: int = 0,
        skipped: int = 0,
        batches: int = 0,
        whole_failure: bool = False,
    ) -> None:
        with self._lock:
            self.report.failed.extend(failed)
            self.report.left.extend(left)
            self.report.acknowledged += acknowledged
            self.report.skipped += skipped
            self.report.batches += batches
            if whole_failure:
                self._failed_in_a_row += 1
            elif batches:
                self._failed_in_a_row = 0


def _msg_id(rows: Sequence[tuple[int, int, int, str | None]]) -> str:
    """The same batch of the same versions gets the same id (a retry is recognisable)."""
    digest = hashlib.sha256(",".join(f"{r[0]}:{r[1]}" for r in rows).encode()).hexdigest()
    return f"limits-batch-{digest[:24]}"
