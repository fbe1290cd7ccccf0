"""The JSON API, version 1: the operator's (documented in /openapi.json and the README).

Only the operator calls it, with `Authorization: Bearer $BRIDGE_ADMIN_TOKEN`. Site owners use the
checkout pages: their checkout token is exchanged once, at /checkout/start, for a session that
only the checkout pages read; neither the token nor the session cookie is accepted here (a form
posted from another site could otherwise ride on the cookie).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from bridge.api import openapi, routing
from bridge.api.inputs import (
    amount_minor,
    parse_balance_entry,
    parse_cancel_mode,
    parse_json,
    parse_membership,
    parse_overrides,
    parse_party,
    parse_period,
    parse_reference,
    parse_scope,
    parse_selection,
)
from bridge.api.state import state
from bridge.errors import InvalidRequest, NotFound, Unauthorized
from bridge.services import (
    card_events,
    limits,
    operator,
    payments,
    quotes,
    receipts,
    renewals,
    sites,
)
from bridge.services.context import OPERATOR, Actor, Context

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def ctx() -> Context:
    return state().ctx


def require_operator() -> Actor:
    """The operator (the admin token as a bearer token); 401 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send Authorization: Bearer with the admin token.", "unauthorized")
    admin = ctx().settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return OPERATOR
    raise Unauthorized(
        "The token is not valid. The JSON API is the operator's: site owners use the checkout.",
        "invalid_token",
    )


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
    require_operator()
    return _json(sites.site_view(ctx(), site_id))


@blueprint.get("/sites/<bigid:site_id>/options")
def get_options(site_id: int) -> Response:
    require_operator()
    product = request.args.get("product") or None
    plan = request.args.get("plan") or None
    return _json(sites.options(ctx(), site_id, product=product, plan=plan))


@blueprint.post("/sites/<bigid:site_id>/quotes")
def post_quote(site_id: int) -> Response:
    actor = require_operator()
    return _json(quotes.create_quote(ctx(), site_id, parse_selection(_body()), actor), 201)


@blueprint.post("/quotes/<key:quote_id>/commit")
def post_commit(quote_id: str) -> Response:
    actor = require_operator()
    return _json(quotes.commit_quote(ctx(), quote_id, actor))


@blueprint.get("/invoices/<key:invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    require_operator()
    return _json(payments.invoice(ctx(), invoice_id))


@blueprint.post("/invoices/<key:invoice_id>/pay")
def post_pay(invoice_id: str) -> Response:
    actor = require_operator()
    reference = parse_reference(_body().get("reference"))
    return _json(payments.pay_invoice(ctx(), invoice_id, reference or "manual", actor))


@blueprint.post("/invoices/<key:invoice_id>/refunds")
def post_invoice_refund(invoice_id: str) -> Response:
    actor = require_operator()
    body = _body()
    amount = body.get("amount")
    minor = None if amount is None else amount_minor(amount, ctx().catalog.currency, "amount")
    reason = body.get("reason") or "refund"
    if not isinstance(reason, str) or len(reason) > 500:
        raise InvalidRequest("'reason' must be a sentence of at most 500 characters.")
    refund = card_events.refund_invoice(ctx(), invoice_id, minor, reason, actor)
    return _json(refund, 201)


@blueprint.delete("/sites/<bigid:site_id>/scheduled-change")
def delete_scheduled_change(site_id: int) -> Response:
    actor = require_operator()
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
    actor = require_operator()
    mode = _body().get("mode", "end_of_term")
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
    require_operator()
    return _json(operator.ledger_of(ctx(), site_id))


@blueprint.get("/sites/<bigid:site_id>/limits")
def get_limits(site_id: int) -> Response:
    require_operator()
    url, version, document = limits.limits_document(ctx(), site_id)
    return _json({"site_id": site_id, "url": url, "version": version, "document": document})


@blueprint.post("/invoices/<key:invoice_id>/credit-notes")
def post_credit_note(invoice_id: str) -> Response:
    """Money of an invoice's payment was paid back: its numbered credit note."""
    actor = require_operator()
    body = _body()
    amount, _text, reason = parse_balance_entry(body, ctx().catalog.currency, refund=True)
    reference = parse_reference(body.get("reference"))
    note = receipts.refund_invoice(ctx(), invoice_id, amount, reason, reference, actor)
    return _json(receipts.receipt_view(note), 201)


@blueprint.get("/receipts")
def get_receipts() -> Response:
    require_operator()
    start, end = parse_period(request.args.get("from"), request.args.get("to"), ctx().now())
    found = receipts.receipts_between(ctx(), start, end)
    return _json({"receipts": [receipts.receipt_view(r) for r in found]})


@blueprint.get("/receipts/<key:kind>/<bigid:number>")
def get_receipt(kind: str, number: int) -> Response:
    require_operator()
    if kind not in ("receipt", "credit_note"):
        raise NotFound("Receipts are /receipts/receipt/N or /receipts/credit_note/N.")
    return _json(receipts.receipt_view(receipts.find_receipt(ctx(), kind, number)))


@blueprint.put("/sites/<bigid:site_id>/billing-details")
def put_billing_details(site_id: int) -> Response:
    require_operator()
    body = _body()
    buyer = parse_party(body)
    saved = receipts.set_buyer_of_site(ctx(), site_id, buyer)
    return _json(saved.to_json())


@blueprint.post("/roll-over")
def post_roll_over() -> Response:
    require_operator()
    return _json(renewals.roll_over(ctx()))


def register(app: Flask) -> None:
    """Mount the API (the use cases' context is in the app's state)."""
    routing.install(app)
    app.register_blueprint(blueprint)
    openapi.register(app)
