"""The console's card pages (gateway `stripe`): disputes Stripe told us about, and refunding a
card-paid invoice to the card, whole or part, with a reason (the membership is unchanged)."""

from __future__ import annotations

from flask import g, redirect, request, url_for

from bridge.api.console.operations import PER_PAGE, _money
from bridge.api.console.pages import Page, _ctx, _page, _paginate, _problem, blueprint, signed_in
from bridge.api.inputs import amount_minor
from bridge.domain.errors import BridgeError
from bridge.services import card_events
from bridge.services.context import operator_named


@blueprint.get("/disputes")
@signed_in
def disputes() -> Page:
    ctx = _ctx()
    _rows, total = card_events.disputes(ctx, 0, 0)
    number, pages, offset = _paginate(total, PER_PAGE)
    rows, total = card_events.disputes(ctx, offset, PER_PAGE)
    return _page("disputes.html", rows=rows, total=total, page=number, pages=pages, money=_money)


@blueprint.post("/invoices/<invoice_id>/refund")
@signed_in
def refund(invoice_id: str) -> Page:
    """Refund to the card: the amount (empty: what is left) and why, kept in the audit log."""
    reason = request.form.get("reason", "").strip()[:500]
    text = request.form.get("amount", "").strip()
    if not reason:
        return _problem("Nothing was refunded", "Say why (the audit log keeps it).", 400)
    try:
        minor = amount_minor(text, _ctx().catalog.currency, "amount") if text else None
        done = card_events.refund_invoice(
            _ctx(), invoice_id, minor, reason, operator_named(g.console.who)
        )
    except BridgeError as exc:
        return _problem("Nothing was refunded", exc.message, 409)
    return redirect(
        url_for("console.invoices", status="paid", refunded=str(done["amount_minor"])), 303
    )
