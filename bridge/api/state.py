"""The one thing the app factory leaves in `app.extensions["bridge"]`: what requests need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from standardwebhooks import Webhook

from bridge.services.context import Context

if TYPE_CHECKING:
    from bridge.api.checkout.facade import CheckoutCore
    from bridge.api.health import Metrics
    from bridge.bootstrap import Runtime

KEY = "bridge"


@dataclass(frozen=True)
class AppState:
    ctx: Context
    metrics: Metrics
    events_webhooks: tuple[Webhook, ...]  # the current secret's verifier, then the previous
    ping: Callable[[], None]
    runtime: Runtime  # for the CLI and tests (the queue, the engine); requests use `ctx`
    checkout_core: CheckoutCore | None = None  # None: the use cases (a page test's stand-in)


def state() -> AppState:
    """The app's state (inside a request or app context)."""
    found: AppState = current_app.extensions[KEY]
    return found


def ctx() -> Context:
    """The use cases' context of the current app."""
    return state().ctx
