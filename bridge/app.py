"""The Flask app on a bootstrapped runtime; called by `create_app`.

Kept apart from `bridge/__init__.py` so that importing `bridge.domain` (or any other subpackage)
does not import Flask, SQLAlchemy, Huey and prometheus_client along with it.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from bridge.api import health, webhooks
from bridge.api.state import KEY, AppState
from bridge.bootstrap import Runtime, bootstrap
from bridge.config import Settings, load_settings
from bridge.contract import derive_key, events_webhook
from bridge.services.ports import Clock, Pusher

__all__ = ["MAX_CONTENT_LENGTH", "build_app", "configure_logging", "runtime_of"]

log = logging.getLogger(__name__)

# Events and checkout forms are small; anything larger is a mistake or an attack (413).
MAX_CONTENT_LENGTH = 256 * 1024


def build_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    clock: Clock | None = None,
    rand: Callable[[], float] | None = None,
    pusher: Pusher | None = None,
    queue_backend: str | None = None,
) -> Flask:
    """The Flask app on `runtime` (bootstrapped from `settings` when not given)."""
    if settings is None:
        settings = runtime.settings if runtime is not None else load_settings()
    settings.require_secrets()  # the webhooks, pushes and checkout cannot work without them
    metrics = health.Metrics()
    if runtime is None:
        runtime = bootstrap(
            settings,
            clock=clock,
            rand=rand,
            pusher=pusher,
            queue_backend=queue_backend,
            on_push_outcome=metrics.count_push,
        )
    else:
        runtime.runner.on_outcome = metrics.count_push
    metrics.watch_queue(runtime.queue.depth)

    app = Flask("bridge")
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    # Flask's session key, derived like the other per-purpose keys (never the secret itself).
    app.config["SECRET_KEY"] = derive_key(settings.webhook_secret, "session").hex()
    app.extensions[KEY] = AppState(
        ctx=runtime.ctx,
        metrics=metrics,
        events_webhook=events_webhook(settings.webhook_secret),
        ping=runtime.ping,
        runtime=runtime,
    )

    _register_core_api(app)
    webhooks.register(app)
    health.register(app, metrics)
    _register_checkout(app)
    return app


def runtime_of(app: Flask) -> Runtime:
    """The runtime an app was built on."""
    state: AppState = app.extensions[KEY]
    return state.runtime


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
