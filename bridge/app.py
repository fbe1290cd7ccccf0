"""Wiring: settings → engine, clock, queue, facade, jobs, blueprints. Called by `create_app`.

Kept apart from `bridge/__init__.py` so that importing `bridge.domain` (or any other subpackage)
does not import Flask, SQLAlchemy, Huey and prometheus_client along with it.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bridge.adapters.queue import HueyLimitsQueue, make_huey
from bridge.adapters.storage import make_engine, make_session_factory
from bridge.adapters.wordpress import LimitsPusher, make_pusher
from bridge.api import health, webhooks
from bridge.config import QueueSettings, Settings, load_settings
from bridge.contract import derive_key
from bridge.jobs import JobHandles, PushRunner, RetryPolicy, register_jobs
from bridge.services.bridge import Bridge
from bridge.services.ports import SystemClock

__all__ = ["MAX_CONTENT_LENGTH", "build_app", "configure_logging"]

log = logging.getLogger(__name__)

# Events and checkout forms are small; anything larger is a mistake or an attack (413).
MAX_CONTENT_LENGTH = 256 * 1024


@dataclass
class Runtime:
    """What the CLI needs besides the Flask app: the queue, the jobs and the engine."""

    settings: Settings
    facade: Bridge
    engine: Engine
    sessions: sessionmaker[Session]
    queue: HueyLimitsQueue
    jobs: JobHandles
    runner: PushRunner


def build_app(
    settings: Settings | None = None,
    *,
    clock: Any = None,
    rand: Callable[[], float] | None = None,
    pusher: LimitsPusher | None = None,
    queue_backend: str | None = None,
) -> Flask:
    """The Flask app with everything built from `settings` (loaded from the environment if None)."""
    if settings is None:
        settings = load_settings()
    settings.require_secrets()  # the webhooks, pushes and checkout cannot work without them
    # The real clock (aware UTC) unless a test passes its own.
    clock = clock if clock is not None else SystemClock()

    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)

    backend = queue_backend or settings.queue.backend
    huey = make_huey(
        backend, path=_queue_path(settings), redis_url=settings.queue.redis_url or None
    )
    queue = HueyLimitsQueue(huey)
    facade = Bridge(settings, session_factory, clock, queue)

    metrics = health.Metrics()
    if pusher is None:
        pusher = make_pusher(
            settings.wordpress.transport, settings.webhook_secret, settings.wordpress.timeout_s
        )
    runner = PushRunner(
        facade,
        pusher,
        clock,
        network_url=settings.wordpress.url,
        policy=RetryPolicy(
            max_attempts=settings.push.max_attempts,
            base_delay_s=settings.push.base_delay_s,
            max_delay_s=settings.push.max_delay_s,
        ),
        rand=rand,
        on_outcome=metrics.count_push,
    )
    jobs = register_jobs(huey, runner, queue)
    metrics.watch_queue(queue.depth)

    app = Flask("bridge")
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    # Flask's session key, derived like the other per-purpose keys (never the secret itself).
    app.config["SECRET_KEY"] = derive_key(settings.webhook_secret, "session").hex()
    app.extensions["bridge"] = facade
    app.extensions["bridge.clock"] = clock
    app.extensions["bridge.settings"] = settings
    app.extensions["bridge.runtime"] = Runtime(
        settings, facade, engine, session_factory, queue, jobs, runner
    )

    _register_core_api(app)
    webhooks.register(app, settings.webhook_secret)
    health.register(app, metrics, db_check=lambda: _ping(engine))
    _register_checkout(app)
    return app


def _queue_path(settings: Settings) -> str:
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


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _register_core_api(app: Flask) -> None:
    """The JSON API and the one error handler (core's modules)."""
    from bridge.api import errors, v1

    errors.register(app)
    v1.register(app)


def _register_checkout(app: Flask) -> None:
    try:
        checkout = importlib.import_module("bridge.api.checkout")
    except ImportError:
        log.info("checkout pages not installed")
        return
    register = getattr(checkout, "register", None)
    if register is not None:
        register(app)


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Hand-written (15 lines) rather than a new dependency."""

    _skip = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """Replace the configured secrets wherever they would appear in a log line.

    Nothing should log them in the first place; this catches the mistake that slips through
    (an exception message quoting a URL with a token, a library's debug line).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "[redacted]")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """JSON lines on stderr, secrets redacted; called by the CLI, not by the app factory."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    secrets = [settings.admin_token, settings.webhook_secret]
    if settings.webhook_secret.startswith("whsec_"):
        secrets.append(settings.webhook_secret[len("whsec_") :])
    handler.addFilter(RedactSecrets(secrets))
    handler.set_name("bridge")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "bridge":  # ours from an earlier call; others are left alone
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Huey logs every task at INFO; keep its warnings and errors only.
    logging.getLogger("huey").setLevel(logging.WARNING)
