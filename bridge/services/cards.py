"""Paying an invoice by card (gateway `stripe`): save a card once, then one PaymentIntent per invoice.

The order of every payment, so that a crash or a retry never charges twice:
1. in a transaction, the invoice's payment record is created (or its next attempt begun) *before*
   Stripe is called; its attempt number makes the idempotency key;
2. outside any transaction, the PaymentIntent is created (unconfirmed: no money moves yet);
3. in a transaction, its id is stored on the record;
4. outside any transaction, it is confirmed;
5. in a transaction, the outcome is settled (`settle_intent`): a success pays the invoice through
   `payments.settle`, which applies it once, or credits the money when it no longer applies.
A retry finds the stored PaymentIntent and asks Stripe about it before doing anything else; a
crash between 2 and 3 leaves at most an unconfirmed PaymentIntent, which never takes money. A
declined intent is cancelled before the next attempt makes another, so an invoice never has two
live ones. The browser's return, the webhook and the reconcile pass all end in `settle_intent`,
which is idempotent: whichever comes first applies the invoice, the others find it paid.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TypedDict

from bridge.errors import (
    CardDeclined,
    Duplicate,
    GatewayUnavailable,
    InvoiceClosed,
    NoMembership,
    NotFound,
    PaymentGatewayError,
)
from bridge.services.card_ports import CardCustomer, CardGateway, CardPayment, Intent
from bridge.services.context import SYSTEM, Actor, Context
from bridge.services.journal import audit, ledger
from bridge.services.limits import live_site, membership_of, save_membership
from bridge.services.notices import note_credited
from bridge.services.payments import settle
from bridge.services.ports import UnitOfWork
from bridge.services.views import InvoiceView, invoice_view

# Intent statuses after which nothing more happens to it.
FINAL = ("succeeded", "canceled")
_NO_CARD = "No card is saved yet; add a card to pay."
_UNDER_WAY = "A payment of this invoice is under way; look again in a moment."
CLAIM_S = 60


class CardOutcome(TypedDict):
    status: str  # paid | requires_action | declined | processing
    message: str | None
    client_secret: str | None
    invoice: InvoiceView


class CardSetup(TypedDict):
    client_secret: str
    setup_id: str


def gateway_of(ctx: Context) -> CardGateway:
    """The card gateway, or a refusal when this bridge takes no cards."""
    if ctx.cards is None:
        raise InvoiceClosed("This network does not take cards.", "no_card_gateway")
    return ctx.cards


def _customer_of_site(ctx: Context, site_id: int) -> tuple[int, str | None, CardCustomer | None]:
    with ctx.uow() as uow:
        site = live_site(uow, site_id)
        membership_id, _m = membership_of(uow, site)
        customer_id = uow.cards.customer_id_of(membership_id)
        if customer_id is None:
            raise NotFound("This site's membership has no owner to keep a card for.", "no_owner")
        return customer_id, site.owner_email, uow.cards.customer(customer_id)


def ensure_customer(ctx: Context, site_id: int) -> CardCustomer:
    """The one Stripe customer of the site's owner, made on first use."""
    customer_id, email, found = _customer_of_site(ctx, site_id)
    if found is not None:
        return found
    stripe_customer = gateway_of(ctx).create_customer(email, customer_id)
    try:
        with ctx.uow() as uow:
            if uow.cards.customer(customer_id) is None:
                uow.cards.add_customer(customer_id, stripe_customer, ctx.now())
                uow.commit()
    except Duplicate:
        pass  # a concurrent first use stored its customer first: that one is kept
    with ctx.uow() as uow:
        made = uow.cards.customer(customer_id)
    assert made is not None
    return made


def saved_card(ctx: Context, site_id: int) -> CardCustomer | None:
    """The owner's Stripe customer and saved card, if any (no call to Stripe)."""
    if ctx.cards is None:
        return None
    try:
        return _customer_of_site(ctx, site_id)[2]
    except NotFound:
        return None


