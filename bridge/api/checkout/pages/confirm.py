"""After "Confirm": commit the quote, then wait for payment or for the site's new limits.

`commit` runs inside the Change page's POST (see change.py): a refused commit shows the Change
page again with the new amounts (409). A commit waiting for its invoice goes to the Pending page;
an applied or scheduled one to the Finish page, which waits a little for the site to confirm its
new limits ("Applying…") and then returns to WordPress with the result.
"""

from __future__ import annotations

import time

from flask import redirect, render_template, request, url_for

from bridge.api.checkout.facade import Offer, SiteState
from bridge.api.checkout.i18n import Habits
from bridge.api.checkout.pages.choice import Choice, render_change_page
from bridge.api.checkout.pages.plumbing import (
    APPLY_WAIT_S,
    INVALID_LINK,
    RESULTS,
    Page,
    actor,
    blueprint,
    core,
    end_session,
    finish_url,
    load,
    session_for,
    with_result,
)
from bridge.api.checkout.session import CheckoutSession
from bridge.errors import BridgeError, CatalogChanged, InvalidRequest, PendingChange

POLL_IN_REQUEST_S = 1.0


def _conflict_sentence(h: Habits, exc: BridgeError) -> str:
    if isinstance(exc, PendingChange):
        return h.gettext(
            "An earlier change is still waiting for its payment. "
            "You can make another change once it is paid or has expired."
        )
    if isinstance(exc, CatalogChanged):
        return h.gettext("The prices changed while you were looking. Check the new amounts.")
    return h.gettext("Your membership changed while you were looking. Check the new amounts.")


def commit(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
    quote_id: str,
) -> Page:
    """Commit the quote the owner confirmed; on refusal, the Change page again with a notice."""
    try:
        outcome = core().commit_quote(quote_id, actor(session), site_id=site.site_id)
    except BridgeError as exc:
        notice = _conflict_sentence(h, exc)
        return render_change_page(h, session, site, offer, choice, notice), 409
    status = str(outcome.get("status"))
    if status == "pending_payment":
        invoice = outcome.get("invoice") or {}
        number = str(invoice.get("number") or invoice.get("id") or "")
        return redirect(url_for("checkout.pending", site_id=site.site_id, invoice=number), 303)
    result = "scheduled" if status == "scheduled" else "applied"
    return redirect(finish_url(site.site_id, result), 303)


@blueprint.get("/sites/<int:site_id>/pending")
def pending(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    return render_template(
        "checkout/pending.html",
        h=h,
        _=h.gettext,
        site=site,
        invoice=request.args.get("invoice", ""),
        return_url=with_result(session.return_url, "pending"),
    )


def _until(text: str) -> float:
    """The Unix time to wait for the limits until: never later than a fresh wait would end."""
    if not text:
        return 0.0
    if not text.isdecimal() or len(text) > 12:
        raise InvalidRequest("'until' must be a Unix time.", INVALID_LINK)
    return min(float(int(text)), time.time() + APPLY_WAIT_S)


@blueprint.get("/sites/<int:site_id>/finish")
def finish(site_id: int) -> Page:
    """Wait a little for the site to confirm its new limits, then go back to WordPress."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    result = request.args.get("result", "")
    if result not in RESULTS:
        result = "applied"
    until = _until(request.args.get("until", ""))
    back = with_result(session.return_url, result)
    deadline = min(time.monotonic() + POLL_IN_REQUEST_S, time.monotonic() + until - time.time())
    while True:
        h, site = load(site_id, session)
        if site.limits_settled or time.time() >= until:
            return end_session(redirect(back, 303))
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    return render_template("checkout/finish.html", h=h, _=h.gettext, site=site, back=back)
