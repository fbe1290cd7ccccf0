"""The operator's console at /admin: catalog versions, products, plan groups and the picture;
memberships, invoices (refunds to the card), receipts, notices (their switches), disputes,
sites and pushes, events, the audit log and a dashboard.

`register(app)` adds the `console` blueprint. Its session cookie is read by the console's own
pages only: the JSON API (/api/v1) never accepts it.
"""

from __future__ import annotations

from flask import Flask

from bridge.api.console import cards as cards  # registers its pages on the blueprint
from bridge.api.console import editors as editors  # registers its pages on the blueprint
from bridge.api.console import members as members  # registers its pages on the blueprint
from bridge.api.console import operations as operations  # registers its pages on the blueprint
from bridge.api.console import receipts as receipts  # registers its pages on the blueprint
from bridge.api.console.pages import blueprint


def register(app: Flask) -> None:
    """Mount the console on `app`."""
    app.register_blueprint(blueprint)


__all__ = ["register"]
