"""The queue's tasks on Huey: push a site, push the defaults, reconcile, roll over, purge tokens.

Each task only calls a use case (through `PushRunner` for pushes). A retry of a push is a new task
scheduled with `schedule(delay=...)`, carrying its attempt number; the delay is the runner's.

Why a push chain marks itself in the queue's key-value store: the periodic reconcile re-queues
every site that is behind, and without the mark it would start a second chain (attempt 1 again)
beside one that is waiting out its backoff, so a failing site would never reach its dead state.
The mark has a deadline so a chain lost with a killed worker stops counting after a while; the
reconcile run at worker start-up ignores marks, since that is exactly when chains get lost.

Once per tick across processes: every consumer's scheduler (each `bridge serve` with its worker
and each `bridge worker`) enqueues the periodic tasks when their minute comes, so N processes
queue N copies of a tick's roll-over. `stamp_ticks` gives each copy its tick (the scheduler's
minute), and the first copy to claim `bridge:tick:<job>:<tick>` in the queue's key-value store
(Huey's `put_if_empty`: HSETNX on Redis, an INSERT on SQLite, atomic on both) runs it; the
others return at once. Huey's own `lock_task` uses the same primitive but releases the lock
when the run ends, so a copy that starts after the first one finished would run the tick again,
and a process killed while holding it would block the job until someone flushes the lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, crontab

from bridge.adapters.queue import HueyLimitsQueue
from bridge.services.access import forget_used_tokens
from bridge.services.pushes import PushRunner

__all__ = ["JobHandles", "register_jobs", "stamp_ticks", "tick_key"]

log = logging.getLogger(__name__)

# A chain's mark outlives its longest wait by this much (the push's own timeouts and queue lag).
_MARK_SLACK = timedelta(minutes=2)


@dataclass
class JobHandles:
    push_site: Any
    push_defaults: Any
    push_site_later: Callable[[int, int, float], None]
    reconcile: Callable[[bool], int]
    roll_over: Any
    forget_tokens: Any


def _mark_key(site_id: int) -> str:
    return f"bridge:push-chain:{site_id}"


def tick_key(job: str, tick: str) -> str:
    """The queue key whose first writer runs `job` for the scheduler's minute `tick`."""
    return f"bridge:tick:{job}:{tick}"


def _tick_of(timestamp: dt.datetime) -> str:
    return timestamp.replace(second=0, microsecond=0).isoformat(timespec="minutes")


def stamp_ticks(huey: Huey) -> None:
    """Give every periodic task the scheduler enqueues a `tick` argument: its minute.

    Each process's scheduler checks the periodic tasks once a minute (at its own second of the
    minute), so the copies queued by every process for one tick carry the same minute.
    """
    read_periodic = huey.read_periodic

    def stamped(timestamp: dt.datetime | None = None) -> list[Any]:
        if timestamp is None:
            timestamp = huey._get_timestamp()
        tasks: list[Any] = list(read_periodic(timestamp))
        for task in tasks:  # fresh instances on every read
            task.kwargs = {**(task.kwargs or {}), "tick": _tick_of(timestamp)}
        return tasks

    huey.read_periodic = stamped


