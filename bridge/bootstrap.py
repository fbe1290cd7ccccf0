"""The one bootstrap: settings → engine, unit of work, queue, pusher, clock, use-case context.

The Flask factory (`bridge.app.build_app`), the worker and the CLI all start here, so every
process of a deployment is wired the same way. Nothing is built at import time and no Flask is
involved: the worker and `bridge repush` need the queue, not a web app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bridge.adapters.live import LivePushes
from bridge.adapters.queue import HueyLimitsQueue, make_consumer, make_huey
from bridge.adapters.storage import make_engine, make_session_factory
from bridge.adapters.storage.catalogs import SqlCatalogReader
from bridge.adapters.storage.group_commit import make_committer
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.adapters.tasks import JobHandles, register_jobs
from bridge.adapters.wordpress import make_pusher
from bridge.config import Settings
from bridge.config_sections import QueueSettings
from bridge.services.card_ports import CardGateway
from bridge.services.catalog_source import CatalogSource
from bridge.services.context import Context
from bridge.services.fanout import FanoutRunner
from bridge.services.ports import Clock, Pusher, SystemClock
from bridge.services.pushes import PushRunner, RetryPolicy

__all__ = ["Runtime", "bootstrap"]


@dataclass
class Runtime:
    """Everything a process of the bridge runs on; `app.extensions["bridge"]` holds one."""

    settings: Settings
    ctx: Context
    engine: Engine
    sessions: sessionmaker[Session]
    queue: HueyLimitsQueue
    jobs: JobHandles
    runner: PushRunner
    reader: Engine | None = None  # the catalog source's read-only engine
    live: LivePushes | None = None  # the commits' pushes (started by `bridge serve`)

    def ping(self) -> None:
        """Raise if the database does not answer (for /healthz)."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def consumer(self, **options: Any) -> Any:
        """A queue consumer (Huey's) whose scheduler checks the periodic jobs often enough."""
        return make_consumer(self.queue.huey, self.jobs.check_every_s, **options)

    def close(self) -> None:
        self.engine.dispose()
        if self.reader is not None:
            self.reader.dispose()


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rand: Callable[[], float] | None = None,
    pusher: Pusher | None = None,
    queue_backend: str | None = None,
    on_push_outcome: Callable[[str], None] | None = None,
    cards: CardGateway | None = None,
) -> Runtime:
    """Build a runtime from `settings`; the keyword arguments are the tests' seams."""
    clock = clock if clock is not None else SystemClock()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    huey = make_huey(
        queue_backend or settings.queue.backend,
        path=queue_path(settings),
        redis_url=settings.queue.redis_url or None,
    )
    queue = HueyLimitsQueue(huey)
    # Commits hand their pushes to `live`: to the queue, or, once `bridge serve` starts it,
    # pushed at once on a thread with a delayed copy in the queue (adapters/live.py).
    live = LivePushes(queue)
    uow = unit_of_work_factory(engine, live)
    # SQLite has one writer: concurrent webhooks share transactions (group_commit.py).
    committer = make_committer(engine, uow)
    reader = make_engine(settings.database_url, reader=True)
    source = CatalogSource(SqlCatalogReader(reader), settings.catalog)
    if cards is None and settings.gateway == "stripe":
        from bridge.adapters.stripe_gateway import StripeCardGateway  # only with gateway stripe

        cards = StripeCardGateway(
            settings.stripe_secret_key, settings.stripe_webhook_secret, settings.stripe.api_base
        )
    ctx = Context(settings, uow, clock, queue, source, cards, committer)
    if pusher is None:
        pusher = make_pusher(
            settings.wordpress.transport, settings.webhook_secret, settings.wordpress.timeout_s
        )
    runner = PushRunner(
        ctx,
        pusher,
        RetryPolicy(
            max_attempts=settings.push.max_attempts,
            base_delay_s=settings.push.base_delay_s,
            max_delay_s=settings.push.max_delay_s,
            dead_retry_s=settings.push.dead_retry_s,
            dead_retry_max_s=settings.push.dead_retry_max_s,
        ),
        rand=rand,
        on_outcome=on_push_outcome,
    )
    fanout = FanoutRunner(ctx, pusher, on_push_outcome)
    jobs = register_jobs(
        huey,
        runner,
        queue,
        fanout=fanout,
        reconcile_every_s=settings.jobs.reconcile_every_s,
        roll_over_every_s=settings.jobs.roll_over_every_s,
    )
    return Runtime(settings, ctx, engine, sessions, queue, jobs, runner, reader, live)


def queue_path(settings: Settings) -> str:
    """The SQLite queue file: as configured, except that the untouched default sits beside an
    SQLite database. Two bridges with different databases (a dev server and a test run in the
    same checkout) must never share a queue: one would push the other's sites."""
    url = make_url(settings.database_url)
    is_default = settings.queue.path == QueueSettings().path
    if (
        is_default
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
    ):
        database = Path(str(url.database))
        return str(database.with_name(database.stem + "-queue.db"))
    return settings.queue.path
