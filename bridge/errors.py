"""The bridge's one error tree. Every error has a stable `code` and a sentence.

BridgeError (bridge.domain.errors)
├── NotEligible            a selection the billing rules refuse (reason in .code)
├── MoneyError             an amount or currency that cannot be exact (also a ValueError)
├── CatalogInvalid         catalog or policy problems, each naming product and field (also a ValueError)
├── ConfigError            config.yaml / catalog / environment problems (names file, product, field)
├── InvalidRequest         malformed input to the API or CLI (400)
├── Unauthorized           missing or bad credentials or signature (401)
│   └── InvalidSignature   a webhook or push whose Standard Webhooks signature fails
├── Forbidden              authenticated but not allowed (403)
├── NotFound               no such site, quote, invoice, ... (404)
├── Conflict               the state moved on (409)
│   ├── StaleQuote         the membership changed since the quote, or it expired
│   └── PendingChange      a change invoice is still unpaid
├── Unprocessable          well-formed but cannot be done (422: no_change, blocked)
└── WordPressUnavailable   the network did not answer (retryable) / PushRejected (not retryable)
"""

from __future__ import annotations

from bridge.domain.errors import BridgeError, NotEligible

__all__ = [
    "BridgeError",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InvalidRequest",
    "InvalidSignature",
    "NotEligible",
    "NotFound",
    "PendingChange",
    "StaleQuote",
    "Unauthorized",
    "Unprocessable",
]


class ConfigError(BridgeError):
    code = "config_error"


class InvalidRequest(BridgeError):
    code = "invalid_request"


class Unauthorized(BridgeError):
    code = "unauthorized"


class InvalidSignature(Unauthorized):
    code = "invalid_signature"


class Forbidden(BridgeError):
    code = "forbidden"


class NotFound(BridgeError):
    code = "not_found"


class Conflict(BridgeError):
    code = "conflict"


class StaleQuote(Conflict):
    code = "stale_quote"


class PendingChange(Conflict):
    code = "pending_change"


class Unprocessable(BridgeError):
    code = "unprocessable"
