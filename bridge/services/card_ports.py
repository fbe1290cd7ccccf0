"""The card gateway's ports: Stripe as the use cases see it, and what they store about it.

`CardGateway` is implemented by `bridge.adapters.stripe_gateway` on the official `stripe`
package; it speaks ISO minor units and raises only errors of our tree (`CardDeclined`,
`GatewayUnavailable`, `PaymentGatewayError`, `InvalidSignature`). `CardRepository` is the unit of
work's table of Stripe customers, saved cards, one payment record per invoice (its current
PaymentIntent), refunds and disputes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SavedCard:
    payment_method_id: str
    brand: str | None = None
    last4: str | None = None


@dataclass(frozen=True)
class Setup:
    """A SetupIntent: the browser confirms it with Stripe.js; its card is then saved."""

    id: str
    status: str
    customer: str | None
    client_secret: str | None
    card: SavedCard | None
    error_message: str | None = None


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent, its amount in ISO minor units and the invoice it was made for."""

    id: str
    status: str  # requires_payment_method | requires_confirmation | requires_action | ...
    amount_minor: int
    currency: str
    client_secret: str | None
    invoice_id: str | None
    payment_method: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Refund:
    id: str
    amount_minor: int
    status: str


@dataclass(frozen=True)
class GatewayEvent:
    """A verified Stripe event: its id, type and object (raw, as Stripe sent it)."""

    id: str
    type: str
    object: Mapping[str, Any]


class CardGateway(Protocol):
    def create_customer(self, email: str | None, customer_id: int) -> str: ...
    def create_setup(self, customer: str) -> Setup: ...
    def get_setup(self, setup_id: str) -> Setup: ...
    def create_intent(
        self,
        customer: str,
        payment_method: str,
        amount_minor: int,
        currency: str,
        invoice_id: str,
        key: str,
    ) -> Intent: ...
    def confirm_intent(self, intent_id: str, off_session: bool) -> Intent:
        """Confirm; a decline is not raised but returned (status and Stripe's reason)."""
        ...

    def get_intent(self, intent_id: str) -> Intent: ...
    def cancel_intent(self, intent_id: str) -> Intent: ...
    def intent_from(self, raw: Mapping[str, Any]) -> Intent:
        """A PaymentIntent as an event carries it."""
        ...

    def refund(self, intent_id: str, amount_minor: int, currency: str, key: str) -> Refund:
        """Refund part of a PaymentIntent; `key` is the idempotency key and goes in the refund's
        metadata (`bridge_refund`), where `find_refund` looks for it."""
        ...

    def find_refund(self, intent_id: str, currency: str, key: str) -> Refund | None:
        """The PaymentIntent's refund made with `key`, or None when Stripe made none."""
        ...

    def verify_event(self, payload: bytes, signature: str) -> GatewayEvent:
        """Check `Stripe-Signature` over the raw body; `InvalidSignature` when it fails."""
        ...


@dataclass(frozen=True)
class CardCustomer:
    customer_id: int
    stripe_customer: str
    card: SavedCard | None


@dataclass(frozen=True)
class CardPayment:
    """The card payment of one invoice: its current PaymentIntent and how it went."""

    invoice_id: str
    attempt: int
    intent_id: str | None
    status: str  # creating | created | requires_action | processing | failed | succeeded | canceled
    last_error: str | None
    off_session: bool
    retries: int
    next_retry_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class RefundRequest:
    """An operator's refund stored before Stripe is asked for it (pending until recorded)."""

    key: str
    invoice_id: str
    amount_minor: int
    status: str  # pending | done | failed (Stripe refused) | abandoned (never made, too old)
    refund_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class DisputeRecord:
    id: str
    invoice_id: str | None
    membership_id: int | None
    charge_id: str | None
    amount_minor: int
    currency: str
    reason: str
    status: str
    created_at: datetime


class CardRepository(Protocol):
    def customer_id_of(self, membership_id: int) -> int | None: ...
    def customer(self, customer_id: int) -> CardCustomer | None: ...
    def add_customer(self, customer_id: int, stripe_customer: str, at: datetime) -> None: ...
    def save_card(self, customer_id: int, card: SavedCard, at: datetime) -> None: ...
    def payment(self, invoice_id: str, *, lock: bool = False) -> CardPayment | None: ...
    def start_payment(self, invoice_id: str, off_session: bool, at: datetime) -> CardPayment:
        """A new payment record, or the next attempt of an existing one (intent cleared), with
        status `creating`: this request is making the attempt's PaymentIntent."""
        ...

    def set_intent(self, invoice_id: str, intent_id: str, at: datetime) -> None: ...
    def set_outcome(
        self,
        invoice_id: str,
        status: str,
        error: str | None,
        at: datetime,
        next_retry_at: datetime | None = None,
        retries: int | None = None,
    ) -> None: ...
    def invoice_of_intent(self, intent_id: str) -> str | None: ...
    def renewals_due(self, at: datetime, stale_before: datetime) -> list[tuple[str, int, datetime]]:
        """Open renewal invoices to charge now: never tried, failed with a retry due by `at`, or
        left half-way (intent being made or not confirmed) before `stale_before` by a call that
        failed or a process that died; (invoice id, retries so far, invoice made at)."""
        ...

    def with_intent(self, invoice_statuses: tuple[str, ...]) -> list[CardPayment]:
        """Payments with a PaymentIntent whose invoice has one of these statuses."""
        ...

    def unsettled(self, invoice_statuses: tuple[str, ...]) -> list[CardPayment]:
        """Payments with a PaymentIntent still alive whose invoice has one of these statuses."""
        ...

    def add_refund(self, refund_id: str, invoice_id: str, amount_minor: int, at: datetime) -> bool:
        """Record a refund once: False when its id is known (a race ends in `Duplicate`)."""
        ...

    def refunded_minor(self, invoice_id: str) -> int: ...
    def start_refund(self, key: str, invoice_id: str, amount_minor: int, at: datetime) -> None:
        """Store an operator's refund as pending, before Stripe is asked for it."""
        ...

    def pending_refund(self, invoice_id: str) -> RefundRequest | None:
        """The invoice's refund asked of Stripe and not yet recorded (a crash or a failure)."""
        ...

    def finish_refund(self, key: str, status: str, refund_id: str | None, at: datetime) -> None:
        """The stored refund is over: `done` (recorded as `refund_id`), `failed` (Stripe refused
        it) or `abandoned` (Stripe never made it and it is too old to make now)."""
        ...

    def add_dispute(self, dispute: DisputeRecord) -> bool:
        """Record a dispute once: False when its id is known."""
        ...

    def disputes(self, offset: int, limit: int) -> tuple[list[DisputeRecord], int]: ...
