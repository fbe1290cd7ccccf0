"""The OpenAPI 3.1 description of the JSON API, served at GET /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT: dict[str, Any] = {"type": "object"}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request",
        401: "Missing or bad credentials",
        403: "Not allowed for this caller",
        404: "No such site, quote or invoice",
        409: "Stale or expired quote, pending change, a quote already committed "
        "(already_committed, with its invoice_id and invoice_number), or the state moved on",
        413: "The body is over 256 KiB",
        422: "Well-formed but refused (no_change, blocked, not eligible, ...)",
        502: "gateway_error: the card gateway refused the request",
        503: "database_unavailable: the database is not answering (e.g. restarting), or "
        "gateway_unavailable: the card gateway could not be reached; send the same request "
        "again (after Retry-After seconds when given)",
    }
    return {
        str(s): {
            "description": text[s],
            "content": {"application/json": {"schema": ERROR}},
        }
        for s in statuses
    }


def _ok(
    description: str, status: int = 200, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": schema or OBJECT}},
        }
    }


def _op(
    summary: str,
    ok: dict[str, Any],
    errors: tuple[int, ...],
    *,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if body is not None:
        # Every body goes through the same parser: malformed JSON (400) and its size (413).
        errors = tuple(sorted({*errors, 400, 413}))
    errors = tuple(sorted({*errors, 503}))  # any call that reads the database
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {**ok, **_errors(*errors)},
        # The API is the operator's alone; site owners use the checkout pages (README, SECURITY.md).
        "security": [{"admin": []}],
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path(name: str, schema_type: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": schema_type}}


def _query(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


SITE = _path("site_id", "integer")
AMOUNT = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["10.00"]}
BILLING = {
    "oneOf": [
        {"const": "once"},
        {
            "type": "object",
            "properties": {
                "every": {"type": "integer", "minimum": 1},
                "unit": {"enum": ["day", "week", "month", "year"]},
            },
            "required": ["unit"],
        },
    ]
}


def spec() -> dict[str, Any]:
    """The document; every route under /api/v1 is here (a test checks it)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Plan Bridge API",
            "version": "1.0.0",
            "description": "Plans, quotes, invoices and limits of a WordPress multisite network. "
            'Errors are {"error": {"code": "...", "message": "..."}}.',
        },
        "components": {
            "securitySchemes": {
                "admin": {"type": "http", "scheme": "bearer", "description": "BRIDGE_ADMIN_TOKEN"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "invoice_id": {
                                    "type": "string",
                                    "description": "already_committed: the invoice the "
                                    "earlier commit of this quote made",
                                },
                                "invoice_number": {"type": ["integer", "null"]},
                            },
                        }
                    },
                },
                "Selection": {
                    "type": "object",
                    "required": ["plan"],
                    "additionalProperties": False,
                    "properties": {
                        "plan": {"type": "string"},
                        "billing": BILLING,
                        "addons": {"type": "object", "additionalProperties": {"type": "integer"}},
                    },
                },
                "Quote": {
                    "type": "object",
                    "description": "The quote of quote-cli.md (its `tax` null without one) plus id, "
                    "version and expires_at",
                    "required": ["id", "kind", "due_now", "expires_at"],
                },
                "Commit": {
                    "type": "object",
                    "properties": {
                        "invoice": {"type": "object"},
                        "status": {"enum": ["applied", "pending_payment", "scheduled"]},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/sites/{site_id}": {
                "get": _op(
                    "A site, its membership, its limits (desired and applied version)",
                    _ok("The site"),
                    (401, 403, 404),
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/options": {
                "get": _op(
                    "Eligible plans (billing options, kind, timing, price) and add-ons",
                    _ok("Plans and add-ons"),
                    (401, 403, 404, 422),
                    params=[
                        SITE,
                        _query("product", "explain why this product is or is not offered"),
                        _query("plan", "list the add-ons offered with this plan"),
                    ],
                )
            },
            "/api/v1/sites/{site_id}/quotes": {
                "post": _op(
                    "Quote a selection",
                    _ok("The quote", 201, {"$ref": "#/components/schemas/Quote"}),
                    (400, 401, 403, 404, 422),
                    body={"$ref": "#/components/schemas/Selection"},
                    params=[SITE],
                )
            },
            "/api/v1/quotes/{quote_id}/commit": {
                "post": _op(
                    "Commit a quote: make its invoice; apply at once when nothing is due. "
                    "Committing it again (a client that lost the answer) is 409 "
                    "already_committed with the invoice's id: nothing is charged twice",
                    _ok("Committed", 200, {"$ref": "#/components/schemas/Commit"}),
                    (401, 404, 409, 422),
                    params=[_path("quote_id")],
                )
            },
            "/api/v1/invoices/{invoice_id}": {
                "get": _op(
                    "An invoice with its lines",
                    _ok("The invoice"),
                    (401, 404),
                    params=[_path("invoice_id")],
                )
            },
            "/api/v1/invoices/{invoice_id}/pay": {
                "post": _op(
                    "Mark an invoice paid (the manual gateway) and apply what it pays for",
                    _ok("Paid (or already paid)"),
                    (400, 401, 403, 404, 409, 422),
                    body={"type": "object", "properties": {"reference": {"type": "string"}}},
                    params=[_path("invoice_id")],
                )
            },
            "/api/v1/invoices/{invoice_id}/refunds": {
                "post": _op(
                    "Refund a card-paid invoice to the card (gateway stripe), whole or part",
                    _ok("Refunded: the refund id, amount, total refunded and the invoice", 201),
                    (400, 401, 404, 409, 422, 502, 503),
                    body={
                        "type": "object",
                        "properties": {"amount": AMOUNT, "reason": {"type": "string"}},
                    },
                    params=[_path("invoice_id")],
                )
            },
            "/api/v1/sites/{site_id}/scheduled-change": {
                "delete": _op(
                    "Cancel the scheduled (end-of-term) change",
                    _ok("The site, with cancelled: true|false"),
                    (401, 403, 404, 422),
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/membership": {
                "put": _op(
                    "Put a site on a plan or import an existing customer",
                    _ok("The site"),
                    (400, 401, 403, 404, 422),
                    body={
                        "type": "object",
                        "required": ["plan"],
                        "properties": {
                            "plan": {"type": "string"},
                            "billing": BILLING,
                            "price": AMOUNT,
                            "addons": {"type": "object"},
                            "anchor": {"type": "string", "format": "date-time"},
                            "status": {"enum": ["active", "past_due", "trialing"]},
                            "paid": {"type": "boolean"},
                            "tax_rate_paid": {
                                "type": ["string", "null"],
                                "pattern": r"^\d{1,3}(\.\d{1,4})?$",
                                "description": "the tax rate (percent) the current period was "
                                "paid at; null or absent: paid without tax",
                            },
                            "balance": AMOUNT,
                            "site": {
                                "type": "object",
                                "description": "url, name, owner of a site not yet known",
                            },
                        },
                    },
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/overrides": {
                "put": _op(
                    "Operator limits overrides (scope membership or site)",
                    _ok("The site"),
                    (400, 401, 403, 404, 422),
                    body={
                        "type": "object",
                        "properties": {
                            "scope": {"enum": ["membership", "site"]},
                            "limits": {"type": ["object", "null"]},
                        },
                    },
                    params=[SITE, _query("scope", "membership (default) or site")],
                )
            },
            "/api/v1/sites/{site_id}/cancellation": {
                "post": _op(
                    "Cancel at the end of term, or immediately (operator)",
                    _ok("The site"),
                    (400, 401, 403, 404, 422),
                    body={
                        "type": "object",
                        "properties": {"mode": {"enum": ["end_of_term", "immediate"]}},
                    },
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/balance-adjustments": {
                "post": _op(
                    "Adjust the customer's balance (a ledger entry with a reason)",
                    _ok("The entry and the new balance", 201),
                    (400, 401, 403, 404, 422),
                    body={
                        "type": "object",
                        "required": ["amount", "reason"],
                        "properties": {"amount": AMOUNT, "reason": {"type": "string"}},
                    },
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/refunds": {
                "post": _op(
                    "Record a refund of credit paid back to the customer",
                    _ok("The entry and the new balance", 201),
                    (400, 401, 403, 404, 422),
                    body={
                        "type": "object",
                        "required": ["amount", "reason"],
                        "properties": {"amount": AMOUNT, "reason": {"type": "string"}},
                    },
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/ledger": {
                "get": _op(
                    "Invoices and balance movements",
                    _ok("The ledger"),
                    (401, 403, 404, 422),
                    params=[SITE],
                )
            },
            "/api/v1/sites/{site_id}/limits": {
                "get": _op(
                    "The site's current limits document",
                    _ok("The document"),
                    (401, 403, 404),
                    params=[SITE],
                )
            },
            "/api/v1/invoices/{invoice_id}/credit-notes": {
                "post": _op(
                    "Record money of an invoice's payment paid back: a numbered credit note "
                    "pointing to its receipt, split into net and tax at the receipt's rate",
                    _ok("The credit note", 201),
                    (400, 401, 403, 404, 422),
                    body={
                        "type": "object",
                        "required": ["amount", "reason"],
                        "properties": {
                            "amount": AMOUNT,
                            "reason": {"type": "string"},
                            "reference": {"type": "string"},
                        },
                    },
                    params=[_path("invoice_id")],
                )
            },
            "/api/v1/receipts": {
                "get": _op(
                    "Receipts and credit notes issued in a period (whole UTC days)",
                    _ok("The receipts, oldest first"),
                    (400, 401, 403),
                    params=[
                        _query("from", "first day, YYYY-MM-DD (default: the 1st of this month)"),
                        _query("to", "last day, YYYY-MM-DD (default: today)"),
                    ],
                )
            },
            "/api/v1/receipts/{kind}/{number}": {
                "get": _op(
                    "One receipt (kind receipt) or credit note (kind credit_note)",
                    _ok("The receipt"),
                    (401, 403, 404),
                    params=[_path("kind"), _path("number", "integer")],
                )
            },
            "/api/v1/sites/{site_id}/billing-details": {
                "put": _op(
                    "The buyer printed on the site's next receipts",
                    _ok("The billing details as kept"),
                    (400, 401, 403, 404),
                    body={
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "address": {"type": "string"},
                            "tax_number": {"type": ["string", "null"]},
                        },
                    },
                    params=[SITE],
                )
            },
            "/api/v1/roll-over": {
                "post": _op(
                    "Let time pass now: renewals, dunning, expiry (the worker does it periodically)",
                    _ok("Counts of what happened"),
                    (401, 403),
                )
            },
        },
    }


def register(app: Flask) -> None:
    """Serve GET /openapi.json."""

    def openapi_json() -> Response:
        return jsonify(spec())

    app.add_url_rule("/openapi.json", "openapi_json", openapi_json, methods=["GET"])
