"""The queue's tasks on Huey: push a site, push the defaults, fan out, reconcile, roll over,
purge tokens.

Each task only calls a use case (through `PushRunner` for pushes). A retry of a push is a new task
scheduled with `schedule(delay=...)`, carrying its attempt number; the delay is the runner's.

Why a push chain marks itself in the queue's key-value store: the periodic reconcile re-queues
every site that is behind, and without the mark it would start a second chain (attempt 1 again)
beside one that is waiting out its backoff, so a failing site would never reach its dead state.
The mark has a deadline so a chain lost with a killed worker stops counting after a while; the
reconcile run at worker start-up ignores marks, since that is exactly when chains get lost.

Once per tick across processes: every consumer's scheduler (each `bridge serve` with its worker
and each `bridge worker`) enqueues the periodic tasks at each of its periodic checks (every
`check_every_s`), so N processes queue many copies of a tick's roll-over. A job's tick is its
interval (`jobs.*_every_s` seconds, counted from the Unix epoch: a whole minute for the default
roll-over, five for the reconcile). `stamp_ticks` gives each copy its tick, and the first copy to claim `bridge:tick:<job>:<tick>` in the queue's key-value store
(Huey's `put_if_empty`: HSETNX on Redis, an INSERT on SQLite, atomic on both) runs it; the
others return at once. Huey's own `lock_task` uses the same primitive but releases the lock
when the run ends, so a copy that starts after the first one finished would run the tick again,
and a process killed while holding it would block the job until someone flushes the lock.

One fan-out at a time per network: the fan-out task holds `bridge:fanout` (a deadline, renewed
after every batch), so two fan-outs queued by different processes never add up past the rate cap;
the second waits for the first. A lease whose deadline passed (its worker was killed) is taken
over. While a fan-out holds it, the periodic reconcile leaves the sites to it. Sites a fan-out
could not bring up to date go to the single-push chain (`push_site_limits`, attempt 1); sites it
did not send because the network looked down are fanned out again after the retry delay.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, crontab

from bridge.adapters.queue import HueyLimitsQueue
from bridge.services.access import forget_used_tokens
from bridge.services.card_events import reconcile_cards
from bridge.services.fanout import FanoutRunner
from bridge.services.pushes import PushRunner

__all__ = [
    "JobHandles",
    "check_every_s",
    "fanout_lease",
    "register_jobs",
    "stamp_ticks",
    "tick_key",
]

log = logging.getLogger(__name__)

# How long a tick's claim is kept: copies of a tick queued behind later ticks still find it.
_CLAIMS_KEPT_S = 3600

# A chain's mark outlives its longest wait by this much (the push's own timeouts and queue lag).
_MARK_SLACK = timedelta(minutes=2)
# The fan-out lease: renewed after each batch; a waiting fan-out looks again after this long.
_FANOUT_KEY = "bridge:fanout"
_FANOUT_LEASE_MIN = timedelta(minutes=1)
_FANOUT_WAIT_S = 5.0


def fanout_lease(batch_size: int, max_docs_per_s: float, timeout_s: float) -> timedelta:
    """How long a fan-out holds the network without renewing: a minute, or longer when one
    batch may wait its turn under the cap and then its request's timeout for longer than that
    (three such batches), so a slow but live fan-out is never taken over."""
    turn_s = batch_size / max_docs_per_s if max_docs_per_s > 0 else 0.0
    return max(_FANOUT_LEASE_MIN, timedelta(seconds=3 * (turn_s + 2 * timeout_s)))


@dataclass
class JobHandles:
    push_site: Any
    push_defaults: Any
    push_fanout: Any
    push_site_later: Callable[[int, int, float], None]
    reconcile: Callable[[bool], int]
    roll_over: Any
    forget_tokens: Any
    check_every_s: int = 60  # how often a consumer's scheduler must look at the periodic tasks


def _mark_key(site_id: int) -> str:
    return f"bridge:push-chain:{site_id}"


def tick_key(job: str, tick: str) -> str:
    """The queue key whose first writer runs `job` for the scheduler's minute `tick`."""
    return f"bridge:tick:{job}:{tick}"


_EPOCH = dt.datetime(1970, 1, 1)  # Huey's timestamps are naive UTC


