"""The console's memberships: search, one membership's page, and the operator's actions on it.

Every action is two posts: the first checks the form and shows what it will do (with the reason
given); the second, confirmed, calls the existing use case (`services.operator`) as the signed-in
WordPress user, whose reason goes to the audit log (and, for a balance movement, the ledger).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flask import g, redirect, request, url_for

from bridge.api.console.pages import Page, _ctx, _page, _paginate, _problem, blueprint, signed_in
from bridge.api.inputs import parse_overrides
from bridge.domain.catalog import Catalog
from bridge.domain.errors import BridgeError
from bridge.domain.limits import SCALAR_LIMITS, UNLIMITED
from bridge.domain.membership import Membership
from bridge.domain.money import format_amount, parse_amount
from bridge.domain.periods import BillingOption
from bridge.services import backoffice, operator, receipts
from bridge.services.access import use_form_once
from bridge.services.context import Actor, operator_named
from bridge.services.operator import MembershipInput

PER_PAGE = 25
LEDGER_PER_PAGE = 25
ACTIONS = ("plan", "overrides", "cancel", "balance", "refund")
Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Planned:
    """An action checked and ready: what it will do, and doing it."""

    sentence: str
    run: Callable[[Actor, str], object]


def _money(minor: int, currency: str) -> str:
    return f"{format_amount(minor, currency)} {currency}"


def _option_key(billing: BillingOption) -> str:
    return "once" if billing.is_once else f"{billing.every}-{billing.unit}"


def plan_options(catalog: Catalog) -> list[dict[str, str]]:
    """Every plan on sale with each of its billing options, as the plan form offers them."""
    out = []
    for p in catalog.products.values():
        if p.kind != "plan" or not p.active:
            continue
        for o in p.billing_options():
            out.append(
                {
                    "value": f"{p.id}:{_option_key(o.billing)}",
                    "label": f"{p.name}: {_money(o.price_minor, catalog.currency)} "
                    f"every {o.billing.describe()}",
                }
            )
    return out


@blueprint.get("/memberships")
@signed_in
def memberships() -> Page:
    ctx = _ctx()
    text = request.args.get("q", "").strip()[:320]
    plan = request.args.get("plan", "").strip()[:100] or None
    _hits, total = backoffice.find_memberships(ctx, text, plan, 0, 0)
    number, pages, offset = _paginate(total, PER_PAGE)
    hits, total = backoffice.find_memberships(ctx, text, plan, offset, PER_PAGE)
    plans = sorted(p.id for p in ctx.catalog.products.values() if p.kind == "plan")
    return _page(
        "memberships.html",
        hits=hits,
        total=total,
        page=number,
        pages=pages,
        q=text,
        plan=plan or "",
        plans=plans,
        money=_money,
    )


def _detail_page(membership_id: int, errors: Errors, action: str = "", status: int = 200) -> Page:
    ctx = _ctx()
    try:
        detail = backoffice.membership_detail(ctx, membership_id, 0, 0)
        number, pages, offset = _paginate(detail.ledger_total, LEDGER_PER_PAGE)
        detail = backoffice.membership_detail(ctx, membership_id, offset, LEDGER_PER_PAGE)
    except BridgeError:
        return _problem("No such membership", "Search for it on the Memberships page.", 404)
    m = detail.membership
    return _page(
        "membership.html",
        status,
        detail=detail,
        m=m,
        ledger=detail.ledger,
        page=number,
        pages=pages,
        money=_money,
        plans=plan_options(ctx.catalog),
        limit_keys=SCALAR_LIMITS,
        errors=errors,
        action=action,
        done=request.args.get("done", ""),
        usage_rows=usage_rows,
        receipts=receipts.receipts_of_membership(ctx, membership_id),
    )


@blueprint.get("/memberships/<int:membership_id>")
@signed_in
def membership(membership_id: int) -> Page:
    return _detail_page(membership_id, {})


def usage_rows(usage: Any, limits: Any) -> list[dict[str, Any]]:
    """A site's usage against its limits: one row per limited scalar, with a percentage."""
    rows = []
    for key in ("disk_mb", "users", "visits", "custom_domains"):
        used = int(getattr(usage, key, 0) or 0)
        limit = limits.scalar(key)
        if limit == UNLIMITED:
            rows.append({"key": key, "used": used, "limit": "unlimited", "percent": None})
        else:
            # A zero limit with nothing used is not a full (red) bar: nothing is over it.
            if limit == 0:
                percent = 100 if used > 0 else 0
            else:
                percent = min(100, round(100 * used / int(limit)))
            rows.append({"key": key, "used": used, "limit": limit, "percent": percent})
    return rows


def _plan(m: Membership, site_id: int, form: Mapping[str, str], errors: Errors) -> Planned | None:
    catalog = _ctx().catalog
    pid, _sep, key = form.get("plan", "").partition(":")
    plan = catalog.get(pid)
    option = None
    if plan is not None and plan.kind == "plan":
        option = next((o for o in plan.billing_options() if _option_key(o.billing) == key), None)
    if plan is None or option is None:
        errors["plan"] = ["Choose a plan and how it is billed."]
        return None
    billing, price = option.billing, option.price_minor
    doc = MembershipInput(
        plan=plan.id, billing=billing, raw={"plan": plan.id, "billing": billing.to_json()}
    )
    sentence = (
        f"Put the membership on {plan.name} (now {m.plan} at "
        f"{_money(m.plan_price_minor, m.currency)} every {m.billing.describe()}), billed every "
        f"{billing.describe()} at "
        f"{_money(price, catalog.currency)} (today's price), from now, as paid; its open "
        f"invoices are voided; its balance ({_money(m.balance_minor, m.currency)}) and limits "
        "overrides are kept."
    )
    return Planned(
        sentence, lambda actor, why: operator.put_membership(_ctx(), site_id, doc, actor, why)
    )


