"""Checkout pages for site owners: pick a plan and add-ons, see the amounts, confirm and pay.

`register(app)` adds the `checkout` blueprint under /checkout and an app-wide before_request
that reads the checkout session cookie, so that the JSON API can authorise the owner for their
own site (`g.checkout_site_id`, `g.checkout_user_id`).
"""

from __future__ import annotations

from flask import Flask

from bridge.api.checkout.pages import blueprint, load_session


def register(app: Flask) -> None:
    """Mount the checkout pages on `app`."""
    app.before_request(load_session)
    app.register_blueprint(blueprint)


__all__ = ["register"]
