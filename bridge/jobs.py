"""Background jobs: push limits to WordPress, retry with backoff, reconcile, roll over.

`PushRunner` holds the rules and talks to the facade and a pusher; it knows nothing of Huey, so
its decisions (push or skip, retry when, dead after how many) are tested without a queue.
`register_jobs` turns it into Huey tasks; the retry of a push is a new task scheduled with
`schedule(delay=...)`, carrying its attempt number.

Why a push chain marks itself in the queue's key-value store: the periodic reconcile re-queues
every site that is behind, and without the mark it would start a second chain (attempt 1 again)
beside one that is waiting out its backoff, so a failing site would never reach its dead state.
The mark has a deadline so a chain lost with a killed worker stops counting after a while; the
reconcile run at worker start-up ignores marks, since that is exactly when chains get lost.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from huey import Huey, crontab

from bridge.adapters.queue import HueyLimitsQueue
from bridge.adapters.wordpress import LimitsPusher, PushRejected, WordPressUnavailable
from bridge.errors import NotFound

__all__ = [
    "Attempt",
    "Outcome",
    "PushRunner",
    "RetryPolicy",
    "backoff_delay_s",
    "register_jobs",
]

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...


class PushFacade(Protocol):
    """What the jobs need of `bridge.services.bridge.Bridge`."""

    def limits_document(self, site_id: int) -> tuple[str, int, dict[str, Any]]: ...

    def applied_version(self, site_id: int) -> int | None: ...

    def record_push_result(
        self,
        site_id: int,
        version: int,
        applied_version: int | None = None,
        error: str | None = None,
        dead: bool = False,
    ) -> Any: ...

    def sites_behind(self) -> list[int]: ...

    def default_limits_document(self) -> tuple[int, dict[str, Any]]: ...

    def roll_over(self, at: datetime | None = None) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 2.0
    max_delay_s: float = 300.0


def backoff_delay_s(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Delay before attempt `attempt + 1`: full jitter, uniform in [0, min(cap, base·2^(n-1)))."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (attempt - 1))
    return ceiling * rand()


class Outcome(enum.StrEnum):
    APPLIED = "ok"
    UP_TO_DATE = "up_to_date"
    RETRY = "failed"
    REJECTED = "rejected"
    DEAD = "dead"
    GONE = "gone"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    version: int | None = None
    retry_in_s: float | None = None
    error: str | None = None


class PushRunner:
    """Push one site's current limits document and decide what happens next."""

    def __init__(
        self,
        facade: PushFacade,
        pusher: LimitsPusher,
        clock: Clock,
        network_url: str,
        policy: RetryPolicy,
        rand: Callable[[], float] | None = None,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.facade = facade
        self.pusher = pusher
        self.clock = clock
        self.network_url = network_url
        self.policy = policy
        self.rand = rand if rand is not None else random.SystemRandom().random
        self.on_outcome = on_outcome

    def push_site(self, site_id: int, attempt: int = 1) -> Attempt:
        """Push the site's desired document unless it is already applied; say what comes next."""
        try:
            site_url, version, document = self.facade.limits_document(site_id)
        except NotFound:
            log.info("push skipped: the site is gone", extra={"site_id": site_id})
            return self._done(Attempt(Outcome.GONE))
        applied = self.facade.applied_version(site_id)
        if applied is not None and applied >= version:
            return self._done(Attempt(Outcome.UP_TO_DATE, version))
        msg_id = f"limits-{site_id}-v{version}"
        try:
            result = self.pusher.push_site(site_url, document, self.clock.now(), msg_id)
        except WordPressUnavailable as exc:
            return self._failed(site_id, version, attempt, str(exc))
        except PushRejected as exc:
            self.facade.record_push_result(site_id, version, error=str(exc))
            log.warning(
                "push rejected", extra={"site_id": site_id, "version": version, "error": str(exc)}
            )
            return self._done(Attempt(Outcome.REJECTED, version, error=str(exc)))
        self.facade.record_push_result(site_id, version, applied_version=result.applied_version)
        log.info(
            "push applied",
            extra={"site_id": site_id, "version": version, "applied": result.applied_version},
        )
        return self._done(Attempt(Outcome.APPLIED, version))

    def _failed(self, site_id: int, version: int, attempt: int, error: str) -> Attempt:
        if attempt >= self.policy.max_attempts:
            self.facade.record_push_result(site_id, version, error=error, dead=True)
            log.error(
                "push dead after %d attempts",
                attempt,
                extra={"site_id": site_id, "version": version, "error": error},
            )
            return self._done(Attempt(Outcome.DEAD, version, error=error))
        delay = backoff_delay_s(attempt, self.policy, self.rand)
        self.facade.record_push_result(site_id, version, error=error)
        log.warning(
            "push failed, retry in %.1f s",
            delay,
            extra={"site_id": site_id, "version": version, "attempt": attempt, "error": error},
        )
        return self._done(Attempt(Outcome.RETRY, version, retry_in_s=delay, error=error))

    def push_defaults(self, attempt: int = 1) -> Attempt:
        """Push the network's default limits; retried like a site's push, never marked dead."""
        version, document = self.facade.default_limits_document()
        try:
            self.pusher.push_defaults(
                self.network_url, document, self.clock.now(), f"default-limits-v{version}"
            )
        except WordPressUnavailable as exc:
            if attempt >= self.policy.max_attempts:
                log.error("default limits push gave up", extra={"error": str(exc)})
                return self._done(Attempt(Outcome.DEAD, version, error=str(exc)))
            delay = backoff_delay_s(attempt, self.policy, self.rand)
            return self._done(Attempt(Outcome.RETRY, version, retry_in_s=delay, error=str(exc)))
        except PushRejected as exc:
            log.warning("default limits push rejected", extra={"error": str(exc)})
            return self._done(Attempt(Outcome.REJECTED, version, error=str(exc)))
        return self._done(Attempt(Outcome.APPLIED, version))

    def _done(self, attempt: Attempt) -> Attempt:
        if self.on_outcome is not None and attempt.outcome not in (Outcome.GONE,):
            self.on_outcome(attempt.outcome.value)
        return attempt

    def behind(self) -> list[int]:
        """Site ids whose applied version is behind the desired one and not dead."""
        return list(self.facade.sites_behind())

    def roll_over(self) -> None:
        self.facade.roll_over(self.clock.now())


@dataclass
class JobHandles:
    push_site: Any
    push_defaults: Any
    reconcile: Callable[[bool], int]
    roll_over: Any


# A chain's mark outlives its longest wait by this much (the push's own timeouts and queue lag).
_MARK_SLACK = timedelta(minutes=2)


def _mark_key(site_id: int) -> str:
    return f"bridge:push-chain:{site_id}"


def register_jobs(
    huey: Huey,
    runner: PushRunner,
    queue: HueyLimitsQueue,
    *,
    reconcile_every: str = "*/5",
    roll_over_every: str = "*",
) -> JobHandles:
    """Register the tasks on `huey` (names are stable: every process must agree on them)."""

    def mark(site_id: int, wait_s: float) -> None:
        deadline = runner.clock.now() + timedelta(seconds=wait_s) + _MARK_SLACK
        huey.put(_mark_key(site_id), deadline.timestamp())

    def marked(site_id: int) -> bool:
        deadline = huey.get(_mark_key(site_id), peek=True)
        return deadline is not None and float(deadline) > runner.clock.now().timestamp()

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

    def reconcile_pushes_fn() -> None:
        reconcile_now(force=False)

    def roll_over_fn() -> None:
        runner.roll_over()

    push_site_limits: Any = huey.task(name="push_site_limits")(push_site_limits_fn)
    push_default_limits: Any = huey.task(name="push_default_limits")(push_default_limits_fn)
    huey.periodic_task(crontab(minute=reconcile_every), name="reconcile_pushes")(
        reconcile_pushes_fn
    )
    roll_over_memberships: Any = huey.periodic_task(
        crontab(minute=roll_over_every), name="roll_over_memberships"
    )(roll_over_fn)

    queue.bind(push_site=push_site_limits, push_defaults=push_default_limits)
    return JobHandles(
        push_site=push_site_limits,
        push_defaults=push_default_limits,
        reconcile=reconcile_now,
        roll_over=roll_over_memberships,
    )
