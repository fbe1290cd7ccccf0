"""Paying an invoice by card (gateway `stripe`): the Pay page and the four calls of its script.

The page mounts Stripe.js's card element. Its script asks `…/setup` for a SetupIntent, confirms
it in the browser (`confirmCardSetup`), then posts the SetupIntent to `…/card`, which saves the
card and charges the invoice on it; `…/charge` charges the card saved before. When the bank asks
for 3-D Secure the answer carries the PaymentIntent's client secret: the script completes it
with `confirmCardPayment` and posts `…/return`, which asks Stripe how the payment stands. Every
call answers JSON `{status, message, next}`; `next` is the confirmation page once paid. The
page's content security policy allows exactly the configured Stripe.js origin (and the API's,
which Stripe.js talks to), nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Response, jsonify, render_template, request, url_for

from bridge.api.checkout.pages.plumbing import (
    Page,
    actor,
    blueprint,
    done_url,
    load,
    session_for,
    setting,
)
from bridge.api.state import state
from bridge.errors import BridgeError, CardDeclined
from bridge.services import cards
from bridge.services.cards import CardOutcome
from bridge.services.context import Actor, Context


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Stripe's own Stripe.js shows 3-D Secure challenges in frames from this origin too (Stripe's
# content security policy guide); a stand-in at another address needs nothing more.
_STRIPE_JS_FRAMES = {"https://js.stripe.com": "https://hooks.stripe.com"}


def card_csp() -> str:
    """The Pay page's policy: the checkout itself plus exactly the Stripe.js origin (and the
    API's, which Stripe.js calls)."""
    stripe = setting("stripe")
    js = _origin(str(stripe.js_url))
    api = _origin(str(stripe.api_base))
    connect = " ".join(dict.fromkeys(["'self'", js, api]))
    frames = " ".join(filter(None, [js, _STRIPE_JS_FRAMES.get(js)]))
    return (
        f"default-src 'self'; script-src 'self' {js}; frame-src {frames}; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'"
    )


def _answer(site_id: int, outcome: CardOutcome) -> Response:
    invoice = outcome["invoice"]
    done = None
    if outcome["status"] == "paid":
        done = done_url(site_id, "applied", str(invoice["number"]))
    return jsonify(
        status=outcome["status"],
        message=outcome["message"],
        client_secret=outcome["client_secret"],
        next=done,
    )


def _refusal(error: BridgeError) -> Response:
    response = jsonify(status="declined", message=error.message)
    response.status_code = 402 if isinstance(error, CardDeclined) else 409
    return response


@blueprint.get("/sites/<int:site_id>/pay/<invoice_id>")
def pay(site_id: int, invoice_id: str) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    page = cards.pay_page(state().ctx, site_id, invoice_id)
    invoice = page["invoice"]
    if invoice["status"] == "paid":
        title = h.gettext("Invoice %(number)s is paid") % {"number": invoice["number"]}
    else:
        title = h.gettext("Pay invoice %(number)s") % {"number": invoice["number"]}
    body = render_template(
        "checkout/pay.html",
        h=h,
        _=h.gettext,
        site=site,
        session=session,
        title=title,
        invoice=invoice,
        amount=h.money(invoice["amount_due"], invoice["currency"]),
        page=page,
        publishable_key=setting("stripe_publishable_key"),
        stripe_js=setting("stripe").js_url,
        urls={
            "setup": url_for("checkout.pay_setup", site_id=site_id, invoice_id=invoice_id),
            "card": url_for("checkout.pay_card", site_id=site_id, invoice_id=invoice_id),
            "charge": url_for("checkout.pay_charge", site_id=site_id, invoice_id=invoice_id),
            "return": url_for("checkout.pay_return", site_id=site_id, invoice_id=invoice_id),
        },
        return_url=url_for("checkout.back", site_id=site_id, result="pending"),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = card_csp()
    return response


@blueprint.post("/sites/<int:site_id>/pay/<invoice_id>/setup")
def pay_setup(site_id: int, invoice_id: str) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    cards.pay_page(state().ctx, site_id, invoice_id)  # the invoice is this site's
    try:
        setup = cards.start_card_setup(state().ctx, site_id)
    except BridgeError as exc:
        return _refusal(exc)
    return jsonify(client_secret=setup["client_secret"], setup_id=setup["setup_id"])


def _pay_step(site_id: int, invoice_id: str, step: Callable[[Context, Actor], CardOutcome]) -> Page:
    """One step of paying `invoice_id` for the session's site: the page's own checks first (the
    invoice is this site's and open), then `step`; its outcome or refusal as the answer."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    ctx = state().ctx
    cards.pay_page(ctx, site_id, invoice_id)
    try:
        outcome = step(ctx, actor(session))
    except BridgeError as exc:
        return _refusal(exc)
    return _answer(site_id, outcome)


@blueprint.post("/sites/<int:site_id>/pay/<invoice_id>/card")
def pay_card(site_id: int, invoice_id: str) -> Page:
    def save_and_pay(ctx: Context, who: Actor) -> CardOutcome:
        cards.save_card(ctx, site_id, request.form.get("setup_id", ""), who)
        return cards.pay_by_card(ctx, invoice_id, who)

    return _pay_step(site_id, invoice_id, save_and_pay)


@blueprint.post("/sites/<int:site_id>/pay/<invoice_id>/charge")
def pay_charge(site_id: int, invoice_id: str) -> Page:
    return _pay_step(site_id, invoice_id, lambda ctx, who: cards.pay_by_card(ctx, invoice_id, who))


@blueprint.post("/sites/<int:site_id>/pay/<invoice_id>/return")
def pay_return(site_id: int, invoice_id: str) -> Page:
    return _pay_step(
        site_id, invoice_id, lambda ctx, who: cards.return_from_browser(ctx, invoice_id, who)
    )
