"""Checkout access: a token id is accepted once; used ids are forgotten a day after expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from huey import MemoryHuey

from bridge.adapters.queue import HueyLimitsQueue
from bridge.adapters.tasks import register_jobs
from bridge.services import access
from bridge.services.context import Context
from bridge.services.pushes import PushRunner, RetryPolicy
from tests.services.fakes import FakeClock


def _exp(at: datetime) -> int:
    return int(at.timestamp())


def test_a_checkout_token_is_accepted_once(ctx: Context, clock: FakeClock) -> None:
    exp = _exp(clock.now() + timedelta(minutes=5))
    assert access.use_checkout_token(ctx, "jti-1", exp) is True
    assert access.use_checkout_token(ctx, "jti-1", exp) is False


def test_used_token_ids_are_forgotten_a_day_after_their_token_expired(
    ctx: Context, clock: FakeClock
) -> None:
    access.use_checkout_token(ctx, "old", _exp(clock.now() - timedelta(days=2)))
    access.use_checkout_token(ctx, "recent", _exp(clock.now() - timedelta(hours=1)))
    assert access.forget_used_tokens(ctx) == 1
    assert access.use_checkout_token(ctx, "recent", _exp(clock.now())) is False
    assert access.use_checkout_token(ctx, "old", _exp(clock.now())) is True


def test_the_token_purge_is_a_daily_periodic_job(ctx: Context, clock: FakeClock) -> None:
    huey = MemoryHuey("purge-test", immediate=True, results=False)
    runner = PushRunner(ctx, pusher=None, policy=RetryPolicy())  # type: ignore[arg-type]
    jobs = register_jobs(huey, runner, HueyLimitsQueue(huey))
    periodic = {task.name: task for task in huey._registry.periodic_tasks}
    assert "forget_used_checkout_tokens" in periodic
    at_three = datetime(2026, 4, 2, 3, 17, tzinfo=UTC).replace(tzinfo=None)
    assert periodic["forget_used_checkout_tokens"].validate_datetime(at_three)
    assert not periodic["forget_used_checkout_tokens"].validate_datetime(
        at_three + timedelta(hours=1)
    )
    access.use_checkout_token(ctx, "old", _exp(clock.now() - timedelta(days=2)))
    jobs.forget_tokens()
    assert access.use_checkout_token(ctx, "old", _exp(clock.now())) is True
