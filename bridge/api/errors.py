"""The one error handler: every error becomes {"error": {"code", "message"}} with its status.

BridgeError subclasses map to statuses by class (see bridge/errors.py for the tree); HTTP errors
raised by Flask/Werkzeug (404, 405, 413, ...) and unexpected exceptions (500) get the same shape,
so clients parse one format. A blueprint that renders HTML (the checkout) can register its own
handlers; Flask prefers a blueprint's handlers over these.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from bridge.errors import (
    BridgeError,
    CardDeclined,
    ConfigError,
    Conflict,
    Forbidden,
    GatewayUnavailable,
    InvalidRequest,
    NotEligible,
    NotFound,
    PaymentGatewayError,
    Unauthorized,
    Unavailable,
    Unprocessable,
)

log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[BridgeError], int], ...] = (
    (InvalidRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (NotEligible, 422),
    (Unprocessable, 422),
    (ConfigError, 500),
    (Unavailable, 503),
    (CardDeclined, 402),
    (GatewayUnavailable, 503),
    (PaymentGatewayError, 502),
)


def status_of(error: BridgeError) -> int:
    for cls, status in STATUS:
        if isinstance(error, cls):
            return status
    return 500


def error_response(
    status: int, code: str, message: str, details: Mapping[str, object] | None = None
) -> Response:
    """{"error": {"code", "message", ...details}}: details add fields, e.g. an invoice id."""
    response = jsonify({"error": {**(details or {}), "code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="plan-bridge"'
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


def _bridge_error(error: BridgeError) -> Response:
    status = status_of(error)
    if status == 503:
        log.warning("unavailable", extra={"code": error.code, "error": error.message})
    elif status >= 500:
        log.error("bridge error", extra={"code": error.code, "error": error.message})
    return error_response(status, error.code, error.message, getattr(error, "details", None))


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_").replace("'", "")
    messages = {
        404: "There is nothing at this address.",
        405: "This method is not allowed here.",
        413: "The request body is too large.",
    }
    response = error_response(status, code, messages.get(status, error.description or error.name))
    if status == 405:
        allowed = error.get_headers()
        for name, value in allowed:
            if name.lower() == "allow":
                response.headers["Allow"] = value
    return response


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return http_error(error)
    log.exception("unexpected error")
    return error_response(500, "internal_error", "Something went wrong on our side.")


def register(app: Flask) -> None:
    """Install the handlers on the app."""
    app.register_error_handler(BridgeError, _bridge_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected)
