"""Plan Bridge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from bridge.config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The only app factory: everything (engine, queue, facade, blueprints) is built here.

    `overrides` are the test seams of `bridge.app.build_app`: clock, rand, pusher, queue_backend.
    """
    # Imported here so that `import bridge.domain` stays free of Flask, SQLAlchemy and Huey.
    from bridge.app import build_app

    return build_app(settings, **overrides)
