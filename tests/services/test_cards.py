"""Paying by card (gateway `stripe`) against localstripe, the stand-in for Stripe.

A card is saved once with a SetupIntent (confirmed here as Stripe.js would), then each invoice
gets one PaymentIntent for exactly its amount, confirmed by the bridge. Whatever order the
browser's return, the webhook and the reconcile pass come in, each invoice applies once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.adapters.stripe_gateway import StripeCardGateway
from bridge.api.inputs import parse_selection
from bridge.config_sections import StripeSettings
from bridge.errors import CardDeclined, GatewayUnavailable, InvalidSignature
from bridge.services import (
    card_events,
    cards,
    notices,
    operator,
    payments,
    quotes,
    renewals,
    sites,
)
from bridge.services.context import OPERATOR, Context
from tests.services.conftest import OWNER, create_site
from tests.services.fakes import FakeClock
from tests.support.card_invariants import check_card_invariants, intents_by_invoice
from tests.support.localstripe import (
    CARD_3DS,
    CARD_DECLINED_ON_CHARGE,
    CARD_DECLINED_ON_SAVE,
    CARD_OK,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    event_of,
    running_localstripe,
    signed_event,
)


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


def _save(ctx: Context, stripe: LocalStripe, number: str, site_id: int = 2) -> dict[str, Any]:
    setup = cards.start_card_setup(ctx, site_id)
    answer = stripe.confirmed_setup(setup["setup_id"], setup["client_secret"], number)
    if answer.get("status") == "requires_action":  # 3-D Secure when saving: the owner agrees
        answer = stripe.post(
            f"/v1/setup_intents/{setup['setup_id']}/confirm",
            {"key": PUBLISHABLE_KEY, "client_secret": setup["client_secret"]},
        )
    if "error" not in answer:
        cards.save_card(ctx, site_id, setup["setup_id"], OWNER)
    return dict(answer)


def _pending_premium(ctx: Context) -> str:
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    result = quotes.commit_quote(ctx, quote["id"], OWNER)
    assert result["status"] == "pending_payment"
    return str(result["invoice"]["id"])


def _plan(ctx: Context) -> tuple[str, str]:
    membership = sites.site_view(ctx, 2)["membership"]
    assert membership is not None
    return membership["plan"]["id"], membership["status"]


def _deliver(ctx: Context, event: dict[str, Any]) -> str:
    body, signature = signed_event(event)
    return card_events.handle_stripe_event(ctx, body, signature)


def _stripe_event(stripe: LocalStripe, type: str, intent_id: str) -> dict[str, Any]:
    """The event localstripe made for this intent (it would have sent it, had we registered)."""
    for event in stripe.events(type):
        if event["data"]["object"]["id"] == intent_id:
            return dict(event)
    raise AssertionError(f"no {type} event for {intent_id}")


def _ledger_kinds(ctx: Context) -> list[str]:
    return [entry["kind"] for entry in operator.ledger_of(ctx, 2)["entries"]]


def test_a_saved_card_pays_exactly_the_change_invoice_and_the_change_applies(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_OK)
    outcome = cards.pay_by_card(card_ctx, invoice_id, OWNER)
    assert outcome["status"] == "paid"
    assert _plan(card_ctx) == ("premium", "active")
    (intent,) = intents_by_invoice(stripe_server)[invoice_id]
    assert (intent["amount"], intent["currency"], intent["status"]) == (2900, "usd", "succeeded")
    assert payments.invoice(card_ctx, invoice_id)["reference"] == intent["id"]
    # One Stripe customer per bridge customer: a second card setup reuses it.
    first = cards.ensure_customer(card_ctx, 2)
    assert cards.ensure_customer(card_ctx, 2).stripe_customer == first.stripe_customer
    check_card_invariants(card_ctx, stripe_server)


def test_a_card_declined_when_saved_gives_stripes_reason_and_nothing_is_kept(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    answer = _save(card_ctx, stripe_server, CARD_DECLINED_ON_SAVE)
    assert answer["error"]["message"] == "Your card was declined."
    with pytest.raises(CardDeclined, match="No card is saved"):
        cards.pay_by_card(card_ctx, invoice_id, OWNER)
    assert payments.invoice(card_ctx, invoice_id)["status"] == "open"


def test_a_declined_charge_leaves_the_invoice_open_and_another_card_pays_it_once(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_DECLINED_ON_CHARGE)
    declined = cards.pay_by_card(card_ctx, invoice_id, OWNER)
    assert (declined["status"], declined["message"]) == ("declined", "Your card was declined.")
    assert declined["invoice"]["status"] == "open"
    assert _plan(card_ctx) == ("free", "active")
    _save(card_ctx, stripe_server, CARD_OK)
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "paid"
    statuses = sorted(i["status"] for i in intents_by_invoice(stripe_server)[invoice_id])
    assert statuses == ["canceled", "succeeded"]
    assert _plan(card_ctx) == ("premium", "active")
    check_card_invariants(card_ctx, stripe_server)


@pytest.mark.parametrize("webhook_first", [False, True], ids=["return-first", "webhook-first"])
def test_3ds_in_the_browser_then_the_return_and_the_webhook_apply_once_in_either_order(
    card_ctx: Context, stripe_server: LocalStripe, webhook_first: bool
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_3DS)
    outcome = cards.pay_by_card(card_ctx, invoice_id, OWNER)
    assert outcome["status"] == "requires_action" and outcome["client_secret"]
    assert _plan(card_ctx) == ("free", "active")
    intent_id = outcome["client_secret"].split("_secret_")[0]
    stripe_server.authenticate(intent_id, outcome["client_secret"])
    event = _stripe_event(stripe_server, "payment_intent.succeeded", intent_id)
    if webhook_first:
        assert _deliver(card_ctx, event) == "paid"
        assert cards.return_from_browser(card_ctx, invoice_id, OWNER)["status"] == "paid"
    else:
        assert cards.return_from_browser(card_ctx, invoice_id, OWNER)["status"] == "paid"
        assert _deliver(card_ctx, event) == "already_paid"
    assert _plan(card_ctx) == ("premium", "active")
    assert _ledger_kinds(card_ctx).count("change") <= 1
    view = sites.site_view(card_ctx, 2)
    assert _deliver(card_ctx, event) == "duplicate"
    assert sites.site_view(card_ctx, 2) == view
    check_card_invariants(card_ctx, stripe_server)


def test_a_lost_webhook_is_settled_by_the_reconcile_pass(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_3DS)
    outcome = cards.pay_by_card(card_ctx, invoice_id, OWNER)
    assert outcome["client_secret"]
    stripe_server.authenticate(
        outcome["client_secret"].split("_secret_")[0], outcome["client_secret"]
    )
    # The browser never came back and the webhook was dropped.
    assert _plan(card_ctx) == ("free", "active")
    assert card_events.reconcile_cards(card_ctx) == 1
    assert _plan(card_ctx) == ("premium", "active")
    assert card_events.reconcile_cards(card_ctx) == 0
    check_card_invariants(card_ctx, stripe_server)


def test_a_bad_signature_is_refused_and_changes_nothing(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    forged = event_of(
        "payment_intent.succeeded",
        {
            "id": "pi_forged",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 2900,
            "currency": "usd",
            "metadata": {"bridge_invoice": invoice_id},
        },
    )
    body, signature = signed_event(forged, secret="whsec_someone_else")
    with pytest.raises(InvalidSignature):
        card_events.handle_stripe_event(card_ctx, body, signature)
    assert payments.invoice(card_ctx, invoice_id)["status"] == "open"


def test_a_retry_after_a_crash_reuses_the_stored_payment_intent(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_OK)
    # The first attempt got as far as storing its PaymentIntent, then the process died.
    gateway = card_ctx.cards
    assert gateway is not None
    customer = cards.ensure_customer(card_ctx, 2)
    assert customer.card is not None
    with card_ctx.uow() as uow:
        uow.cards.start_payment(invoice_id, False, card_ctx.now())
        uow.commit()
    stored = gateway.create_intent(
        customer.stripe_customer,
        customer.card.payment_method_id,
        2900,
        "USD",
        invoice_id,
        key=f"bridge-invoice-{invoice_id}-1",
    )
    with card_ctx.uow() as uow:
        uow.cards.set_intent(invoice_id, stored.id, card_ctx.now())
        uow.commit()
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "paid"
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "paid"
    (intent,) = intents_by_invoice(stripe_server)[invoice_id]
    assert intent["id"] == stored.id
    check_card_invariants(card_ctx, stripe_server)


def _paid_premium(ctx: Context, stripe: LocalStripe) -> str:
    create_site(ctx)
    invoice_id = _pending_premium(ctx)
    _save(ctx, stripe, CARD_OK)
    assert cards.pay_by_card(ctx, invoice_id, OWNER)["status"] == "paid"
    return invoice_id


def test_refunds_from_the_operator_and_from_stripes_dashboard_are_each_one_ledger_entry(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id = _paid_premium(card_ctx, stripe_server)
    refund = card_events.refund_invoice(card_ctx, invoice_id, 1000, "goodwill", OPERATOR)
    assert (refund["amount_minor"], refund["refunded_minor"]) == (1000, 1000)
    entries = operator.ledger_of(card_ctx, 2)["entries"]
    refunds = [e for e in entries if e["kind"] == "card_refund"]
    assert [e["amount"] for e in refunds] == ["-10.00"]
    assert _plan(card_ctx) == ("premium", "active")  # a refund changes no membership
    (intent,) = intents_by_invoice(stripe_server)[invoice_id]
    charge = {
        "id": "ch_test_1",
        "object": "charge",
        "currency": "usd",
        "payment_intent": intent["id"],
        "amount_refunded": 1500,
        "refunds": {
            "data": [
                {"id": refund["refund_id"], "amount": 1000},
                {"id": "re_dashboard_1", "amount": 500},
            ]
        },
    }
    assert _deliver(card_ctx, event_of("charge.refunded", charge, "evt_refund_1")) == "recorded"
    assert _deliver(card_ctx, event_of("charge.refunded", charge, "evt_refund_1")) == "duplicate"
    refunds = [e for e in operator.ledger_of(card_ctx, 2)["entries"] if e["kind"] == "card_refund"]
    assert sorted(e["amount"] for e in refunds) == ["-10.00", "-5.00"]
    with pytest.raises(Exception, match="At most 1400"):
        card_events.refund_invoice(card_ctx, invoice_id, 1500, "too much", OPERATOR)


def test_a_dispute_is_recorded_for_the_operator(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id = _paid_premium(card_ctx, stripe_server)
    (intent,) = intents_by_invoice(stripe_server)[invoice_id]
    dispute = {
        "id": "dp_test_1",
        "object": "dispute",
        "charge": "ch_test_1",
        "payment_intent": intent["id"],
        "amount": 2900,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    assert _deliver(card_ctx, event_of("charge.dispute.created", dispute, "evt_dp_1")) == "recorded"
    with card_ctx.uow() as uow:
        found, total = uow.cards.disputes(0, 10)
    assert total == 1
    assert (found[0].invoice_id, found[0].amount_minor, found[0].reason) == (
        invoice_id,
        2900,
        "fraudulent",
    )


def test_the_roll_over_charges_the_renewal_off_session_on_the_saved_card(
    card_ctx: Context, stripe_server: LocalStripe, clock: FakeClock
) -> None:
    _paid_premium(card_ctx, stripe_server)
    clock.set(datetime(2026, 5, 1, 0, 1, tzinfo=UTC))
    renewals.roll_over(card_ctx)
    assert _plan(card_ctx) == ("premium", "active")
    renewal = [i for i in operator.ledger_of(card_ctx, 2)["invoices"] if i["kind"] == "renewal"]
    assert [i["status"] for i in renewal] == ["paid"]
    check_card_invariants(card_ctx, stripe_server)


def test_a_failing_renewal_is_past_due_retried_on_schedule_and_paid_with_a_new_card(
    card_ctx: Context, stripe_server: LocalStripe, clock: FakeClock
) -> None:
    _paid_premium(card_ctx, stripe_server)
    _save(card_ctx, stripe_server, CARD_DECLINED_ON_CHARGE)
    clock.set(datetime(2026, 5, 1, 0, 1, tzinfo=UTC))
    renewals.roll_over(card_ctx)
    assert _plan(card_ctx) == ("premium", "past_due")
    (renewal,) = [i for i in operator.ledger_of(card_ctx, 2)["invoices"] if i["kind"] == "renewal"]
    with card_ctx.uow() as uow:
        payment = uow.cards.payment(renewal["id"])
    assert payment is not None and payment.status == "failed"
    assert payment.next_retry_at == clock.at + timedelta(days=1)
    failed = [n for n in notices.latest_notices(card_ctx) if n.kind == "payment_failed"]
    assert [n.document["data"]["invoice_number"] for n in failed] == [renewal["number"]]
    assert failed[0].document["data"]["retry_at"] == "2026-05-02T00:01:00Z"
    assert "past_due" in {n.kind for n in notices.latest_notices(card_ctx)}
    renewals.roll_over(card_ctx)  # not due yet: no new attempt
    assert len(intents_by_invoice(stripe_server)[renewal["id"]]) == 1
    clock.advance(days=1)
    renewals.roll_over(card_ctx)
    assert len(intents_by_invoice(stripe_server)[renewal["id"]]) == 2
    with card_ctx.uow() as uow:
        payment = uow.cards.payment(renewal["id"])
    assert payment is not None and payment.retries == 2
    kinds = [n.kind for n in notices.latest_notices(card_ctx)]
    assert kinds.count("payment_failed") == 2  # one per failed attempt
    assert payment.next_retry_at == datetime(2026, 5, 4, 0, 1, tzinfo=UTC)
    # The owner replaces the card from the Account page and pays the open invoice.
    _save(card_ctx, stripe_server, CARD_OK)
    assert cards.pay_by_card(card_ctx, renewal["id"], OWNER)["status"] == "paid"
    assert _plan(card_ctx) == ("premium", "active")
    check_card_invariants(card_ctx, stripe_server)


def test_an_expired_change_invoice_cancels_its_intent_and_late_money_becomes_credit(
    card_ctx: Context, stripe_server: LocalStripe, clock: FakeClock
) -> None:
    create_site(card_ctx)
    first = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_3DS)
    waiting = cards.pay_by_card(card_ctx, first, OWNER)
    assert waiting["status"] == "requires_action"
    clock.advance(days=2)
    renewals.roll_over(card_ctx)
    assert payments.invoice(card_ctx, first)["status"] == "expired"
    assert [i["status"] for i in intents_by_invoice(stripe_server)[first]] == ["canceled"]
    # A second change whose owner authenticates only after the invoice expired.
    second = _pending_premium(card_ctx)
    late = cards.pay_by_card(card_ctx, second, OWNER)
    assert late["client_secret"]
    clock.advance(days=2)
    stripe_server.authenticate(late["client_secret"].split("_secret_")[0], late["client_secret"])
    renewals.roll_over(card_ctx)
    assert _plan(card_ctx) == ("free", "active")
    view = sites.site_view(card_ctx, 2)["membership"]
    assert view is not None and view["balance"] == "29.00"
    assert "late_payment" in _ledger_kinds(card_ctx)
    check_card_invariants(card_ctx, stripe_server)


def test_stripe_ready_settings_are_kept_out_of_repr(card_ctx: Context) -> None:
    text = repr(card_ctx.settings)
    assert SECRET_KEY not in text and WEBHOOK_SECRET not in text
    assert repr(card_ctx.cards) == "StripeCardGateway(***)"


def test_a_crash_before_the_intent_was_stored_never_charges_twice(
    card_ctx: Context, stripe_server: LocalStripe, clock: FakeClock
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_OK)
    gateway = card_ctx.cards
    assert gateway is not None
    customer = cards.ensure_customer(card_ctx, 2)
    assert customer.card is not None
    # The process claimed the attempt and made its PaymentIntent, then died before storing it.
    with card_ctx.uow() as uow:
        uow.cards.start_payment(invoice_id, False, card_ctx.now())
        uow.commit()
    orphan = gateway.create_intent(
        customer.stripe_customer,
        customer.card.payment_method_id,
        2900,
        "USD",
        invoice_id,
        key=f"bridge-invoice-{invoice_id}-1",
    )
    # While the claim is fresh another request waits rather than make a second intent.
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "processing"
    clock.advance(seconds=61)
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "paid"
    statuses = {i["id"]: i["status"] for i in intents_by_invoice(stripe_server)[invoice_id]}
    assert statuses.pop(orphan.id) == "requires_confirmation"  # never confirmed: no money
    assert list(statuses.values()) == ["succeeded"]
    check_card_invariants(card_ctx, stripe_server)


def test_a_crash_after_the_charge_before_applying_is_settled_by_a_retry_or_the_reconcile(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_OK)
    gateway = card_ctx.cards
    assert gateway is not None
    customer = cards.ensure_customer(card_ctx, 2)
    assert customer.card is not None
    with card_ctx.uow() as uow:
        uow.cards.start_payment(invoice_id, False, card_ctx.now())
        uow.commit()
    intent = gateway.create_intent(
        customer.stripe_customer,
        customer.card.payment_method_id,
        2900,
        "USD",
        invoice_id,
        key=f"bridge-invoice-{invoice_id}-1",
    )
    with card_ctx.uow() as uow:
        uow.cards.set_intent(invoice_id, intent.id, card_ctx.now())
        uow.commit()
    assert gateway.confirm_intent(intent.id, False).status == "succeeded"
    # ... and the process died here: money taken, invoice not applied yet.
    before = intents_by_invoice(stripe_server)[invoice_id]
    assert [i["status"] for i in before] == ["succeeded"]
    assert card_events.reconcile_cards(card_ctx) == 1
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "paid"
    assert _plan(card_ctx) == ("premium", "active")
    assert _ledger_kinds(card_ctx).count("change") <= 1
    assert len(intents_by_invoice(stripe_server)[invoice_id]) == 1
    check_card_invariants(card_ctx, stripe_server)


def test_an_abandoned_3ds_payment_is_replaced_when_the_owner_uses_another_card(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    create_site(card_ctx)
    invoice_id = _pending_premium(card_ctx)
    _save(card_ctx, stripe_server, CARD_3DS)
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "requires_action"
    _save(card_ctx, stripe_server, CARD_OK)  # the owner never finished 3-D Secure
    assert cards.pay_by_card(card_ctx, invoice_id, OWNER)["status"] == "paid"
    statuses = sorted(i["status"] for i in intents_by_invoice(stripe_server)[invoice_id])
    assert statuses == ["canceled", "succeeded"]
    check_card_invariants(card_ctx, stripe_server)


class _StripeDownOnce:
    """The real gateway, except that Stripe does not answer the first confirmation."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.down = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def confirm_intent(self, intent_id: str, off_session: bool) -> Any:
        if self.down:
            self.down = False
            raise GatewayUnavailable("Stripe could not be reached: test")
        return self.real.confirm_intent(intent_id, off_session)