def _tick_of(timestamp: dt.datetime, every_s: int = 60) -> str:
    """The start of the interval of `every_s` seconds (from the epoch) holding `timestamp`."""
    seconds = int((timestamp.replace(tzinfo=None) - _EPOCH).total_seconds())
    start = _EPOCH + timedelta(seconds=seconds - seconds % every_s)
    return start.isoformat(timespec="minutes" if every_s % 60 == 0 else "seconds")


def check_every_s(*intervals_s: int) -> int:
    """How often a scheduler looks at the periodic tasks so that none misses its interval: the
    largest divisor of 60 that is at most the shortest interval (Huey's scheduler needs one)."""
    shortest = min((60, *intervals_s))
    return max(d for d in range(1, 61) if 60 % d == 0 and d <= shortest)


def stamp_ticks(huey: Huey, every_s: Mapping[str, int] | None = None) -> None:
    """Give every periodic task the scheduler enqueues a `tick` argument: its interval's start.

    `every_s` maps a task name to its interval (60 s when not named). Each process's scheduler
    checks the periodic tasks at its own moments, so the copies queued by every process for one
    interval carry the same tick.
    """
    read_periodic = huey.read_periodic
    intervals = dict(every_s or {})

    def stamped(timestamp: dt.datetime | None = None) -> list[Any]:
        if timestamp is None:
            timestamp = huey._get_timestamp()
        tasks: list[Any] = list(read_periodic(timestamp))
        for task in tasks:  # fresh instances on every read
            tick = _tick_of(timestamp, intervals.get(task.name, 60))
            task.kwargs = {**(task.kwargs or {}), "tick": tick}
        return tasks

    huey.read_periodic = stamped


