"""After "Confirm": commit the quote, then the confirmation page.

`commit` runs inside the Change page's POST (see change.py): a refused commit shows the Change
page again with the new amounts (409); an expired quote is quoted again in place and the page
says the figures were refreshed. A commit waiting for its invoice goes to the Pending page (the
invoice, and when it expires); an applied or scheduled one to the confirmation page, shown at
once: what was done, the invoice number, the new limits and when they apply. While the site
has not confirmed its new limits, the page's script asks `…/done/status` (a JSON fragment of
the checkout, not the operator's API) and a "Check again" link does it without the script.
The same Confirm posted again (a reload after a lost answer, a double click) commits nothing
and goes where the first one went: that change's payment, its waiting page or its confirmation.
`…/back` ends the session and goes back to the Account page with the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import jsonify, redirect, render_template, request, url_for

from bridge.api.checkout import limits_table
from bridge.api.checkout.facade import Offer, SiteState
from bridge.api.checkout.i18n import Habits
from bridge.api.checkout.pages.choice import Choice, current_choice, render_change_page
from bridge.api.checkout.pages.plumbing import (
    RESULTS,
    Page,
    actor,
    blueprint,
    core,
    done_url,
    end_session,
    gateway,
    load,
    product_names,
    scheduled_sentence,
    session_for,
    with_result,
)
from bridge.api.checkout.session import CheckoutSession
from bridge.errors import BridgeError, CatalogChanged, PendingChange, QuoteExpired, QuoteUsed

POLL_INTERVAL_MS = 1000


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
    except QuoteExpired:
        # Within a live session an old quote is simply quoted again, here, with new figures.
        notice = h.gettext(
            "The figures were refreshed: prices are held for 15 minutes. "
            "Check them and confirm again."
        )
        return render_change_page(h, session, site, offer, choice, notice)
    except QuoteUsed as exc:
        return _committed_before(h, session, site, offer, choice, exc)
    except BridgeError as exc:
        notice = _conflict_sentence(h, exc)
        return render_change_page(h, session, site, offer, choice, notice), 409
    invoice = outcome.get("invoice") or {}
    return _after_commit(site.site_id, str(outcome.get("status")), invoice)


def _after_commit(site_id: int, status: str, invoice: Mapping[str, Any]) -> Page:
    """Where a committed change goes: paying its invoice, waiting for it, or its page."""
    number = str(invoice.get("number") or invoice.get("id") or "")
    if status == "pending_payment" and gateway() == "stripe" and invoice.get("id"):
        return redirect(
            url_for("checkout.pay", site_id=site_id, invoice_id=str(invoice["id"])), 303
        )
    if status == "pending_payment":
        return redirect(url_for("checkout.pending", site_id=site_id, invoice=number), 303)
    result = "scheduled" if status == "scheduled" else "applied"
    return redirect(done_url(site_id, result, number), 303)


def _committed_before(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
    exc: QuoteUsed,
) -> Page:
    """The same Confirm again (a reload of the POST whose answer was lost, a double click):
    the page of the change that quote made, judged by the site as it is now. If the site no
    longer shows that change (its invoice expired unpaid, another change came since), the
    Change page as it is now, saying the quote was confirmed already."""
    invoice = {"id": exc.details.get("invoice_id"), "number": exc.details.get("invoice_number")}
    number = str(invoice["number"] or "")
    if number and site.pending_invoice == number:
        return _after_commit(site.site_id, "pending_payment", invoice)
    scheduled = site.scheduled
    if (
        scheduled is not None
        and not scheduled.cancels
        and Choice(scheduled.plan_id or "", choice.billing, dict(scheduled.addons)).fingerprint
        == choice.fingerprint
    ):
        return _after_commit(site.site_id, "scheduled", invoice)
    if current_choice(site).fingerprint == choice.fingerprint:
        return _after_commit(site.site_id, "applied", invoice)
    notice = h.gettext(
        "That page was from an earlier checkout, so nothing was changed. "
        "Here is the page as it is now."
    )
    return render_change_page(h, session, site, offer, choice, notice), 409


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
        invoice=request.args.get("invoice", "") or site.pending_invoice or "",
        expires_at=h.datetime(site.pending_expires_at) if site.pending_expires_at else None,
        title=h.gettext("Waiting for your payment"),
        return_url=url_for("checkout.back", site_id=site_id, result="pending"),
    )


def _status(h: Habits, site: SiteState) -> dict[str, Any]:
    """Where the site's new limits are: on their way, applied, or not arriving (dead push)."""
    if site.limits_settled:
        state = "applied"
        text = h.gettext("Your site has its new limits.")
    elif site.push_dead:
        state = "delayed"
        text = h.gettext(
            "Your change is made; your new limits follow shortly. "
            "The network operator has been told that your site did not answer."
        )
    else:
        state = "waiting"
        text = h.gettext("Sending your new limits to your site…")
    return {"state": state, "text": text}


def _done_heading(h: Habits, result: str, site: SiteState, names: dict[str, str]) -> str:
    plan = names.get(site.plan_id or "", site.plan_name or "")
    if result == "cancelled":
        return h.gettext("Your scheduled change is cancelled")
    if result == "scheduled" and site.cancels:
        return h.gettext("Your membership will end")
    if result == "scheduled":
        return h.gettext("Your change is scheduled")
    return h.gettext("Done: you are now on %(plan)s") % {"plan": plan}


@blueprint.get("/sites/<int:site_id>/done")
def done(site_id: int) -> Page:
    """The confirmation: what was done, the invoice, the limits and when they apply."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    result = request.args.get("result", "")
    if result not in RESULTS:
        result = "applied"
    names = product_names(h)
    scheduled_limits = None
    when = h.gettext("These limits apply now.")
    if site.scheduled is not None:
        if site.scheduled.plan_id:
            scheduled_limits = core().selection_limits(
                site.scheduled.plan_id, site.scheduled.addons
            )
        when = h.gettext("Your current limits stay until %(date)s.") % {
            "date": h.date(site.scheduled.effective_at)
        }
    heading = _done_heading(h, result, site, names)
    return render_template(
        "checkout/done.html",
        h=h,
        _=h.gettext,
        site=site,
        heading=heading,
        title=heading,
        result=result,
        invoice=request.args.get("invoice", ""),
        scheduled_sentence=scheduled_sentence(
            h, site, names.get(site.scheduled.plan_id or "") if site.scheduled else None
        ),
        limits=limits_table.rows(h, site.limits),
        scheduled_limits=limits_table.rows(h, scheduled_limits) if scheduled_limits else (),
        when=when,
        status=_status(h, site),
        status_url=url_for("checkout.done_status", site_id=site_id),
        again_url=request.full_path,
        poll_ms=POLL_INTERVAL_MS,
        return_url=url_for("checkout.back", site_id=site_id, result=result),
    )


@blueprint.get("/sites/<int:site_id>/done/status")
def done_status(site_id: int) -> Page:
    """For the confirmation page's script: whether the site confirmed its new limits."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    return jsonify(_status(h, site))


@blueprint.get("/sites/<int:site_id>/back")
def back(site_id: int) -> Page:
    """The checkout is over: back to the Account page with the result for its notice."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    result = request.args.get("result", "")
    if result not in RESULTS:
        result = "unchanged"
    return end_session(redirect(with_result(session.return_url, result), 303))
