"""The bridge's one error tree. Every error has a stable `code` and a sentence.

Every error class of the bridge is defined here, except the root and the domain's own errors,
which live in bridge/domain/errors.py (the domain imports nothing of ours). The JSON API answers
with the status in brackets (bridge/api/errors.py); the `code` strings are part of the API.

BridgeError (bridge.domain.errors)
├── NotEligible               a selection the billing rules refuse (reason in .code)      (422)
├── MoneyError                an amount or currency that cannot be exact (a ValueError)   (400)
├── CatalogInvalid            catalog or policy problems naming product and field (a ValueError)
├── ConfigError               config.yaml / catalog / environment problems                (500)
│   └── InvalidSecret         the webhook secret is not `whsec_` + base64 of ≥ 16 bytes
├── InvalidRequest            malformed input to the API or CLI                            (400)
│   └── ScenarioError         a malformed `bridge quote` scenario (also a ValueError)
├── Unauthorized              missing or bad credentials or signature                      (401)
│   ├── InvalidSignature      a webhook or push whose Standard Webhooks signature fails
│   └── InvalidToken          a checkout token malformed or forged (invalid_token) or
│                             past its expiry (token_expired)
├── Forbidden                 authenticated but not allowed                                (403)
├── NotFound                  no such site, quote, invoice, ...                            (404)
├── Conflict                  the state moved on                                           (409)
│   ├── ConcurrentChange      the optimistic lock lost to another writer (conflict)
│   ├── Duplicate             a unique constraint: this was already recorded (duplicate)
│   ├── StaleQuote            the membership changed since the quote (stale_quote)
│   │   ├── QuoteExpired      the quote outlived its time to live (quote_expired)
│   │   ├── QuoteUsed         the quote was committed already (already_committed, with
│   │   │                     the invoice's id and number: a lost answer can be retried)
│   │   └── CatalogChanged    a new catalog version changed the quote's terms (catalog_changed)
│   ├── PendingChange         a change invoice is still unpaid (pending_change)
│   └── InvoiceClosed         the invoice is void, expired, ... (invoice_<status>)
├── Unprocessable             well-formed but cannot be done                               (422)
│   ├── PaymentMismatch       a payment's amount or currency is not the invoice's
│   │                         (amount_mismatch, currency_mismatch)
│   ├── NoChange              the selection is what the membership already has (no_change)
│   ├── Blocked               the change is blocked, e.g. usage above the new limits (blocked)
│   ├── NoMembership          the site has no membership yet (no_membership)
│   ├── InsufficientBalance   the credit balance would go below zero (insufficient_balance)
│   └── UmImportRefused       an Ultimate Multisite network the import will not read or
│                             write: WP Ultimo 1.x, another currency, no tables, an undo
│                             of a batch something happened on (um_import_refused)
├── PaymentGatewayError      the card gateway (Stripe) failed; .retryable                 (502)
│   ├── GatewayUnavailable    no answer, 5xx or rate limited: try again later              (503)
│   └── CardDeclined          the card was declined or needs the owner; Stripe's reason   (402)
├── WordPressError            a push to the network failed; .retryable, .status           (500)
│   ├── WordPressUnavailable  no answer, 5xx or 429: retry later
│   └── PushRejected          the plugin refused the push (other 4xx): do not retry
├── QueueNotBound             a push queued before the jobs were registered (wiring bug)   (500)
└── Unavailable               a part the request needs is down for now; retry later        (503)
    └── DatabaseUnavailable   the database does not answer (restarting, unreachable, locked)
"""

from __future__ import annotations

from typing import Literal

from bridge.domain.errors import BridgeError, NotEligible

__all__ = [
    "Blocked",
    "BridgeError",
    "CardDeclined",
    "CatalogChanged",
    "ConcurrentChange",
    "ConfigError",
    "Conflict",
    "DatabaseUnavailable",
    "Duplicate",
    "Forbidden",
    "GatewayUnavailable",
    "InsufficientBalance",
    "InvalidRequest",
    "InvalidSecret",
    "InvalidSignature",
    "InvalidToken",
    "InvoiceClosed",
    "NoChange",
    "NoMembership",
    "NotEligible",
    "NotFound",
    "PaymentGatewayError",
    "PaymentMismatch",
    "PendingChange",
    "PushRejected",
    "QueueNotBound",
    "QuoteExpired",
    "QuoteUsed",
    "ScenarioError",
    "StaleQuote",
    "UmImportRefused",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
    "WordPressError",
    "WordPressUnavailable",
]


class ConfigError(BridgeError):
    """config.yaml, the catalog or the environment is wrong; the message names what."""

    code = "config_error"


class InvalidSecret(ConfigError):
    """The configured secret is not a `whsec_` + base64 string of at least 16 bytes."""

    code = "invalid_secret"


class InvalidRequest(BridgeError):
    """Malformed input to the API or the CLI."""

    code = "invalid_request"


class ScenarioError(InvalidRequest, ValueError):
    """A malformed scenario: the message names the field and what was expected."""

    code = "invalid_scenario"