def register_jobs(
    huey: Huey,
    runner: PushRunner,
    queue: HueyLimitsQueue,
    *,
    reconcile_every: str = "*/5",
    roll_over_every: str = "*",
) -> JobHandles:
    """Register the tasks on `huey` (names are stable: every process must agree on them)."""
    clock = runner.ctx.clock
    stamp_ticks(huey)
    me = f"{os.uname().nodename}:{os.getpid()}"

    def once_per_tick(job: str, every_min: int, work: Callable[[], None]) -> Callable[..., None]:
        """`work` for the scheduler's copies of a tick: only the copy that claims it runs.

        A call without a tick (an operator's or a test's direct call) always runs. The claim of
        three intervals back is deleted, so the keys stay few (a straggler that late, behind a
        long queue, would run again: harmless, each job is idempotent).
        """

        def run(tick: str | None = None) -> None:
            if tick is not None:
                if not huey.put_if_empty(tick_key(job, tick), me):
                    log.debug("tick already taken", extra={"job": job, "tick": tick})
                    return
                old = dt.datetime.fromisoformat(tick) - timedelta(minutes=3 * every_min)
                huey.delete(tick_key(job, _tick_of(old)))
                log.info("tick ran", extra={"job": job, "tick": tick})
            work()

        return run

    def mark(site_id: int, wait_s: float) -> None:
        deadline = clock.now() + timedelta(seconds=wait_s) + _MARK_SLACK
        huey.put(_mark_key(site_id), deadline.timestamp())

    def marked(site_id: int) -> bool:
        deadline = huey.get(_mark_key(site_id), peek=True)
        return deadline is not None and float(deadline) > clock.now().timestamp()

    # Huey's decorators are untyped; applying them as calls keeps our functions typed.
    def push_site_limits_fn(site_id: int, version: int = 0, attempt: int = 1) -> None:
        mark(site_id, 0)
        result = runner.push_site(site_id, attempt)
        if result.retry_in_s is not None:
            mark(site_id, result.retry_in_s)
            push_site_limits.schedule(
                args=(site_id, result.version or version, attempt + 1), delay=result.retry_in_s
            )
        else:
            huey.delete(_mark_key(site_id))

    def push_default_limits_fn(attempt: int = 1) -> None:
        result = runner.push_defaults(attempt)
        if result.retry_in_s is not None:
            push_default_limits.schedule(args=(attempt + 1,), delay=result.retry_in_s)

    def push_site_later(site_id: int, version: int, delay_s: float) -> None:
        """A push that waits `delay_s` first, marked as a chain so the reconcile leaves the
        site alone meanwhile (the durable copy of a live push: see bridge/adapters/live.py)."""
        mark(site_id, delay_s)
        push_site_limits.schedule(args=(site_id, version, 2), delay=delay_s)

    def reconcile_now(force: bool) -> int:
        queued = 0
        for site_id in runner.behind():
            if not force and marked(site_id):
                continue
            mark(site_id, 0)
            push_site_limits(site_id)
            queued += 1
        if queued:
            log.info("reconcile queued %d pushes", queued)
        return queued

    def reconcile_pushes() -> None:
        reconcile_now(force=False)

    def forget_tokens_now() -> None:
        forgotten = forget_used_tokens(runner.ctx)
        if forgotten:
            log.info("forgot %d used checkout token ids", forgotten)

    reconcile_pushes_fn = once_per_tick("reconcile_pushes", 5, reconcile_pushes)
    roll_over_fn = once_per_tick("roll_over_memberships", 1, runner.roll_over)
    forget_tokens_fn = once_per_tick("forget_used_checkout_tokens", 24 * 60, forget_tokens_now)

    push_site_limits: Any = huey.task(name="push_site_limits")(push_site_limits_fn)
    push_default_limits: Any = huey.task(name="push_default_limits")(push_default_limits_fn)
    huey.periodic_task(crontab(minute=reconcile_every), name="reconcile_pushes")(
        reconcile_pushes_fn
    )
    roll_over_memberships: Any = huey.periodic_task(
        crontab(minute=roll_over_every), name="roll_over_memberships"
    )(roll_over_fn)
    # Daily, at a quiet minute: used token ids only need to outlive their token by a day.
    forget_tokens: Any = huey.periodic_task(
        crontab(minute="17", hour="3"), name="forget_used_checkout_tokens"
    )(forget_tokens_fn)

    queue.bind(
        push_site=push_site_limits, push_defaults=push_default_limits, push_later=push_site_later
    )
    return JobHandles(
        push_site=push_site_limits,
        push_defaults=push_default_limits,
        push_site_later=push_site_later,
        reconcile=reconcile_now,
        roll_over=roll_over_memberships,
        forget_tokens=forget_tokens,
    )
