"""The Flask app on a bootstrapped runtime; called by `create_app`.

Kept apart from `bridge/__init__.py` so that importing `bridge.domain` (or any other subpackage)
does not import Flask, SQLAlchemy, Huey and prometheus_client along with it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from flask import Flask

from bridge.api import health, home, webhooks
from bridge.api.state import KEY, AppState
from bridge.bootstrap import Runtime, bootstrap
from bridge.config import Settings, load_settings
from bridge.contract import derive_key, events_webhook
from bridge.services import backoffice
from bridge.services.ports import Clock, Pusher

__all__ = ["MAX_CONTENT_LENGTH", "build_app", "runtime_of"]

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
    metrics.watch_alerts(lambda: backoffice.alert_counts(runtime.ctx))

    app = Flask("bridge")
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    # Flask's session key, derived like the other per-purpose keys (never the secret itself).
    app.config["SECRET_KEY"] = derive_key(settings.webhook_secret, "session").hex()
    app.extensions[KEY] = AppState(
        ctx=runtime.ctx,
        metrics=metrics,
        events_webhooks=tuple(events_webhook(s) for s in settings.webhook_secrets),
        ping=runtime.ping,
        runtime=runtime,
    )

    _register_core_api(app)
    webhooks.register(app)
    health.register(app, metrics)
    home.register(app)
    _register_checkout(app)
    from bridge.api import console

    console.register(app)
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
