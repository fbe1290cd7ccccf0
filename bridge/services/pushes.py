"""Pushing limits documents: one push and what comes next, under one retry policy.

`PushRunner` holds the rules (push or skip, retry when, dead after how many) and talks to the
use cases and a pusher; it knows nothing of the queue, so its decisions are tested without one.
The delay it decides is the one recorded as the document's `next_attempt_at` and the one the queue
waits: a single formula, `RetryPolicy.delay_s` (capped exponential backoff with full jitter).
Only errors the pusher marks retryable (`WordPressUnavailable`: timeouts, 5xx, 429) are retried.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.errors import NotFound, PushRejected, WordPressUnavailable
from bridge.services.context import Context
from bridge.services.limits import default_limits_document, limits_document
from bridge.services.notices import notice_sent, notices_failed, unsent_notices
from bridge.services.ports import Pusher
from bridge.services.renewals import roll_over
from bridge.services.views import LimitsStateView, limits_state_view

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 2.0
    max_delay_s: float = 300.0
    dead_retry_s: float = 900.0
    dead_retry_max_s: float = 21600.0

    def dead_delay_s(self, failures: int) -> float:
        """After a chain dies: the reconcile tries again after dead_retry_s, doubled for each
        further dead chain (`failures` counts every failed attempt since the last success)."""
        rounds = max(1, failures // max(1, self.max_attempts))
        return float(min(self.dead_retry_max_s, self.dead_retry_s * 2.0 ** min(rounds - 1, 30)))

    def delay_s(self, attempt: int, rand: Callable[[], float]) -> float:
        """Delay before attempt `attempt + 1`: uniform in [0, min(cap, base·2^(n−1)))."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
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


def applied_version(ctx: Context, site_id: int) -> int | None:
    with ctx.uow() as uow:
        state = uow.limits.get(site_id)
        return None if state is None else state.applied_version


def record_push_result(
    ctx: Context,
    site_id: int,
    version: int,
    applied: int | None = None,
    error: str | None = None,
    dead: bool = False,
    retry_at: datetime | None = None,
) -> LimitsStateView:
    """Remember what a push did: the acknowledged version, or the error and when it is retried."""
    now = ctx.now()
    with ctx.uow() as uow:
        if applied is not None:
            state = uow.limits.acknowledge(site_id, applied, now)
        else:
            state = uow.limits.record_failure(
                site_id, version, error or "unknown error", dead, retry_at, now
            )
        uow.commit()
    return limits_state_view(state)


def sites_behind(ctx: Context, include_dead: bool = False) -> list[int]:
    """Sites whose applied version is behind the desired one (the reconcile pass): not the dead
    ones, unless `include_dead` or their slow retry (`push.dead_retry_s`) is due."""
    with ctx.uow() as uow:
        if include_dead:
            behind = uow.limits.behind(True)
        else:
            behind = uow.limits.behind(False, dead_due_at=ctx.now())
        # Sites with notices not yet taken by the plugin are pushed again too.
        return sorted(set(behind) | set(uow.notices.sites_with_unsent(include_dead)))


def failures_so_far(ctx: Context, site_id: int) -> int:
    with ctx.uow() as uow:
        state = uow.limits.get(site_id)
        return 0 if state is None else state.attempts


