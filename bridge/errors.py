"""The bridge's one error tree. Every error has a stable `code` and a sentence.

BridgeError (bridge.domain.errors)
├── NotEligible            a selection the billing rules refuse (reason in .code)
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


class ConcurrentChange(Conflict):
    """The optimistic lock lost: someone else changed the membership in between."""

    code = "conflict"


class Duplicate(Conflict):
    """A unique constraint said this was recorded already (an event, a token use)."""

    code = "duplicate"


class QuoteExpired(StaleQuote):
    """The quote is older than its time to live."""

    code = "quote_expired"


class QuoteUsed(StaleQuote):
    """The quote was committed already."""

    code = "stale_quote"


class InvoiceClosed(Conflict):
    """The invoice is void, expired or otherwise no longer payable (code invoice_<status>)."""

    code = "invoice_closed"


class PaymentMismatch(Unprocessable):
    """A payment of another amount or currency than the invoice's."""

    code = "amount_mismatch"


class NoChange(Unprocessable):
    """The selection is the membership as it is: nothing to commit."""

    code = "no_change"


class Blocked(Unprocessable):
    """The change is refused by the pre-flight (sites over the new limits)."""

    code = "blocked"


class NoMembership(Unprocessable):
    """The site has no membership yet."""

    code = "no_membership"


class InsufficientBalance(Unprocessable):
    """A balance entry would take the balance below zero."""

    code = "insufficient_balance"


class WordPressError(BridgeError):
    """Base of the push adapter's errors: `retryable` tells the caller whether to try again."""

    code = "wordpress_error"
    retryable: bool = False

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message if status is None else f"{message} (status {status})")
        self.status = status


class WordPressUnavailable(WordPressError):
    """The site could not be reached or answered 5xx/429: try again later."""

    code = "wordpress_unavailable"
    retryable = True


class PushRejected(WordPressError):
    """The plugin refused the push (bad signature, bad document, XML-RPC disabled...)."""

    code = "push_rejected"
    retryable = False
