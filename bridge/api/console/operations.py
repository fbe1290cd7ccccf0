"""The console's operations pages: dashboard, invoices (mark a manual one paid), sites and their
pushes (repush one, a selection or every dead one), webhook events and the audit log."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, request, url_for

from bridge.api.console.pages import Page, _ctx, _page, _paginate, _problem, blueprint, signed_in
from bridge.api.inputs import parse_reference
from bridge.domain.errors import BridgeError
from bridge.domain.money import format_amount
from bridge.services import backoffice, payments
from bridge.services.backoffice import INVOICE_STATUSES, SITE_FILTERS
from bridge.services.context import operator_named
from bridge.services.listings import push_state

PER_PAGE = 25


def _money(minor: int, currency: str) -> str:
    return f"{format_amount(minor, currency)} {currency}"


@blueprint.app_template_global("page_url")
def page_url(number: int) -> str:
    """This page's address on page `number`, keeping its search and filters."""
    args: dict[str, Any] = {
        k: v for k, v in request.args.items() if k not in ("page", "queued", "done")
    }
    args.update(request.view_args or {}, page=number)
    return url_for(str(request.endpoint), **args)


@blueprint.get("/dashboard")
@signed_in
def dashboard() -> Page:
    figures = backoffice.dashboard(_ctx())
    return _page("dashboard.html", d=figures, money=_money)


# -- invoices ---------------------------------------------------------------------------------


def _invoices_page(errors: dict[str, list[str]], status: int = 200) -> Page:
    ctx = _ctx()
    wanted = request.args.get("status", "open")
    if wanted not in INVOICE_STATUSES:
        wanted = "open"
    _rows, total = backoffice.invoices(ctx, wanted, 0, 0)
    number, pages, offset = _paginate(total, PER_PAGE)
    rows, total = backoffice.invoices(ctx, wanted, offset, PER_PAGE)
    return _page(
        "invoices.html",
        status,
        invoices=rows,
        total=total,
        page=number,
        pages=pages,
        wanted=wanted,
        statuses=INVOICE_STATUSES,
        money=_money,
        errors=errors,
    )


@blueprint.get("/invoices")
@signed_in
def invoices() -> Page:
    return _invoices_page({})


@blueprint.post("/invoices/<invoice_id>/pay")
@signed_in
def pay(invoice_id: str) -> Page:
    """Mark a manual invoice paid with the payment's reference, and why."""
    errors: dict[str, list[str]] = {}
    reason = request.form.get("reason", "").strip()[:500]
    text = request.form.get("reference", "").strip()
    reference = None
    try:
        reference = parse_reference(text or None)
    except BridgeError as exc:
        errors[f"reference-{invoice_id}"] = [exc.message]
    if not text:
        errors[f"reference-{invoice_id}"] = ["Give the payment's reference (bank, cheque...)."]
    if not reason:
        errors[f"reason-{invoice_id}"] = ["Say why (the audit log keeps it)."]
    if errors:
        return _invoices_page(errors, 400)
    try:
        outcome = payments.pay_invoice(
            _ctx(), invoice_id, reference, operator_named(g.console.who), reason=reason
        )
    except BridgeError as exc:
        return _problem("This invoice was not marked paid", exc.message, 409)
    return redirect(url_for("console.invoices", status="paid", done=outcome["status"]), 303)


# -- sites and pushes -------------------------------------------------------------------------


@blueprint.get("/sites")
@signed_in
def sites() -> Page:
    ctx = _ctx()
    which = request.args.get("show", "all")
    if which not in SITE_FILTERS:
        which = "all"
    _rows, total = backoffice.sites(ctx, which, 0, 0)
    number, pages, offset = _paginate(total, PER_PAGE)
    rows, total = backoffice.sites(ctx, which, offset, PER_PAGE)
    queued = request.args.get("queued", "")
    counts = {f: backoffice.sites(ctx, f, 0, 0)[1] for f in ("behind", "dead")}
    return _page(
        "sites.html",
        counts=counts,
        rows=rows,
        state=push_state,
        total=total,
        page=number,
        pages=pages,
        which=which,
        filters=SITE_FILTERS,
        queued=int(queued) if queued.isdigit() else None,
        errors={},
    )


@blueprint.post("/sites/repush")
@signed_in
def repush() -> Page:
    """Queue pushes of the chosen sites (or of every dead push); say how many were queued."""
    form = request.form
    reason = form.get("reason", "").strip()[:500]
    dead = form.get("which") == "dead"
    chosen: list[int] = []
    for raw in form.getlist("site"):
        if not raw.isdigit():
            return _problem("No such site", "Choose sites from the list.", 400)
        chosen.append(int(raw))
    if not reason or (not dead and not chosen):
        why = "Say why (the audit log keeps it)." if not reason else "Choose at least one site."
        return _problem("Nothing was queued", why, 400)
    count = backoffice.repush(
        _ctx(), None if dead else chosen, operator_named(g.console.who), reason
    )
    return redirect(url_for("console.sites", show=form.get("show", "all"), queued=count), 303)


# -- events and the audit log -----------------------------------------------------------------


@blueprint.get("/events")
@signed_in
def events() -> Page:
    ctx = _ctx()
    _rows, total = backoffice.receipts(ctx, 0, 0)
    number, pages, offset = _paginate(total, PER_PAGE)
    rows, total = backoffice.receipts(ctx, offset, PER_PAGE)
    return _page("events.html", rows=rows, total=total, page=number, pages=pages)


@blueprint.get("/audit")
@signed_in
def audit_log() -> Page:
    ctx = _ctx()
    _rows, total = backoffice.audit_log(ctx, 0, 0)
    number, pages, offset = _paginate(total, PER_PAGE)
    rows, total = backoffice.audit_log(ctx, offset, PER_PAGE)
    return _page("audit_log.html", rows=rows, total=total, page=number, pages=pages)