def start_card_setup(ctx: Context, site_id: int) -> CardSetup:
    """A SetupIntent for the owner's customer; Stripe.js confirms it with the card element."""
    customer = ensure_customer(ctx, site_id)
    setup = gateway_of(ctx).create_setup(customer.stripe_customer)
    assert setup.client_secret is not None
    return {"client_secret": setup.client_secret, "setup_id": setup.id}


def save_card(ctx: Context, site_id: int, setup_id: str, actor: Actor) -> CardCustomer:
    """Keep the card of a SetupIntent the browser confirmed; it must be this owner's."""
    customer = ensure_customer(ctx, site_id)
    setup = gateway_of(ctx).get_setup(setup_id)
    if setup.customer != customer.stripe_customer:
        raise NotFound("There is no such card setup.", "setup_not_found")
    if setup.status != "succeeded" or setup.card is None:
        raise CardDeclined(setup.error_message or "The card could not be saved.", "card_declined")
    with ctx.uow() as uow:
        uow.cards.save_card(customer.customer_id, setup.card, ctx.now())
        audit(
            ctx,
            uow,
            actor,
            "card.save",
            f"customer:{customer.customer_id}",
            {"brand": setup.card.brand, "last4": setup.card.last4},
        )
        uow.commit()
    return CardCustomer(customer.customer_id, customer.stripe_customer, setup.card)


def _outcome(
    ctx: Context, invoice_id: str, status: str, intent: Intent | None, message: str | None = None
) -> CardOutcome:
    with ctx.uow() as uow:
        found = uow.invoices.get(invoice_id)
    assert found is not None
    return {
        "status": status,
        "message": message,
        "client_secret": intent.client_secret if intent and status == "requires_action" else None,
        "invoice": invoice_view(found),
    }


def pay_by_card(
    ctx: Context, invoice_id: str, actor: Actor, *, off_session: bool = False
) -> CardOutcome:
    """Charge an open invoice on the saved card, once (see the module docstring)."""
    cards = gateway_of(ctx)
    with ctx.uow() as uow:
        found = uow.invoices.get(invoice_id, lock=True)
        if found is None:
            raise NotFound("There is no such invoice.", "invoice_not_found")
        paid_already = found.status == "paid"
        if not paid_already and (found.status != "open" or not found.payable(ctx.now())):
            raise InvoiceClosed(
                f"Invoice {found.number} can no longer be paid.", f"invoice_{found.status}"
            )
        customer_id = uow.cards.customer_id_of(found.membership_id)
        customer = uow.cards.customer(customer_id) if customer_id is not None else None
        payment = uow.cards.payment(invoice_id, lock=True)
        busy = False
        if not paid_already:
            if customer is None or customer.card is None:
                raise CardDeclined(_NO_CARD, "no_card")
            if payment is None or payment.intent_id is None:
                busy = _creating(ctx, payment)
                if not busy:  # this request makes the PaymentIntent; others wait for it
                    payment = uow.cards.start_payment(invoice_id, off_session, ctx.now())
                    uow.commit()
    if paid_already:
        return _outcome(ctx, invoice_id, "paid", None)
    if busy:
        return _outcome(ctx, invoice_id, "processing", None, _UNDER_WAY)
    assert customer is not None and customer.card is not None and payment is not None
    intent: Intent | None = None
    if payment.intent_id is not None:
        intent = cards.get_intent(payment.intent_id)
        same_card = intent.payment_method == customer.card.payment_method_id
        if intent.status in ("succeeded", "processing") or (
            intent.status == "requires_action" and same_card
        ):
            return _after(ctx, intent, actor)
        if intent.status == "requires_confirmation" and same_card:
            pass  # stored but never confirmed (a crash after step 3): confirm it now
        else:
            replaced = intent.id
            intent = _replace(cards, intent)
            if intent is not None and intent.status == "succeeded":
                return _after(ctx, intent, actor)
            intent = None
            with ctx.uow() as uow:
                current = uow.cards.payment(invoice_id, lock=True)
                if current is None or current.intent_id != replaced:
                    busy = True  # a concurrent request replaced it first
                else:
                    payment = uow.cards.start_payment(invoice_id, off_session, ctx.now())
                    uow.commit()
            if busy:
                return _outcome(ctx, invoice_id, "processing", None, _UNDER_WAY)
    if intent is None:
        intent = cards.create_intent(
            customer.stripe_customer,
            customer.card.payment_method_id,
            found.amount_due_minor,
            found.currency,
            invoice_id,
            key=f"bridge-invoice-{invoice_id}-{payment.attempt}",
        )
        with ctx.uow() as uow:
            uow.cards.set_intent(invoice_id, intent.id, ctx.now())
            uow.cards.set_outcome(invoice_id, "created", None, ctx.now(), payment.next_retry_at)
            uow.commit()
    try:
        intent = cards.confirm_intent(intent.id, off_session)
    except GatewayUnavailable:
        raise  # stored as `created`: the next call (or the renewals' pass) confirms it
    except PaymentGatewayError:
        # Refused (not a decline): a concurrent request may have confirmed it; ask Stripe.
        intent = cards.get_intent(intent.id)
    return _after(ctx, intent, actor)


