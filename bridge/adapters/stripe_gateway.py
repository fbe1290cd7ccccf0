"""The `stripe` gateway on the official `stripe` package: the only module that imports it.

Amounts cross this boundary in ISO minor units (`bridge.domain.card_amounts` converts them to
Stripe's units and back), and every error of the library becomes one of ours here: a declined
card is `CardDeclined` with Stripe's own sentence, no answer / 5xx / rate limiting is
`GatewayUnavailable` (retryable), a bad signature is `InvalidSignature`, anything else
`PaymentGatewayError`. The API base can point at a stand-in (the tests use localstripe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from bridge.domain.card_amounts import card_amount, minor_from_card
from bridge.errors import (
    CardDeclined,
    GatewayUnavailable,
    InvalidSignature,
    PaymentGatewayError,
)
from bridge.services.card_ports import GatewayEvent, Intent, Refund, SavedCard, Setup

log = logging.getLogger(__name__)

T = TypeVar("T")
_TIMEOUT_S = 20


def _plain(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    return dict(obj.to_dict(recursive=True))


def _translated(call: Callable[[], T]) -> T:
    """Run one library call; its errors become ours (see the module docstring)."""
    try:
        return call()
    except stripe.CardError as exc:
        raise CardDeclined(exc.user_message or "Your card was declined.", "card_declined") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise GatewayUnavailable(f"Stripe could not be reached: {exc.user_message}") from exc
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature("The Stripe-Signature header does not check out.") from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        if status >= 500 or status == 0:
            raise GatewayUnavailable(f"Stripe failed: {exc.user_message}") from exc
        raise PaymentGatewayError(f"Stripe refused the request: {exc.user_message}") from exc


class StripeCardGateway:
    """`CardGateway` on Stripe (or on a stand-in at `api_base`)."""

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str) -> None:
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=_TIMEOUT_S),
        )
        self._webhook_secret = webhook_secret

    def __repr__(self) -> str:  # the key never reaches a log through repr()
        return "StripeCardGateway(***)"

    # -- customers and cards ------------------------------------------------------------

    def create_customer(self, email: str | None, customer_id: int) -> str:
        params: dict[str, Any] = {"metadata": {"bridge_customer": str(customer_id)}}
        if email:
            params["email"] = email
        created = _translated(
            lambda: self._client.v1.customers.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"bridge-customer-{customer_id}"},
            )
        )
        return str(created.id)

    def create_setup(self, customer: str) -> Setup:
        made = _translated(
            lambda: self._client.v1.setup_intents.create(
                {"customer": customer, "usage": "off_session", "payment_method_types": ["card"]}  # type: ignore[arg-type]
            )
        )
        return self._setup(_plain(made))

    def get_setup(self, setup_id: str) -> Setup:
        found = _plain(_translated(lambda: self._client.v1.setup_intents.retrieve(setup_id)))
        setup = self._setup(found)
        if setup.card is None or setup.status != "succeeded":
            return setup
        method = _plain(
            _translated(
                lambda: self._client.v1.payment_methods.retrieve(setup.card.payment_method_id)  # type: ignore[union-attr]
            )
        )
        # Stripe attaches a SetupIntent's card to its customer; a stand-in may not: do it once.
        if not method.get("customer") and setup.customer:
            _translated(
                lambda: self._client.v1.payment_methods.attach(
                    str(method["id"]), {"customer": str(setup.customer)}
                )
            )
        card = method.get("card") or {}
        saved = SavedCard(str(method["id"]), card.get("brand"), card.get("last4"))
        return Setup(setup.id, setup.status, setup.customer, setup.client_secret, saved)

    @staticmethod
    def _setup(raw: Mapping[str, Any]) -> Setup:
        method = raw.get("payment_method")
        method_id = method.get("id") if isinstance(method, Mapping) else method
        error = raw.get("last_setup_error") or {}
        return Setup(
            id=str(raw["id"]),
            status=str(raw.get("status")),
            customer=raw.get("customer"),
            client_secret=raw.get("client_secret"),
            card=SavedCard(str(method_id)) if method_id else None,
            error_message=error.get("message") if isinstance(error, Mapping) else None,
        )

    # -- payment intents ----------------------------------------------------------------

    def create_intent(
        self,
        customer: str,
        payment_method: str,
        amount_minor: int,
        currency: str,
        invoice_id: str,
        key: str,
    ) -> Intent:
        params = {
            "amount": card_amount(amount_minor, currency),
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "metadata": {"bridge_invoice": invoice_id},
        }
        made = _translated(
            lambda: self._client.v1.payment_intents.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": key},
            )
        )
        return self.intent_from(_plain(made))

    def confirm_intent(self, intent_id: str, off_session: bool) -> Intent:
        params: dict[str, Any] = {"off_session": True} if off_session else {}
        try:
            confirmed = _translated(
                lambda: self._client.v1.payment_intents.confirm(intent_id, params)  # type: ignore[arg-type]
            )
        except CardDeclined as exc:
            # A decline is an outcome, not a failure of ours: the intent with Stripe's reason.
            found = self.get_intent(intent_id)
            cause = exc.__cause__
            code = getattr(cause, "code", None) or "card_declined"
            return Intent(
                **{
                    **found.__dict__,
                    "error_code": str(code),
                    "error_message": found.error_message or exc.message,
                }
            )
        return self.intent_from(_plain(confirmed))

    def get_intent(self, intent_id: str) -> Intent:
        found = _translated(lambda: self._client.v1.payment_intents.retrieve(intent_id))
        return self.intent_from(_plain(found))

    def cancel_intent(self, intent_id: str) -> Intent:
        cancelled = _translated(lambda: self._client.v1.payment_intents.cancel(intent_id))
        return self.intent_from(_plain(cancelled))

    def intent_from(self, raw: Mapping[str, Any]) -> Intent:
        currency = str(raw.get("currency") or "").upper()
        error = raw.get("last_payment_error") or {}
        metadata = raw.get("metadata") or {}
        method = raw.get("payment_method")
        return Intent(
            id=str(raw["id"]),
            status=str(raw.get("status")),
            amount_minor=minor_from_card(int(raw.get("amount") or 0), currency),
            currency=currency,
            client_secret=raw.get("client_secret"),
            invoice_id=metadata.get("bridge_invoice"),
            payment_method=method.get("id") if isinstance(method, Mapping) else method,
            error_code=error.get("decline_code") or error.get("code") if error else None,
            error_message=error.get("message") if error else None,
        )

    def refund(self, intent_id: str, amount_minor: int, currency: str, key: str) -> Refund:
        made = _translated(
            lambda: self._client.v1.refunds.create(
                {
                    "payment_intent": intent_id,
                    "amount": card_amount(amount_minor, currency),
                    "metadata": {"bridge_refund": key},
                },
                {"idempotency_key": key},
            )
        )
        return _refund(_plain(made), currency)

    def find_refund(self, intent_id: str, currency: str, key: str) -> Refund | None:
        """Through the PaymentIntent's refunds, newest first, for the one with our key."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"payment_intent": intent_id, "limit": 100}
            if after is not None:
                params["starting_after"] = after
            page = self._refunds_page(params)
            data = list(page.get("data") or [])
            for raw in data:
                if (raw.get("metadata") or {}).get("bridge_refund") == key:
                    return _refund(raw, currency)
            if not page.get("has_more") or not data:
                return None
            after = str(data[-1]["id"])

    def _refunds_page(self, params: dict[str, Any]) -> dict[str, Any]:
        return _plain(_translated(lambda: self._client.v1.refunds.list(params)))  # type: ignore[arg-type]

    # -- webhooks -------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature: str) -> GatewayEvent:
        if not self._webhook_secret:
            raise InvalidSignature("No Stripe webhook secret is configured.")
        event = _translated(
            lambda: self._client.construct_event(payload, signature, self._webhook_secret)
        )
        raw = _plain(event)
        data = raw.get("data") or {}
        return GatewayEvent(str(raw["id"]), str(raw["type"]), dict(data.get("object") or {}))


def _refund(raw: Mapping[str, Any], currency: str) -> Refund:
    return Refund(str(raw["id"]), minor_from_card(int(raw["amount"]), currency), str(raw["status"]))