def _every(seconds: int) -> Callable[[dt.datetime], bool]:
    """A periodic task's check: whole minutes as Huey's crontab; shorter intervals at every
    check of the scheduler (the tick claim lets one copy per interval run)."""
    if seconds % 60 == 0 and 60 % (seconds // 60) == 0:
        return crontab(minute=f"*/{seconds // 60}")  # type: ignore[no-any-return]
    if seconds % 60 == 0:  # e.g. 7 minutes: the minutes where an interval starts
        return lambda ts: int((ts - _EPOCH).total_seconds()) // 60 % (seconds // 60) == 0
    return lambda ts: True


def register_jobs(
    huey: Huey,
    runner: PushRunner,
    queue: HueyLimitsQueue,
    *,
    fanout: FanoutRunner | None = None,
    reconcile_every_s: int = 300,
    roll_over_every_s: int = 60,
) -> JobHandles:
    """Register the tasks on `huey` (names are stable: every process must agree on them)."""
    clock = runner.ctx.clock
    stamp_ticks(
        huey,
        {
            "reconcile_pushes": reconcile_every_s,
            "roll_over_memberships": roll_over_every_s,
        },
    )
    me = f"{os.uname().nodename}:{os.getpid()}"

    def once_per_tick(
        job: str, every_s: int, work: Callable[[], None], tick_s: int | None = None
    ) -> Callable[..., None]:
        """`work` for the scheduler's copies of a tick: only the copy that claims it runs.

        A call without a tick (an operator's or a test's direct call) always runs. The claim of
        an hour back (or three intervals, when longer) is deleted, so the keys stay few; a copy
        queued behind later ticks (several processes enqueue each tick, and workers take them
        in any order) still finds its tick's claim. Only a straggler over an hour late would
        run again: harmless, each job is idempotent.
        """

        def run(tick: str | None = None) -> None:
            if tick is not None:
                if not huey.put_if_empty(tick_key(job, tick), me):
                    log.debug("tick already taken", extra={"job": job, "tick": tick})
                    return
                keep_s = max(3 * every_s, _CLAIMS_KEPT_S)
                old = dt.datetime.fromisoformat(tick) - timedelta(seconds=keep_s)
                huey.delete(tick_key(job, _tick_of(old, tick_s or every_s)))
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

    def lease() -> timedelta:
        settings = runner.ctx.settings
        push = settings.push
        return fanout_lease(push.batch_size, push.max_docs_per_s, settings.wordpress.timeout_s)

    def take_fanout_lease() -> bool:
        deadline = (clock.now() + lease()).timestamp()
        if huey.put_if_empty(_FANOUT_KEY, deadline):
            return True
        held = huey.get(_FANOUT_KEY, peek=True)
        if held is not None and float(held) > clock.now().timestamp():
            return False
        huey.delete(_FANOUT_KEY)  # its fan-out was lost with a killed worker
        return bool(huey.put_if_empty(_FANOUT_KEY, deadline))

    def renew_fanout_lease() -> None:
        huey.put(_FANOUT_KEY, (clock.now() + lease()).timestamp())

    def fanout_running() -> bool:
        held = huey.get(_FANOUT_KEY, peek=True)
        return held is not None and float(held) > clock.now().timestamp()

    def fanout_runner() -> FanoutRunner:
        nonlocal fanout
        if fanout is None:  # built on first use: some callers register jobs without a pusher
            fanout = FanoutRunner(runner.ctx, runner.pusher, runner.on_outcome)
        return fanout

    def push_fanout_fn(site_ids: list[int], attempt: int = 1) -> None:
        if not take_fanout_lease():
            push_fanout.schedule(args=(site_ids, attempt), delay=_FANOUT_WAIT_S)
            return
        try:
            report = fanout_runner().run(site_ids, heartbeat=renew_fanout_lease)
        finally:
            huey.delete(_FANOUT_KEY)
        singles = list(report.failed)
        if report.left and attempt >= runner.policy.max_attempts:
            singles += report.left
        elif report.left:
            delay = runner.policy.delay_s(attempt, runner.rand)
            log.warning("fan-out stopped: %d sites again in %.1f s", len(report.left), delay)
            push_fanout.schedule(args=(list(report.left), attempt + 1), delay=delay)
        for site_id in singles:
            mark(site_id, 0)
            push_site_limits(site_id)

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
        if not force and fanout_running():
            return 0  # the running fan-out brings its sites up; the next pass sees the rest
        due = [s for s in runner.behind() if force or not marked(s)]
        queued = len(due)
        if due and queued >= runner.ctx.settings.push.fanout_from:
            push_fanout(due)
        else:
            for site_id in due:
                mark(site_id, 0)
                push_site_limits(site_id)
        if queued:
            log.info("reconcile queued %d pushes", queued)
        return queued

    def reconcile_pushes() -> None:
        reconcile_now(force=False)
        # With the push reconcile: a lost Stripe webhook never leaves a paid invoice unapplied.
        settled = reconcile_cards(runner.ctx)
        if settled:
            log.info("card reconcile settled %d invoices", settled)

    def forget_tokens_now() -> None:
        forgotten = forget_used_tokens(runner.ctx)
        if forgotten:
            log.info("forgot %d used checkout token ids", forgotten)

    reconcile_pushes_fn = once_per_tick("reconcile_pushes", reconcile_every_s, reconcile_pushes)
    roll_over_fn = once_per_tick("roll_over_memberships", roll_over_every_s, runner.roll_over)
    forget_tokens_fn = once_per_tick(
        "forget_used_checkout_tokens", 24 * 3600, forget_tokens_now, tick_s=60
    )

    push_site_limits: Any = huey.task(name="push_site_limits")(push_site_limits_fn)
    push_default_limits: Any = huey.task(name="push_default_limits")(push_default_limits_fn)
    push_fanout: Any = huey.task(name="push_fanout")(push_fanout_fn)
    huey.periodic_task(_every(reconcile_every_s), name="reconcile_pushes")(reconcile_pushes_fn)
    roll_over_memberships: Any = huey.periodic_task(
        _every(roll_over_every_s), name="roll_over_memberships"
    )(roll_over_fn)
    # Daily, at a quiet minute: used token ids only need to outlive their token by a day.
    forget_tokens: Any = huey.periodic_task(
        crontab(minute="17", hour="3"), name="forget_used_checkout_tokens"
    )(forget_tokens_fn)

    queue.bind(
        push_site=push_site_limits,
        push_defaults=push_default_limits,
        push_fanout=push_fanout,
        push_later=push_site_later,
    )
    return JobHandles(
        push_site=push_site_limits,
        push_defaults=push_default_limits,
        push_fanout=push_fanout,
        push_site_later=push_site_later,
        reconcile=reconcile_now,
        roll_over=roll_over_memberships,
        forget_tokens=forget_tokens,
        check_every_s=check_every_s(reconcile_every_s, roll_over_every_s),
    )