def _creating(ctx: Context, payment: CardPayment | None) -> bool:
    """Whether another request is making this invoice's PaymentIntent right now. A claim older
    than `CLAIM_S` is from a process that died: the next attempt (a new idempotency key) takes
    over; whatever the dead one made was never confirmed, so it never takes money."""
    return (
        payment is not None
        and payment.status == "creating"
        and payment.updated_at > ctx.now() - timedelta(seconds=CLAIM_S)
    )


def _replace(cards: CardGateway, intent: Intent) -> Intent | None:
    """Cancel an intent that cannot be used again (declined, or another card) before a new one;
    when Stripe says it succeeded meanwhile, that is the outcome instead."""
    if intent.status == "canceled":
        return None
    try:
        return cards.cancel_intent(intent.id)
    except PaymentGatewayError:
        current = cards.get_intent(intent.id)
        if current.status == "succeeded":
            return current
        raise


def _after(ctx: Context, intent: Intent, actor: Actor) -> CardOutcome:
    """What the owner sees after a confirmation, the outcome stored and settled."""
    assert intent.invoice_id is not None
    if intent.status == "succeeded":
        settle_intent(ctx, intent, actor)
        return _outcome(ctx, intent.invoice_id, "paid", intent)
    if intent.status == "requires_action":
        record(ctx, intent.invoice_id, "requires_action", None)
        return _outcome(ctx, intent.invoice_id, "requires_action", intent)
    if intent.status == "requires_confirmation":  # another request is confirming it
        return _outcome(ctx, intent.invoice_id, "processing", intent, _UNDER_WAY)
    if intent.status == "processing":
        record(ctx, intent.invoice_id, "processing", None)
        return _outcome(ctx, intent.invoice_id, "processing", intent)
    message = intent.error_message or "Your card was declined."
    record(ctx, intent.invoice_id, "failed", message)
    return _outcome(ctx, intent.invoice_id, "declined", intent, message)


def record(ctx: Context, invoice_id: str, status: str, error: str | None) -> None:
    """Note how the invoice's current payment went (retries are the renewals' business)."""
    with ctx.uow() as uow:
        current = uow.cards.payment(invoice_id, lock=True)
        if current is None or current.status == "succeeded":
            return
        uow.cards.set_outcome(
            invoice_id, status, error, ctx.now(), current.next_retry_at, current.retries
        )
        uow.commit()


