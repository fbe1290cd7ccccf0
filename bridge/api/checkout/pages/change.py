"""The Change page: pick a plan and add-ons, see the order summary, confirm.

`GET /checkout/sites/<id>` shows what the site has now; `POST` the same URL re-quotes the posted
choice ("Update summary" without JavaScript) or, with `do=confirm`, hands over to the
confirmation when the summary the owner saw is still the one for their choice;
`POST …/summary` gives the page's script the summary and add-ons as HTML fragments.
"""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for

from bridge.api.checkout.pages import confirm
from bridge.api.checkout.pages.billing import save_posted
from bridge.api.checkout.pages.choice import (
    current_choice,
    offer_for,
    page_context,
    posted_choice_and_offer,
    quote_summary,
    render_change_page,
)
from bridge.api.checkout.pages.plumbing import (
    Page,
    blueprint,
    codec,
    gateway,
    load,
    session_for,
)
from bridge.api.state import state
from bridge.services.cards import open_renewal


@blueprint.get("/sites/<int:site_id>")
def change(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    if gateway() == "stripe" and (renewal := open_renewal(state().ctx, site_id)) is not None:
        # Past due: the open renewal invoice is paid first (billing-rules §4, payment_due).
        return redirect(url_for("checkout.pay", site_id=site_id, invoice_id=renewal), 303)
    choice = current_choice(site)
    offer = offer_for(site_id, site, choice, h)
    notice = None
    if request.args.get("billing") == "saved":
        notice = h.gettext("Your billing address was saved.")
    if request.args.get("outdated"):
        notice = h.gettext(
            "That page was from an earlier checkout, so nothing was changed. "
            "Here is the page as it is now."
        )
    return render_change_page(h, session, site, offer, choice, notice)


@blueprint.post("/sites/<int:site_id>")
def change_submit(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    choice, offer = posted_choice_and_offer(site_id, site, h)
    notice = None
    if request.form.get("do") == "confirm":
        quote_id = codec().unbind_quote(session, request.form.get("quote", ""))
        if quote_id is not None and request.form.get("shown") == choice.fingerprint:
            refused = save_posted(h, site_id)  # the receipt of this payment names the buyer
            if refused is not None:
                return render_change_page(h, session, site, offer, choice, refused), 400
            return confirm.commit(h, session, site, offer, choice, quote_id)
        notice = h.gettext("The summary now shows your latest choice. Check it and confirm again.")
    return render_change_page(h, session, site, offer, choice, notice)


@blueprint.post("/sites/<int:site_id>/summary")
def summary_fragment(site_id: int) -> Page:
    """For the page's script: the summary (and the add-ons of the picked plan) as HTML."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    choice, offer = posted_choice_and_offer(site_id, site, h)
    summary, refusal = quote_summary(h, session, site, offer, choice)
    context = page_context(h, session, site, offer, choice, summary, refusal)
    return jsonify(
        summary=render_template("checkout/_summary.html", **context),
        addons=render_template("checkout/_addons.html", **context),
        addons_for=choice.plan,
        title=f"{context['title']} · {site.name}",
        invalid={
            f"addon-{pid}": h.gettext("Enter a whole number from 0 to 999.")
            for pid in choice.invalid
        },
        ends_at=context["ends_at"],
    )