def test_a_renewal_left_half_way_when_stripe_did_not_answer_is_charged_on_a_later_pass(
    card_ctx: Context, stripe_server: LocalStripe, clock: FakeClock
) -> None:
    _paid_premium(card_ctx, stripe_server)
    flaky = replace(card_ctx, cards=_StripeDownOnce(card_ctx.cards))
    clock.set(datetime(2026, 5, 1, 0, 1, tzinfo=UTC))
    renewals.roll_over(flaky)
    assert _plan(flaky) == ("premium", "past_due")
    renewals.roll_over(flaky)  # a minute later: the stored intent is not stale yet
    assert _plan(flaky) == ("premium", "past_due")
    clock.advance(seconds=61)
    renewals.roll_over(flaky)
    assert _plan(flaky) == ("premium", "active")
    (renewal,) = [i for i in operator.ledger_of(flaky, 2)["invoices"] if i["kind"] == "renewal"]
    assert [i["status"] for i in intents_by_invoice(stripe_server)[renewal["id"]]] == ["succeeded"]
    check_card_invariants(flaky, stripe_server)


def test_each_refund_to_the_card_gets_a_credit_note_pointing_to_the_receipt(
    card_ctx: Context, stripe_server: LocalStripe
) -> None:
    invoice_id = _paid_premium(card_ctx, stripe_server)
    with card_ctx.uow() as uow:
        (receipt,) = [r for r in uow.sales_receipts.of_invoice(invoice_id) if r.kind == "receipt"]
    card_events.refund_invoice(card_ctx, invoice_id, 1000, "goodwill", OPERATOR)
    (intent,) = intents_by_invoice(stripe_server)[invoice_id]
    refunded = {"id": "ch_test_2", "object": "charge", "currency": "usd"}
    refunds = [{"id": "re_dashboard_2", "amount": 400}]
    charge = {**refunded, "payment_intent": intent["id"], "refunds": {"data": refunds}}
    assert _deliver(card_ctx, event_of("charge.refunded", charge, "evt_refund_2")) == "recorded"
    with card_ctx.uow() as uow:
        notes = [r for r in uow.sales_receipts.of_invoice(invoice_id) if r.kind == "credit_note"]
    assert sorted(n.total_minor for n in notes) == [400, 1000]
    assert {n.receipt_number for n in notes} == {receipt.number}
    assert {n.reference for n in notes} >= {"re_dashboard_2"}
