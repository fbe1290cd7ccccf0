"""What happens to card payments without the owner: Stripe's webhooks, renewals charged
off-session with retries in the grace period, refunds, disputes and the reconcile pass.

Every path ends in the same idempotent steps (`cards.settle_intent`, `record_refund`), so the
webhook, the browser's return and the reconcile pass may arrive in any order, twice or never:
each invoice is applied once and each refund is one ledger entry (recorded by its Stripe id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypedDict
from uuid import uuid4

from bridge.domain.card_amounts import minor_from_card
from bridge.domain.invoice import Invoice
from bridge.errors import Conflict, Duplicate, NotFound, PaymentGatewayError, Unprocessable
from bridge.services.card_ports import (
    CardGateway,
    DisputeRecord,
    GatewayEvent,
    Refund,
    RefundRequest,
)
from bridge.services.cards import CLAIM_S, gateway_of, pay_by_card, record, settle_intent
from bridge.services.context import Actor, Context
from bridge.services.journal import audit
from bridge.services.notices import note_payment_failed
from bridge.services.receipts import credit_card_refund
from bridge.services.views import InvoiceView, invoice_view

log = logging.getLogger(__name__)

STRIPE = Actor("system", name="stripe")
# How long a refund stored as pending may still be made at Stripe on a retry (Stripe keeps an
# idempotency key for a day); older, and not made, it is dropped.
REFUND_KEPT = timedelta(hours=24)


# -- webhooks ---------------------------------------------------------------------------------


def handle_stripe_event(ctx: Context, payload: bytes, signature: str) -> str:
    """Verify `Stripe-Signature` on the raw body, skip a duplicate event id, dispatch by type."""
    if ctx.cards is None:
        raise NotFound("This bridge takes no cards: its gateway is not stripe.", "no_card_gateway")
    event = ctx.cards.verify_event(payload, signature)
    receipt = f"stripe:{event.id}"
    with ctx.uow() as uow:
        if uow.receipts.seen(receipt):
            return "duplicate"
    handler = _HANDLERS.get(event.type)
    outcome = handler(ctx, event) if handler is not None else "ignored"
    with ctx.uow() as uow:
        try:
            uow.receipts.add(receipt, event.type[:100], outcome[:30], ctx.now())
            uow.commit()
        except Duplicate:
            return "duplicate"
    return outcome


def _succeeded(ctx: Context, event: GatewayEvent) -> str:
    return settle_intent(ctx, gateway_of(ctx).intent_from(event.object), STRIPE)


def _failed(ctx: Context, event: GatewayEvent) -> str:
    intent = gateway_of(ctx).intent_from(event.object)
    if intent.invoice_id is None:
        return "ignored"
    with ctx.uow() as uow:
        payment = uow.cards.payment(intent.invoice_id)
    if payment is None or payment.intent_id != intent.id:
        return "ignored"  # an earlier attempt's intent: the current one says how it stands
    record(ctx, intent.invoice_id, "failed", intent.error_message or "The payment failed.")
    return "recorded"


def _invoice_of_charge(ctx: Context, raw: Mapping[str, Any]) -> str | None:
    intent_id = raw.get("payment_intent")
    if not isinstance(intent_id, str):
        return None
    with ctx.uow() as uow:
        found = uow.cards.invoice_of_intent(intent_id)
    if found is not None:
        return found
    try:
        return gateway_of(ctx).get_intent(intent_id).invoice_id
    except PaymentGatewayError:
        return None


def _refunded(ctx: Context, event: GatewayEvent) -> str:
    charge = event.object
    invoice_id = _invoice_of_charge(ctx, charge)
    if invoice_id is None:
        return "ignored"
    currency = str(charge.get("currency") or "").upper()
    refunds = (charge.get("refunds") or {}).get("data")
    outcomes = []
    if isinstance(refunds, list) and refunds:
        for refund in refunds:
            amount = minor_from_card(int(refund.get("amount") or 0), currency)
            outcomes.append(
                record_refund(ctx, invoice_id, str(refund["id"]), amount, STRIPE, "in Stripe")
            )
    else:  # events without the list: the total refunded so far is the key
        total = minor_from_card(int(charge.get("amount_refunded") or 0), currency)
        with ctx.uow() as uow:
            known = uow.cards.refunded_minor(invoice_id)
        if total > known:
            key = f"{charge.get('id')}:{total}"
            outcomes.append(record_refund(ctx, invoice_id, key, total - known, STRIPE, "in Stripe"))
    return "recorded" if "recorded" in outcomes else "duplicate"


def _disputed(ctx: Context, event: GatewayEvent) -> str:
    raw = event.object
    invoice_id = _invoice_of_charge(ctx, raw)
    currency = str(raw.get("currency") or "").upper()
    membership_id = None
    try:
        with ctx.uow() as uow:
            if invoice_id is not None:
                found = uow.invoices.get(invoice_id)
                membership_id = found.membership_id if found is not None else None
            added = uow.cards.add_dispute(
                DisputeRecord(
                    id=str(raw["id"]),
                    invoice_id=invoice_id,
                    membership_id=membership_id,
                    charge_id=raw.get("charge") if isinstance(raw.get("charge"), str) else None,
                    amount_minor=minor_from_card(int(raw.get("amount") or 0), currency),
                    currency=currency,
                    reason=str(raw.get("reason") or "unknown")[:100],
                    status=str(raw.get("status") or "needs_response")[:40],
                    created_at=ctx.now(),
                )
            )
            if not added:
                return "duplicate"
            audit(ctx, uow, STRIPE, "dispute.created", f"invoice:{invoice_id}", {"id": raw["id"]})
            uow.commit()
    except Duplicate:
        return "duplicate"
    return "recorded"


_HANDLERS: dict[str, Callable[[Context, GatewayEvent], str]] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
}


# -- refunds ----------------------------------------------------------------------------------


class RefundView(TypedDict):
    refund_id: str
    amount_minor: int
    refunded_minor: int
    invoice: InvoiceView


def record_refund(
    ctx: Context, invoice_id: str, refund_id: str, amount_minor: int, actor: Actor, where: str
) -> str:
    """A refund to the card is one ledger entry (the balance does not move), once per refund."""
    try:
        return _record_refund(ctx, invoice_id, refund_id, amount_minor, actor, where)
    except Duplicate:  # the same refund recorded at the same moment by another path
        return "duplicate"


def _record_refund(
    ctx: Context, invoice_id: str, refund_id: str, amount_minor: int, actor: Actor, where: str
) -> str:
    with ctx.uow() as uow:
        found = uow.invoices.get(invoice_id)
        if found is None:
            return "ignored"
        if not uow.cards.add_refund(refund_id, invoice_id, amount_minor, ctx.now()):
            return "duplicate"
        m = uow.memberships.get(found.membership_id)
        uow.ledger.add(
            found.membership_id,
            "card_refund",
            -amount_minor,
            found.currency,
            m.balance_minor,
            f"Invoice {found.number}: refunded to the card {where} ({refund_id})",
            actor.label,
            ctx.now(),
            invoice_id,
        )
        audit(ctx, uow, actor, "invoice.refund", f"invoice:{invoice_id}", {"refund": refund_id})
        # The accountant's side of the same refund, in the same transaction: a credit note.
        credit_card_refund(ctx, uow, invoice_id, amount_minor, refund_id, actor)
        uow.commit()
    return "recorded"


def refund_invoice(
    ctx: Context, invoice_id: str, amount_minor: int | None, reason: str, actor: Actor
) -> RefundView:
    """Operator: refund a paid card invoice, whole or part; the membership is unchanged (§7).

    The refund is stored as pending, with its key, in its own transaction before Stripe is
    asked. A retry after a crash or a failed call finds it and asks Stripe for the refund made
    with that key before making one (Stripe's idempotency key alone is not relied on: it is
    forgotten after a day, and localstripe ignores it); recording the refund marks it done. A
    retry asking another amount still only finishes the interrupted refund (409); a pending
    refund Stripe never made is dropped after REFUND_KEPT instead of being made late."""
    cards = gateway_of(ctx)
    found, intent_id, request, retry = _refund_request(ctx, invoice_id, amount_minor)
    refund = _complete(ctx, cards, request, intent_id, found.currency, retry, actor)
    if refund is None:  # an old pending refund Stripe never made: dropped; this one is new
        found, intent_id, request, retry = _refund_request(ctx, invoice_id, amount_minor)
        refund = _complete(ctx, cards, request, intent_id, found.currency, retry, actor)
        assert refund is not None
    if amount_minor is not None and amount_minor != request.amount_minor:
        raise Conflict(
            f"An interrupted refund of {request.amount_minor} minor units of invoice "
            f"{found.number} was finished now ({refund.id}); nothing else was refunded. "
            "Check what is left before refunding more.",
            "earlier_refund_finished",
        )
    with ctx.uow() as uow:
        audit(ctx, uow, actor, "invoice.refund.reason", f"invoice:{invoice_id}", {"reason": reason})
        uow.commit()
        after = uow.cards.refunded_minor(invoice_id)
        paid = uow.invoices.get(invoice_id)
    assert paid is not None
    return {
        "refund_id": refund.id,
        "amount_minor": refund.amount_minor,
        "refunded_minor": after,
        "invoice": invoice_view(paid),
    }


def _refund_request(
    ctx: Context, invoice_id: str, amount_minor: int | None
) -> tuple[Invoice, str, RefundRequest, bool]:
    """The invoice's pending refund (a retry), or a new one stored before Stripe is asked:
    (invoice, its PaymentIntent, the request, whether it is a retry)."""
    with ctx.uow() as uow:
        found = uow.invoices.get(invoice_id, lock=True)
        payment = uow.cards.payment(invoice_id)
        if found is None:
            raise NotFound("There is no such invoice.", "invoice_not_found")
        if found.status != "paid" or payment is None or payment.status != "succeeded":
            raise Unprocessable(
                f"Invoice {found.number} was not paid by card; record a refund on the balance "
                "instead.",
                "not_paid_by_card",
            )
        assert payment.intent_id is not None
        pending = uow.cards.pending_refund(invoice_id)
        if pending is not None:
            return found, payment.intent_id, pending, True
        remaining = found.amount_due_minor - uow.cards.refunded_minor(invoice_id)
        amount = remaining if amount_minor is None else amount_minor
        if amount <= 0 or amount > remaining:
            raise Unprocessable(
                f"At most {remaining} minor units of invoice {found.number} can still be refunded.",
                "refund_too_large",
            )
        key = f"bridge-refund-{uuid4().hex}"
        uow.cards.start_refund(key, invoice_id, amount, ctx.now())
        uow.commit()
    return (
        found,
        payment.intent_id,
        RefundRequest(key, invoice_id, amount, "pending", None, ctx.now()),
        False,
    )


def _complete(
    ctx: Context,
    cards: CardGateway,
    request: RefundRequest,
    intent_id: str,
    currency: str,
    retry: bool,
    actor: Actor,
) -> Refund | None:
    """Make (or, on a retry, find) the stored refund at Stripe, record it, mark it done. A
    pending refund older than REFUND_KEPT that Stripe never made is dropped (None), not made
    late: the operator asking now may no longer mean it."""
    made = cards.find_refund(intent_id, currency, request.key) if retry else None
    if made is None and retry and request.created_at <= ctx.now() - REFUND_KEPT:
        _finish_request(ctx, request.key, "abandoned", None)
        return None
    if made is None:
        try:
            made = cards.refund(intent_id, request.amount_minor, currency, request.key)
        except PaymentGatewayError as exc:
            if not exc.retryable:  # Stripe refused: it made no refund, the request is over
                _finish_request(ctx, request.key, "failed", None)
            raise
    where = f"by {actor.label}"
    record_refund(ctx, request.invoice_id, made.id, made.amount_minor, actor, where)
    _finish_request(ctx, request.key, "done", made.id)
    return made


def _finish_request(ctx: Context, key: str, status: str, refund_id: str | None) -> None:
    with ctx.uow() as uow:
        uow.cards.finish_refund(key, status, refund_id, ctx.now())
        uow.commit()


# -- renewals and the reconcile pass -------------------------------------------------------------


def charge_renewals(ctx: Context, at: datetime) -> int:
    """Charge open renewal invoices off-session on the saved card: once at the roll-over, then
    on the retry days (`stripe.retry_days`, counted from the invoice) inside the grace period."""
    if ctx.cards is None:
        return 0
    with ctx.uow() as uow:
        due = uow.cards.renewals_due(at, ctx.now() - timedelta(seconds=CLAIM_S))
    charged = 0
    for invoice_id, retries, created_at in due:
        try:
            outcome = pay_by_card(ctx, invoice_id, STRIPE, off_session=True)
        except PaymentGatewayError as exc:
            log.info("renewal not charged", extra={"invoice": invoice_id, "error": exc.code})
            continue
        charged += outcome["status"] == "paid"
        if outcome["status"] in ("declined", "requires_action"):
            _schedule_retry(ctx, invoice_id, retries, created_at, outcome["message"])
    return charged


def _schedule_retry(
    ctx: Context, invoice_id: str, retries: int, created_at: datetime, message: str | None
) -> None:
    days = ctx.settings.stripe.retry_days
    next_at = created_at + timedelta(days=days[retries]) if retries < len(days) else None
    with ctx.uow() as uow:
        uow.cards.set_outcome(
            invoice_id,
            "failed",
            message or "The card needs the owner: authentication required.",
            ctx.now(),
            next_retry_at=next_at,
            retries=retries + 1,
        )
        note_payment_failed(ctx, uow, invoice_id, retries + 1, next_at)
        uow.commit()


def reconcile_cards(ctx: Context) -> int:
    """Ask Stripe about every open invoice with a live PaymentIntent: settle what succeeded (a
    lost webhook), note what failed; then `cancel_closed_intents`. The number settled."""
    if ctx.cards is None:
        return 0
    cards = ctx.cards
    settled = 0
    with ctx.uow() as uow:
        open_ones = uow.cards.unsettled(("open",))
    for payment in open_ones:
        assert payment.intent_id is not None
        try:
            intent = cards.get_intent(payment.intent_id)
        except PaymentGatewayError:
            continue
        if intent.status == "succeeded":
            settled += settle_intent(ctx, intent, STRIPE) in ("paid", "credited")
        elif intent.status == "requires_payment_method" and payment.status != "failed":
            record(ctx, payment.invoice_id, "failed", intent.error_message)
    return settled + cancel_closed_intents(ctx)


def cancel_closed_intents(ctx: Context) -> int:
    """Cancel the PaymentIntents of expired or void invoices; money that came anyway is settled
    (credited: a valid payment is never refused or lost). The number settled."""
    if ctx.cards is None:
        return 0
    cards = ctx.cards
    settled = 0
    with ctx.uow() as uow:
        closed = uow.cards.unsettled(("expired", "void"))
    for payment in closed:
        assert payment.intent_id is not None
        try:
            intent = cards.get_intent(payment.intent_id)
            if intent.status not in ("succeeded", "canceled"):
                intent = cards.cancel_intent(intent.id)
        except PaymentGatewayError:
            intent = cards.get_intent(payment.intent_id)
        if intent.status == "succeeded":  # the money came anyway: never refused or lost
            settled += settle_intent(ctx, intent, STRIPE) in ("paid", "credited")
        elif intent.status == "canceled":
            with ctx.uow() as uow:
                uow.cards.set_outcome(payment.invoice_id, "canceled", None, ctx.now())
                uow.commit()
    return settled


def disputes(ctx: Context, offset: int, limit: int) -> tuple[list[DisputeRecord], int]:
    """Disputes Stripe reported, newest first, for the operator."""
    with ctx.uow() as uow:
        return uow.cards.disputes(offset, limit)
