"""An operator's refund to the card, interrupted and retried, against localstripe.

The refund is stored as pending before Stripe is called; a retry asks Stripe for the refund made
with that key instead of making another. localstripe ignores idempotency keys, so these tests
prove the bridge's own guard: one refund at Stripe, one ledger entry, one credit note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from bridge.adapters.stripe_gateway import StripeCardGateway
from bridge.config_sections import StripeSettings
from bridge.errors import Conflict
from bridge.services import card_events, cards, operator
from bridge.services.card_ports import CardGateway, Refund
from bridge.services.context import OPERATOR, Context
from tests.services.conftest import OWNER, create_site
from tests.services.test_cards import _pending_premium, _save
from tests.support.card_invariants import intents_by_invoice
from tests.support.localstripe import (
    CARD_OK,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    event_of,
    running_localstripe,
    signed_event,
)


class Died(Exception):
    """The bridge process dying at that point (the test's stand-in for a kill)."""


class DiesAroundRefund:
    """The gateway port, dying once just before or just after Stripe makes the refund."""

    def __init__(self, inner: CardGateway, after_stripe: bool) -> None:
        self._inner = inner
        self._after = after_stripe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def refund(self, intent_id: str, amount_minor: int, currency: str, key: str) -> Refund:
        if not self._after:
            raise Died("before Stripe's refund")
        self._inner.refund(intent_id, amount_minor, currency, key)
        raise Died("after Stripe's refund, before the bridge recorded it")


@pytest.fixture(scope="module")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as server:
        yield server


@pytest.fixture
def card_ctx(make_ctx: Callable[..., Context], stripe_server: LocalStripe) -> Context:
    ctx = make_ctx(
        gateway="stripe",
        stripe=StripeSettings(api_base=stripe_server.base, js_url=stripe_server.js_url),
        stripe_secret_key=SECRET_KEY,
        stripe_publishable_key=PUBLISHABLE_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )
    return replace(ctx, cards=StripeCardGateway(SECRET_KEY, WEBHOOK_SECRET, stripe_server.base))


def _paid(ctx: Context, stripe: LocalStripe) -> tuple[str, str]:
    """A change invoice paid by card: (its id, its PaymentIntent's id)."""
    create_site(ctx)
    invoice_id = _pending_premium(ctx)
    _save(ctx, stripe, CARD_OK)
    assert cards.pay_by_card(ctx, invoice_id, OWNER)["status"] == "paid"
    (intent,) = intents_by_invoice(stripe)[invoice_id]
    return invoice_id, str(intent["id"])


def _dies(ctx: Context, after_stripe: bool) -> Context:
    assert ctx.cards is not None
    return replace(ctx, cards=DiesAroundRefund(ctx.cards, after_stripe))


def _stripe_refunds(stripe: LocalStripe, intent_id: str) -> list[dict[str, Any]]:
    return list(stripe.get("/v1/refunds", payment_intent=intent_id, limit=100)["data"])


def _ledger_refunds(ctx: Context) -> list[str]:
    entries = operator.ledger_of(ctx, 2)["entries"]
    return [e["amount"] for e in entries if e["kind"] == "card_refund"]


def _credit_notes(ctx: Context, invoice_id: str) -> list[int]:
    with ctx.uow() as uow:
        notes = uow.sales_receipts.of_invoice(invoice_id)
    return [n.total_minor for n in notes if n.kind == "credit_note"]


def test_a_refund_interrupted_after_stripes_call_and_retried_is_made_and_recorded_once(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id, intent_id = _paid(card_ctx, stripe_server)
    with pytest.raises(Died):
        card_events.refund_invoice(
            _dies(card_ctx, after_stripe=True), invoice_id, 1000, "goodwill", OPERATOR
        )
    assert [r["amount"] for r in _stripe_refunds(stripe_server, intent_id)] == [1000]
    assert _ledger_refunds(card_ctx) == []  # Stripe refunded; the bridge died before its record

    again = card_events.refund_invoice(card_ctx, invoice_id, 1000, "goodwill", OPERATOR)

    (made,) = _stripe_refunds(stripe_server, intent_id)
    assert (again["refund_id"], again["amount_minor"]) == (made["id"], 1000)
    assert again["refunded_minor"] == 1000
    assert _ledger_refunds(card_ctx) == ["-10.00"]
    assert _credit_notes(card_ctx, invoice_id) == [1000]
    # Stripe's charge.refunded for the same refund changes nothing more.
    charge = {
        "id": "ch_test_refund",
        "object": "charge",
        "currency": "usd",
        "payment_intent": intent_id,
        "amount_refunded": 1000,
        "refunds": {"data": [{"id": made["id"], "amount": 1000}]},
    }
    body, signature = signed_event(event_of("charge.refunded", charge, "evt_refund_again"))
    assert card_events.handle_stripe_event(card_ctx, body, signature) == "duplicate"
    assert _ledger_refunds(card_ctx) == ["-10.00"]
    assert _credit_notes(card_ctx, invoice_id) == [1000]
    # A later refund is a new one, for what remains.
    card_events.refund_invoice(card_ctx, invoice_id, 500, "more goodwill", OPERATOR)
    assert sorted(r["amount"] for r in _stripe_refunds(stripe_server, intent_id)) == [500, 1000]
    assert sorted(_ledger_refunds(card_ctx)) == ["-10.00", "-5.00"]


def test_a_refund_interrupted_before_stripe_was_called_is_made_once_on_the_retry(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id, intent_id = _paid(card_ctx, stripe_server)
    with pytest.raises(Died):
        card_events.refund_invoice(
            _dies(card_ctx, after_stripe=False), invoice_id, None, "cancelled", OPERATOR
        )
    assert _stripe_refunds(stripe_server, intent_id) == []
    again = card_events.refund_invoice(card_ctx, invoice_id, None, "cancelled", OPERATOR)
    assert [r["amount"] for r in _stripe_refunds(stripe_server, intent_id)] == [2900]
    assert again["refunded_minor"] == 2900
    assert _ledger_refunds(card_ctx) == ["-29.00"]
    assert _credit_notes(card_ctx, invoice_id) == [2900]


def test_a_retry_asking_another_amount_finishes_the_interrupted_refund_and_makes_no_other(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id, intent_id = _paid(card_ctx, stripe_server)
    with pytest.raises(Died):
        card_events.refund_invoice(
            _dies(card_ctx, after_stripe=True), invoice_id, 1000, "goodwill", OPERATOR
        )
    with pytest.raises(Conflict, match="interrupted refund of 1000") as refused:
        card_events.refund_invoice(card_ctx, invoice_id, 700, "goodwill", OPERATOR)
    assert refused.value.code == "earlier_refund_finished"
    assert [r["amount"] for r in _stripe_refunds(stripe_server, intent_id)] == [1000]
    assert _ledger_refunds(card_ctx) == ["-10.00"]
    assert _credit_notes(card_ctx, invoice_id) == [1000]


def test_a_refund_stripe_never_made_is_dropped_after_a_day_not_made_late(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id, intent_id = _paid(card_ctx, stripe_server)
    with pytest.raises(Died):
        card_events.refund_invoice(
            _dies(card_ctx, after_stripe=False), invoice_id, 1000, "goodwill", OPERATOR
        )
    card_ctx.clock.advance(hours=25)  # type: ignore[attr-defined]
    later = card_events.refund_invoice(card_ctx, invoice_id, 700, "another reason", OPERATOR)
    assert later["amount_minor"] == 700
    assert [r["amount"] for r in _stripe_refunds(stripe_server, intent_id)] == [700]
    assert _ledger_refunds(card_ctx) == ["-7.00"]
    with card_ctx.uow() as uow:
        assert uow.cards.pending_refund(invoice_id) is None
