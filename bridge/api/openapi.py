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
        409: "Stale or expired quote, pending change, or the state moved on",
        413: "The body is over 256 KiB",
        422: "Well-formed but refused (no_change, blocked, not eligible, ...)",
        502: "The card gateway refused the request",
        503: "The card gateway could not be reached; try again",
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
                    "description": "The quote of quote-cli.md plus id, version and expires_at",
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
                    "Commit a quote: make its invoice; apply at once when nothing is due",
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
