"""Checkout pages for site owners: pick a plan and add-ons, see the amounts, confirm and pay.

`register(app)` adds the `checkout` blueprint under /checkout. The session cookie is read by the
checkout's own pages only: the JSON API (/api/v1) is the operator's and never accepts it.
"""

from __future__ import annotations

from flask import Flask

from bridge.api.checkout.pages import blueprint
from bridge.api.checkout.pages.plumbing import unrouted_page


def register(app: Flask) -> None:
    """Mount the checkout pages on `app`."""
    app.register_blueprint(blueprint)
    # By status code, so Flask prefers these to the JSON API's handler of HTTPException.
    app.register_error_handler(404, unrouted_page)
    app.register_error_handler(405, unrouted_page)


__all__ = ["register"]
