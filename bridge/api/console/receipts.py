"""The console's receipts: a period's receipts and credit notes, each one as the owner sees it,
and the period as CSV for the accountant (cells a spreadsheet would run are escaped); and the
notices to owners (which kinds are on, the latest ones and whether the plugin has them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Response, g, redirect, render_template, request, url_for

from bridge.api.checkout.i18n import habits_for
from bridge.api.checkout.receipt_view import receipt_page
from bridge.api.console.pages import Page, _ctx, _page, _problem, blueprint, signed_in
from bridge.domain.errors import BridgeError
from bridge.domain.money import format_amount
from bridge.domain.notices import BRIDGE_KINDS
from bridge.domain.receipt import Receipt
from bridge.services import notices, receipts
from bridge.services.context import operator_named


def _day(name: str, default: date) -> date:
    raw = request.args.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _period() -> tuple[date, date, datetime, datetime]:
    """`from` and `to` (whole UTC days, both included); by default this month so far."""
    today = _ctx().now().date()
    first = _day("from", today.replace(day=1))
    last = max(_day("to", today), first)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return first, last, start, end


def _money(minor: int, currency: str) -> str:
    return f"{format_amount(minor, currency)} {currency}"


def _title(r: Receipt) -> str:
    return f"{'Credit note' if r.kind == 'credit_note' else 'Receipt'} {r.number}"


@blueprint.get("/receipts")
@signed_in
def receipts_list() -> Page:
    first, last, start, end = _period()
    found = receipts.receipts_between(_ctx(), start, end)
    return _page(
        "receipts.html",
        receipts=found,
        first=first.isoformat(),
        last=last.isoformat(),
        money=_money,
        title_of=_title,
    )


@blueprint.get("/receipts.csv")
@signed_in
def receipts_export() -> Response:
    first, last, start, end = _period()
    body = receipts.receipts_csv(receipts.receipts_between(_ctx(), start, end))
    name = f"receipts-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blueprint.get("/receipts/<kind>/<int:number>")
@signed_in
def receipt_document(kind: str, number: int) -> Page:
    if kind not in ("receipt", "credit_note"):
        return _problem("No such receipt", "Receipts are receipts or credit notes.", 404)
    ctx = _ctx()
    try:
        found = receipts.find_receipt(ctx, kind, number)
    except BridgeError as exc:
        return _problem("No such receipt", exc.message, 404)
    h = habits_for("en_US")
    names = {pid: p.name for pid, p in ctx.catalog.products.items()}
    return render_template(
        "checkout/receipt.html", h=h, _=h.gettext, r=receipt_page(h, found, names)
    )


@blueprint.get("/notices")
@signed_in
def notices_list() -> Page:
    ctx = _ctx()
    return _page(
        "notices.html",
        switches=notices.switches(ctx),
        visits_80=ctx.settings.notices.on("visits_80"),
        notices=notices.latest_notices(ctx, 100),
        saved=request.args.get("saved") == "1",
    )


@blueprint.post("/notices")
@signed_in
def notices_switch() -> Page:
    """The operator turns each notice the bridge sends on or off, and says why."""
    reason = request.form.get("reason", "").strip()[:500]
    if not reason:
        return _problem("Nothing was changed", "Say why (the audit log keeps it).", 400)
    chosen = set(request.form.getlist("on"))
    if not chosen <= set(BRIDGE_KINDS):
        return _problem("No such notice", "Choose notices from the list.", 400)
    notices.set_switches(_ctx(), chosen, operator_named(g.console.who), reason)
    return redirect(url_for("console.notices_list", saved=1), 303)
