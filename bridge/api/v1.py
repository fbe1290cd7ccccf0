"""The JSON API, version 1 (documented in /openapi.json and the README).

Who may call what:
- the operator: `Authorization: Bearer $BRIDGE_ADMIN_TOKEN`, everything;
- a site owner: the checkout session (the checkout sets `g.checkout_site_id` and
  `g.checkout_user_id`) or `Authorization: Bearer <checkout token>` (the plugin's signed,
  short-lived token, bound to one site and one user); only their own site, and not the
  operator's calls (payments by hand, memberships, overrides, balance, refunds).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request

from bridge.api import openapi, routing
from bridge.api.inputs import (
    parse_balance_entry,
    parse_cancel_mode,
    parse_json,
    parse_membership,
    parse_overrides,
    parse_reference,
    parse_scope,
    parse_selection,
)
from bridge.api.state import state
from bridge.contract import read_checkout_token
from bridge.errors import Forbidden, InvalidRequest, InvalidToken, NotFound, Unauthorized
from bridge.services import limits, operator, payments, quotes, renewals, sites
from bridge.services.context import OPERATOR, Actor, Context, owner

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def ctx() -> Context:
    return state().ctx


def current_actor() -> Actor:
    """The caller: a checkout session, an admin token, or a checkout token; else 401."""
    site_id = getattr(g, "checkout_site_id", None)
    if site_id is not None:
        return owner(int(site_id), _int_or_none(getattr(g, "checkout_user_id", None)))
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Send Authorization: Bearer with the admin token or a checkout token.", "unauthorized"
        )
    settings = ctx().settings
    admin = settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return OPERATOR
    if "." in token and settings.webhook_secret:
        now_s = int(ctx().clock.now().timestamp())
        try:
            payload = read_checkout_token(settings.webhook_secret, token, now_s)
        except InvalidToken as exc:
            raise Unauthorized(f"The checkout token is not valid: {exc}.", "invalid_token") from exc
        return owner(int(payload["site_id"]), int(payload["user_id"]))
    raise Unauthorized("The token is not valid.", "invalid_token")


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def require_operator() -> Actor:
    actor = current_actor()
    if not actor.is_operator:
        raise Forbidden("Only the network operator may do this.", "operator_only")
    return actor


def require_site(site_id: int) -> Actor:
    """The operator, or the owner of this very site."""
    actor = current_actor()
    if not actor.is_operator and actor.site_id != site_id:
        raise Forbidden("You may only manage your own site.", "forbidden")
    return actor


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.", "invalid_json")
    return data


def _json(doc: Any, status: int = 200) -> Response:
    response = jsonify(doc)
    response.status_code = status
    return response


@blueprint.get("/sites/<bigid:site_id>")
def get_site(site_id: int) -> Response:
    require_site(site_id)
    return _json(sites.site_view(ctx(), site_id))


@blueprint.get("/sites/<bigid:site_id>/options")
def get_options(site_id: int) -> Response:
    require_site(site_id)
    product = request.args.get("product") or None
    plan = request.args.get("plan") or None
    return _json(sites.options(ctx(), site_id, product=product, plan=plan))


@blueprint.post("/sites/<bigid:site_id>/quotes")
def post_quote(site_id: int) -> Response:
    actor = require_site(site_id)
    return _json(quotes.create_quote(ctx(), site_id, parse_selection(_body()), actor), 201)


@blueprint.post("/quotes/<key:quote_id>/commit")
def post_commit(quote_id: str) -> Response:
    actor = current_actor()
    restrict = None if actor.is_operator else actor.site_id
    return _json(quotes.commit_quote(ctx(), quote_id, actor, site_id=restrict))


@blueprint.get("/invoices/<key:invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    actor = current_actor()
    if not actor.is_operator and sites.site_of_invoice(ctx(), invoice_id) != actor.site_id:
        raise NotFound("There is no such invoice.", "invoice_not_found")
    return _json(payments.invoice(ctx(), invoice_id))


@blueprint.post("/invoices/<key:invoice_id>/pay")
def post_pay(invoice_id: str) -> Response:
    actor = require_operator()
    reference = parse_reference(_body().get("reference"))
    return _json(payments.pay_invoice(ctx(), invoice_id, reference or "manual", actor))


@blueprint.delete("/sites/<bigid:site_id>/scheduled-change")
def delete_scheduled_change(site_id: int) -> Response:
    actor = require_site(site_id)
    return _json(quotes.cancel_scheduled_change(ctx(), site_id, actor))


@blueprint.put("/sites/<bigid:site_id>/membership")
def put_membership(site_id: int) -> Response:
    actor = require_operator()
    doc = parse_membership(_body(), ctx().catalog.currency)
    return _json(operator.put_membership(ctx(), site_id, doc, actor))


@blueprint.put("/sites/<bigid:site_id>/overrides")
def put_overrides(site_id: int) -> Response:
    actor = require_operator()
    body = _body()
    scope = parse_scope(request.args.get("scope") or body.get("scope") or "membership")
    limits = parse_overrides(body.get("limits", {k: v for k, v in body.items() if k != "scope"}))
    return _json(operator.put_overrides(ctx(), site_id, limits, actor, scope=scope))


@blueprint.post("/sites/<bigid:site_id>/cancellation")
def post_cancellation(site_id: int) -> Response:
    actor = require_site(site_id)
    mode = _body().get("mode", "end_of_term")
    if mode == "immediate" and not actor.is_operator:
        raise Forbidden("Only the operator cancels immediately.", "operator_only")
    return _json(operator.cancel_membership(ctx(), site_id, parse_cancel_mode(mode), actor))


@blueprint.post("/sites/<bigid:site_id>/balance-adjustments")
def post_balance_adjustment(site_id: int) -> Response:
    actor = require_operator()
    body = _body()
    amount, text, reason = parse_balance_entry(body, ctx().catalog.currency, refund=False)
    entry = operator.move_balance(ctx(), site_id, amount, text, reason, actor, "adjustment")
    return _json(entry, 201)


@blueprint.post("/sites/<bigid:site_id>/refunds")
def post_refund(site_id: int) -> Response:
    actor = require_operator()
    body = _body()
    amount, text, reason = parse_balance_entry(body, ctx().catalog.currency, refund=True)
    entry = operator.move_balance(ctx(), site_id, amount, text, reason, actor, "refund")
    return _json(entry, 201)


@blueprint.get("/sites/<bigid:site_id>/ledger")
def get_ledger(site_id: int) -> Response:
    require_site(site_id)
    return _json(operator.ledger_of(ctx(), site_id))


@blueprint.get("/sites/<bigid:site_id>/limits")
def get_limits(site_id: int) -> Response:
    require_site(site_id)
    url, version, document = limits.limits_document(ctx(), site_id)
    return _json({"site_id": site_id, "url": url, "version": version, "document": document})


@blueprint.post("/roll-over")
def post_roll_over() -> Response:
    require_operator()
    return _json(renewals.roll_over(ctx()))


def register(app: Flask) -> None:
    """Mount the API (the use cases' context is in the app's state)."""
    routing.install(app)
    app.register_blueprint(blueprint)
    openapi.register(app)