class Unauthorized(BridgeError):
    """Missing or bad credentials."""

    code = "unauthorized"


class InvalidSignature(Unauthorized):
    """A webhook or push whose Standard Webhooks signature or timestamp does not check out."""

    code = "invalid_signature"


class InvalidToken(Unauthorized):
    """A checkout token is malformed or forged (invalid_token), or expired (token_expired)."""

    code = "invalid_token"
    EXPIRED = "token_expired"

    @property
    def expired(self) -> bool:
        return self.code == self.EXPIRED


class Forbidden(BridgeError):
    """Authenticated, but not allowed to do this."""

    code = "forbidden"


class NotFound(BridgeError):
    """No such site, quote, invoice, ..."""

    code = "not_found"


class Conflict(BridgeError):
    """The state moved on since the caller looked."""

    code = "conflict"


class ConcurrentChange(Conflict):
    """The optimistic lock lost: someone else changed the membership at the same time."""

    code = "conflict"

    def __init__(
        self,
        message: str = "The membership changed at the same time; please try again.",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code)


class Duplicate(Conflict):
    """A unique constraint said this was already recorded."""

    code = "duplicate"

    def __init__(
        self, message: str = "This was already recorded.", code: str | None = None
    ) -> None:
        super().__init__(message, code)


class StaleQuote(Conflict):
    """The membership changed since the quote was made: the price may differ."""

    code = "stale_quote"


class QuoteExpired(StaleQuote):
    """The quote outlived its time to live."""

    code = "quote_expired"

    def __init__(
        self,
        message: str = "This quote has expired; please ask for a new one.",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code)


class QuoteUsed(StaleQuote):
    """The quote was committed already; a quote is used once. `details` names the invoice the
    commit made, so a client that lost the first answer learns what it got."""

    code = "already_committed"

    def __init__(
        self,
        message: str = "This quote was already committed.",
        code: str | None = None,
        *,
        invoice_id: str | None = None,
        invoice_number: int | None = None,
    ) -> None:
        super().__init__(message, code)
        self.details: dict[str, object] = {}
        if invoice_id is not None:
            self.details = {"invoice_id": invoice_id, "invoice_number": invoice_number}


class CatalogChanged(StaleQuote):
    """The catalog got a new version since the quote, and the quote's terms changed with it."""

    code = "catalog_changed"


class PendingChange(Conflict):
    """An earlier change's invoice is still unpaid."""

    code = "pending_change"


class InvoiceClosed(Conflict):
    """The invoice is no longer open (void, expired, ...): it cannot be paid or applied."""

    code = "invoice_closed"

    def __init__(self, message: str, code: str | None = None, *, status: str | None = None) -> None:
        # Either the invoice's status (code invoice_<status>) or the code itself.
        super().__init__(message, f"invoice_{status}" if status is not None else code)
        self.status = status if status is not None else self.code.removeprefix("invoice_")


class Unprocessable(BridgeError):
    """Well-formed, but it cannot be done."""

    code = "unprocessable"


class PaymentMismatch(Unprocessable):
    """A payment's amount or currency is not the invoice's."""

    code = "amount_mismatch"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        field: Literal["amount", "currency"] | None = None,
    ) -> None:
        # Either what differs (code <field>_mismatch) or the code itself.
        super().__init__(message, f"{field}_mismatch" if field is not None else code)
        self.field = self.code.removesuffix("_mismatch")


class NoChange(Unprocessable):
    """The selection is what the membership already has."""

    code = "no_change"


class Blocked(Unprocessable):
    """The change is blocked (for example, usage above the new plan's limits)."""

    code = "blocked"


class NoMembership(Unprocessable):
    """The site has no membership yet."""

    code = "no_membership"


class InsufficientBalance(Unprocessable):
    """The credit balance would go below zero."""

    code = "insufficient_balance"


class UmImportRefused(Unprocessable):
    """`bridge import ultimate-multisite` refuses the network or the undo; the message says why."""

    code = "um_import_refused"


class PaymentGatewayError(BridgeError):
    """The card gateway refused or failed a call (translated from the `stripe` library)."""

    code = "gateway_error"
    retryable: bool = False


class GatewayUnavailable(PaymentGatewayError):
    """Stripe could not be reached, answered 5xx or rate-limited us: try again later."""

    code = "gateway_unavailable"
    retryable = True


class CardDeclined(PaymentGatewayError):
    """The card was declined (the message is Stripe's reason); the invoice stays open."""

    code = "card_declined"


class WordPressError(BridgeError):
    """A push to the network failed; `retryable` tells the caller whether to try again."""

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


class QueueNotBound(BridgeError):
    """A push was enqueued before the jobs were registered (a wiring bug in the app factory)."""

    code = "queue_not_bound"


class Unavailable(BridgeError):
    """A part the request needs is down for now; the same request may succeed in a moment."""

    code = "unavailable"


class DatabaseUnavailable(Unavailable):
    """The database did not answer (restarting, unreachable, out of connections, locked)."""

    code = "database_unavailable"

    def __init__(
        self,
        message: str = "The database is not answering right now; please try again in a moment.",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code)
