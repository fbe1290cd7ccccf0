"""Checkout pages for site owners: pick a plan and add-ons, see the amounts, confirm and pay.

`register(app)` adds the `checkout` blueprint under /checkout. The session cookie is read by the
checkout's own pages only: the JSON API (/api/v1) is the operator's and never accepts it.
"""

from __future__ import annotations

from flask import Flask

from bridge.api.checkout.pages import blueprint


def register(app: Flask) -> None:
    """Mount the checkout pages on `app`."""
    app.register_blueprint(blueprint)


__all__ = ["register"]