class PushRunner:
    """Push one site's current limits document and decide what happens next."""

    def __init__(
        self,
        ctx: Context,
        pusher: Pusher,
        policy: RetryPolicy,
        rand: Callable[[], float] | None = None,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.pusher = pusher
        self.policy = policy
        self.rand = rand if rand is not None else random.SystemRandom().random
        self.on_outcome = on_outcome

    @property
    def clock(self) -> object:
        return self.ctx.clock

    def push_site(self, site_id: int, attempt: int = 1) -> Attempt:
        """Push the site's desired document unless it is already applied; say what comes next."""
        try:
            _site_url, version, document = limits_document(self.ctx, site_id)
        except NotFound:
            log.info("push skipped: the site is gone", extra={"site_id": site_id})
            return self._done(Attempt(Outcome.GONE))
        applied = applied_version(self.ctx, site_id)
        if applied is not None and applied >= version:
            return self._done(
                self._push_notices(site_id, attempt, Attempt(Outcome.UP_TO_DATE, version))
            )
        msg_id = f"limits-{site_id}-v{version}"
        try:
            # Always the network's configured URL: a site's URL is data from events, never a
            # target (it could point anywhere); the plugin applies the document to `site_id`.
            result = self.pusher.push_site(
                self.ctx.settings.wordpress.url, document, self.ctx.clock.now(), msg_id
            )
        except WordPressUnavailable as exc:
            return self._failed(site_id, version, attempt, str(exc))
        except PushRejected as exc:
            record_push_result(self.ctx, site_id, version, error=str(exc))
            log.warning(
                "push rejected", extra={"site_id": site_id, "version": version, "error": str(exc)}
            )
            return self._done(Attempt(Outcome.REJECTED, version, error=str(exc)))
        record_push_result(self.ctx, site_id, version, applied=result.applied_version)
        log.debug(
            "push applied",
            extra={"site_id": site_id, "version": version, "applied": result.applied_version},
        )
        return self._done(self._push_notices(site_id, attempt, Attempt(Outcome.APPLIED, version)))

    def _push_notices(self, site_id: int, attempt: int, done: Attempt) -> Attempt:
        """After the site's limits document: its unsent notices, oldest first, each under its
        own id (the plugin mails one id once). A retryable failure makes the chain retry (the
        limits are then up to date, so only the notices go again); after the last attempt the
        notices are dead until the reconcile's slow retry or the operator's repush."""
        notices = unsent_notices(self.ctx, site_id, include_dead=True)
        for n, notice in enumerate(notices):
            try:
                self.pusher.push_notice(
                    self.ctx.settings.wordpress.url,
                    dict(notice.document),
                    self.ctx.clock.now(),
                    notice.id,
                )
            except WordPressUnavailable as exc:
                left = [x.id for x in notices[n:]]
                dead = attempt >= self.policy.max_attempts
                notices_failed(self.ctx, left, str(exc), dead)
                log.warning("notice push failed", extra={"site_id": site_id, "error": str(exc)})
                if dead:
                    return Attempt(Outcome.DEAD, done.version, error=str(exc))
                delay = self.policy.delay_s(attempt, self.rand)
                return Attempt(Outcome.RETRY, done.version, retry_in_s=delay, error=str(exc))
            except PushRejected as exc:
                notices_failed(self.ctx, [notice.id], str(exc), True)
                log.warning("notice push rejected", extra={"notice": notice.id, "error": str(exc)})
                continue
            notice_sent(self.ctx, notice.id)
        return done

    def _failed(self, site_id: int, version: int, attempt: int, error: str) -> Attempt:
        if attempt >= self.policy.max_attempts:
            delay = self.policy.dead_delay_s(failures_so_far(self.ctx, site_id) + 1)
            retry_at = self.ctx.now() + timedelta(seconds=delay)
            record_push_result(
                self.ctx, site_id, version, error=error, dead=True, retry_at=retry_at
            )
            log.error(
                "push dead after %d attempts",
                attempt,
                extra={"site_id": site_id, "version": version, "error": error},
            )
            return self._done(Attempt(Outcome.DEAD, version, error=error))
        delay = self.policy.delay_s(attempt, self.rand)
        retry_at = self.ctx.now() + timedelta(seconds=delay)
        record_push_result(self.ctx, site_id, version, error=error, retry_at=retry_at)
        log.warning(
            "push failed, retry in %.1f s",
            delay,
            extra={"site_id": site_id, "version": version, "attempt": attempt, "error": error},
        )
        return self._done(Attempt(Outcome.RETRY, version, retry_in_s=delay, error=error))

    def push_defaults(self, attempt: int = 1) -> Attempt:
        """Push the network's default limits; retried like a site's push, never marked dead."""
        version, document = default_limits_document(self.ctx)
        try:
            self.pusher.push_defaults(
                self.ctx.settings.wordpress.url,
                document,
                self.ctx.clock.now(),
                f"default-limits-v{version}",
            )
        except WordPressUnavailable as exc:
            if attempt >= self.policy.max_attempts:
                log.error("default limits push gave up", extra={"error": str(exc)})
                return self._done(Attempt(Outcome.DEAD, version, error=str(exc)))
            delay = self.policy.delay_s(attempt, self.rand)
            return self._done(Attempt(Outcome.RETRY, version, retry_in_s=delay, error=str(exc)))
        except PushRejected as exc:
            log.warning("default limits push rejected", extra={"error": str(exc)})
            return self._done(Attempt(Outcome.REJECTED, version, error=str(exc)))
        return self._done(Attempt(Outcome.APPLIED, version))

    def _done(self, attempt: Attempt) -> Attempt:
        if self.on_outcome is not None and attempt.outcome is not Outcome.GONE:
            self.on_outcome(attempt.outcome.value)
        return attempt

    def behind(self) -> list[int]:
        """Site ids whose applied version is behind the desired one: not dead, or dead with
        their slow retry due."""
        return sites_behind(self.ctx)

    def roll_over(self) -> None:
        roll_over(self.ctx, self.ctx.clock.now())