def settle_intent(ctx: Context, intent: Intent, actor: Actor = SYSTEM) -> str:
    """A succeeded PaymentIntent pays its invoice once; a valid payment is never refused or lost.

    Returns the outcome: paid, already_paid, credited, refused (wrong amount or currency: recorded
    in the audit log), or unknown (no invoice of ours).
    """
    if intent.status != "succeeded" or intent.invoice_id is None:
        return "unknown"
    with ctx.uow() as uow:
        found = uow.invoices.get(intent.invoice_id, lock=True)
        if found is None:
            return "unknown"
        if intent.currency != found.currency or intent.amount_minor != found.amount_due_minor:
            audit(
                ctx,
                uow,
                actor,
                "card.refused",
                f"invoice:{found.id}",
                {
                    "intent": intent.id,
                    "amount_minor": intent.amount_minor,
                    "currency": intent.currency,
                },
            )
            uow.commit()
            return "refused"
        if found.status == "paid" and found.reference not in (None, intent.id):
            outcome = _credit_second_payment(ctx, uow, found.id, found.membership_id, intent, actor)
        else:
            outcome, _paid = settle(ctx, uow, found, intent.id, actor)
        uow.cards.set_outcome(found.id, "succeeded", None, ctx.now())
        uow.commit()
    return outcome


def _credit_second_payment(
    ctx: Context, uow: UnitOfWork, invoice_id: str, membership_id: int, intent: Intent, actor: Actor
) -> str:
    """An invoice paid already, paid again by another PaymentIntent: the money is credit."""
    m = uow.memberships.get(membership_id, lock=True)
    after = replace(m, balance_minor=m.balance_minor + intent.amount_minor, version=m.version + 1)
    note_credited(ctx, uow, membership_id, m, save_membership(ctx, uow, membership_id, m, after))
    ledger(
        ctx,
        uow,
        membership_id,
        after,
        "late_payment",
        intent.amount_minor,
        f"Card payment {intent.id} for an invoice paid already; credited to the balance",
        actor,
        invoice_id,
    )
    audit(ctx, uow, actor, "invoice.credited", f"invoice:{invoice_id}", {"intent": intent.id})
    return "credited"


def return_from_browser(ctx: Context, invoice_id: str, actor: Actor) -> CardOutcome:
    """The browser is back from Stripe.js (3-D Secure): ask Stripe how the payment stands."""
    with ctx.uow() as uow:
        payment = uow.cards.payment(invoice_id)
    if payment is None or payment.intent_id is None:
        return _outcome(ctx, invoice_id, "declined", None, _NO_CARD)
    return _after(ctx, gateway_of(ctx).get_intent(payment.intent_id), actor)


class PayPage(TypedDict):
    invoice: InvoiceView
    card_brand: str | None
    card_last4: str | None
    last_error: str | None


def pay_page(ctx: Context, site_id: int, invoice_id: str) -> PayPage:
    """An invoice of the site's membership, with the saved card and the last attempt's error."""
    with ctx.uow() as uow:
        membership_id, _m = membership_of(uow, live_site(uow, site_id))
        found = uow.invoices.get(invoice_id)
        if found is None or found.membership_id != membership_id:
            raise NotFound("There is no such invoice.", "invoice_not_found")
        customer_id = uow.cards.customer_id_of(membership_id)
        customer = uow.cards.customer(customer_id) if customer_id is not None else None
        payment = uow.cards.payment(invoice_id)
    card = customer.card if customer is not None else None
    return {
        "invoice": invoice_view(found),
        "card_brand": card.brand if card else None,
        "card_last4": card.last4 if card else None,
        "last_error": payment.last_error if payment is not None else None,
    }


def open_renewal(ctx: Context, site_id: int) -> str | None:
    """The id of the site's unpaid renewal invoice (a `past_due` membership has one), if any."""
    with ctx.uow() as uow:
        try:
            membership_id, m = membership_of(uow, live_site(uow, site_id))
        except (NotFound, NoMembership):
            return None
        if m.status != "past_due":
            return None
        found = uow.invoices.open_of(membership_id, "renewal")
    return found[0].id if found else None