def _overrides(
    m: Membership, site_id: int, form: Mapping[str, str], errors: Errors
) -> Planned | None:
    raw: dict[str, object] = {}
    for key in SCALAR_LIMITS:
        text = form.get(f"limit_{key}", "").strip()
        if text:
            raw[key] = int(text) if text.isdigit() else text
    try:
        limits = parse_overrides(raw)
    except BridgeError as exc:
        errors["limits"] = [exc.message]
        return None
    if raw:
        listed = ", ".join(f"{k} = {v}" for k, v in raw.items())
        sentence = (
            f"Override the membership's limits: {listed}. These replace its current overrides; "
            "its sites get new limits documents at once."
        )
    else:
        sentence = "Remove the membership's limits overrides: its plan's limits apply again."
    return Planned(
        sentence,
        lambda actor, why: operator.put_overrides(_ctx(), site_id, limits, actor, reason=why),
    )


def _cancel(m: Membership, site_id: int, form: Mapping[str, str], errors: Errors) -> Planned | None:
    mode = form.get("mode", "")
    if mode not in ("end_of_term", "immediate"):
        errors["mode"] = ["Choose when: at the end of the term or now."]
        return None
    chosen: Literal["end_of_term", "immediate"] = (
        "end_of_term" if mode == "end_of_term" else "immediate"
    )
    if chosen == "end_of_term":
        if m.period_end is None:
            errors["mode"] = ["This membership has no end of term; cancel it now instead."]
            return None
        sentence = (
            f"Cancel at the end of the term ({m.period_end:%Y-%m-%d %H:%M} UTC): the membership "
            "keeps its plan until then and moves to the fallback plan; nothing is refunded."
        )
    else:
        sentence = (
            "Cancel now: the unused value of the current period goes to the balance, open "
            "invoices are voided and the sites move to the fallback plan's limits."
        )
    return Planned(
        sentence,
        lambda actor, why: operator.cancel_membership(_ctx(), site_id, chosen, actor, why),
    )


def _movement(
    kind: Literal["adjustment", "refund"],
) -> Callable[[Membership, int, Mapping[str, str], Errors], Planned | None]:
    def planned(
        m: Membership, site_id: int, form: Mapping[str, str], errors: Errors
    ) -> Planned | None:
        text = form.get("amount", "").strip()
        try:
            amount = parse_amount(text, m.currency)
        except BridgeError as exc:
            errors["amount"] = [f'{exc.message} (write an amount such as "10.00")']
            return None
        if amount == 0 or (kind == "refund" and amount < 0):
            errors["amount"] = ["Give an amount above zero." if kind == "refund" else "Not zero."]
            return None
        delta = -amount if kind == "refund" else amount
        after = m.balance_minor + delta
        if after < 0:
            errors["amount"] = [
                f"The balance is {_money(m.balance_minor, m.currency)}; it cannot go below zero."
            ]
            return None
        what = (
            f"Record a refund of {_money(amount, m.currency)} paid back outside the bridge"
            if kind == "refund"
            else f"{'Add' if amount > 0 else 'Take'} {_money(abs(amount), m.currency)} "
            f"{'to' if amount > 0 else 'from'} the balance"
        )
        sentence = (
            f"{what}: the balance goes from {_money(m.balance_minor, m.currency)} to "
            f"{_money(after, m.currency)}; the ledger keeps the reason."
        )
        return Planned(
            sentence,
            lambda actor, why: operator.move_balance(
                _ctx(), site_id, amount, text, why, actor, kind
            ),
        )

    return planned


PLANNERS: dict[str, Callable[[Membership, int, Mapping[str, str], Errors], Planned | None]] = {
    "plan": _plan,
    "overrides": _overrides,
    "cancel": _cancel,
    "balance": _movement("adjustment"),
    "refund": _movement("refund"),
}


@blueprint.post("/memberships/<int:membership_id>/<action>")
@signed_in
def act(membership_id: int, action: str) -> Page:
    """Check an action and show what it will do; do it once it is confirmed."""
    if action not in PLANNERS:
        return _problem("No such action", "Choose an action on the membership's page.", 404)
    ctx = _ctx()
    try:
        detail = backoffice.membership_detail(ctx, membership_id, 0, 0)
        site_id = backoffice.first_site(ctx, membership_id)
    except BridgeError as exc:
        return _problem("This membership cannot be changed here", exc.message, 404)
    form = request.form
    errors: Errors = {}
    reason = form.get("reason", "").strip()[:500]
    if not reason:
        errors["reason"] = ["Say why (the audit log keeps it)."]
    planned = PLANNERS[action](detail.membership, site_id, form, errors)
    if errors or planned is None:
        return _detail_page(membership_id, errors, action, 400)
    if form.get("confirm") != "yes":
        hidden = {k: v for k, v in form.items() if k not in ("csrf", "confirm", "once")}
        hidden["once"] = secrets.token_urlsafe(18)
        return _page(
            "confirm.html",
            title="Confirm",
            sentence=planned.sentence,
            reason=reason,
            hidden=hidden,
            action_url=url_for("console.act", membership_id=membership_id, action=action),
            back=url_for("console.membership", membership_id=membership_id),
        )
    once = form.get("once", "")
    if not 16 <= len(once) <= 40 or not use_form_once(ctx, once):
        return _problem(
            "This confirmation was used already",
            "Nothing was done again. Open the membership's page to see where it stands.",
            409,
        )
    try:
        planned.run(operator_named(g.console.who), reason)
    except BridgeError as exc:
        return _problem("This was not done", exc.message, 409)
    return redirect(url_for("console.membership", membership_id=membership_id, done=action), 303)
