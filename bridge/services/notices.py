"""Notices to a membership's owner: recorded with the event that causes them, pushed to the
plugin (which mails the owner with `wp_mail`, in the owner's language).

Each notice is recorded inside the transaction of its event, under a stable id (kind, membership
and the membership's version, or the receipt's number), so a retried transaction or webhook never
makes a second one. Every event that makes a notice also gives the membership's sites a new limits
document, so the notice goes with that push: `PushRunner.push_site` sends a site's unsent notices
after its limits document, under the same retries, dead state and reconcile. The plugin remembers
the ids it has mailed, so a retried push never mails twice. The operator turns each kind on or off
(config.yaml `notices:`); a kind that is off is not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.domain.documents import instant
from bridge.domain.lifecycle import renew
from bridge.domain.membership import Membership
from bridge.domain.money import format_amount
from bridge.domain.notices import (
    BRIDGE_KINDS,
    RENEWAL_LEAD,
    TRIAL_LEAD,
    Notice,
    credited_notice,
    membership_notices,
    renewal_notice_at,
    trial_notice_at,
)
from bridge.domain.receipt import Receipt
from bridge.services.context import Actor, Context
from bridge.services.journal import audit
from bridge.services.notice_ports import NoticeRecord
from bridge.services.ports import UnitOfWork


def note(ctx: Context, uow: UnitOfWork, membership_id: int, notice: Notice) -> str | None:
    """Record `notice` for the owner of the membership (on its first live site); its id, or None
    when the kind is off or the membership has no live site."""
    if not _on(ctx, uow, notice.kind):
        return None
    sites = uow.sites.live_of(membership_id)
    if not sites:
        return None
    site = sites[0]
    data = dict(notice.data)
    for key in ("plan", "from_plan"):  # the plans by the names the owner knows them by
        if isinstance(data.get(key), str):
            product = ctx.catalog.get(data[key])
            data[f"{key}_name"] = product.name if product is not None else data[key]
    for key in ("amount_minor", "balance_minor"):  # amounts as decimal text, as in documents
        if isinstance(data.get(key), int) and isinstance(data.get("currency"), str):
            data[key.removesuffix("_minor")] = format_amount(data[key], data["currency"])
    notice_id = f"{notice.kind}-m{membership_id}-{notice.key}"
    document: dict[str, Any] = {
        "id": notice_id,
        "kind": notice.kind,
        "site_id": site.id,
        "user_id": site.owner_user_id,
        "email": site.owner_email,
        "locale": site.owner_locale,
        "issued_at": instant(ctx.now()),
        "data": data,
    }
    uow.notices.add(notice_id, membership_id, site.id, notice.kind, document, ctx.now())
    return notice_id


def _on(ctx: Context, uow: UnitOfWork, kind: str) -> bool:
    """The operator's switch (console Settings) if set, else config.yaml's `notices:`."""
    return uow.notices.switches().get(kind, ctx.settings.notices.on(kind))


def switches(ctx: Context) -> dict[str, bool]:
    """Every kind the bridge sends and whether it is on now."""
    with ctx.uow() as uow:
        return {kind: _on(ctx, uow, kind) for kind in BRIDGE_KINDS}


def set_switches(ctx: Context, on: set[str], actor: Actor, reason: str) -> dict[str, bool]:
    """The operator turns each kind the bridge sends on (in `on`) or off; audited."""
    with ctx.uow() as uow:
        before = {kind: _on(ctx, uow, kind) for kind in BRIDGE_KINDS}
        after = {kind: kind in on for kind in BRIDGE_KINDS}
        for kind, value in after.items():
            uow.notices.set_switch(kind, value, actor.label, ctx.now())
        changed = {k: v for k, v in after.items() if before[k] != v}
        audit(ctx, uow, actor, "notices.switch", "notices", {"changed": changed, "reason": reason})
        uow.commit()
    return after


def note_membership_change(
    ctx: Context, uow: UnitOfWork, membership_id: int, before: Membership, after: Membership
) -> None:
    """The notices a write of the membership causes (change applied or scheduled, past due,
    moved to the fallback plan, payment credited to the balance)."""
    for notice in membership_notices(before, after, ctx.settings.fallback_plan):
        note(ctx, uow, membership_id, notice)


def note_receipt(ctx: Context, uow: UnitOfWork, receipt: Receipt) -> None:
    """Payment received (a receipt) or refund issued (a credit note)."""
    data: dict[str, Any] = {
        "number": receipt.number,
        "invoice_number": receipt.invoice_number,
        "amount_minor": receipt.total_minor,
        "currency": receipt.currency,
    }
    if receipt.kind == "receipt":
        notice = Notice("payment_received", f"r{receipt.number}", data)
    else:
        data["receipt_number"] = receipt.receipt_number
        notice = Notice("refund_issued", f"c{receipt.number}", data)
    note(ctx, uow, receipt.membership_id, notice)


def unsent_notices(ctx: Context, site_id: int, include_dead: bool = False) -> list[NoticeRecord]:
    with ctx.uow() as uow:
        return uow.notices.unsent_of_site(site_id, include_dead)


def notice_sent(ctx: Context, notice_id: str) -> None:
    with ctx.uow() as uow:
        uow.notices.mark_sent(notice_id, ctx.now())
        uow.commit()


def notices_failed(ctx: Context, notice_ids: Sequence[str], error: str, dead: bool) -> None:
    with ctx.uow() as uow:
        uow.notices.record_failure(notice_ids, error, dead)
        uow.commit()


def latest_notices(ctx: Context, limit: int = 50) -> list[NoticeRecord]:
    with ctx.uow() as uow:
        return uow.notices.latest(limit)


def notice_switches(ctx: Context) -> Mapping[str, bool]:
    """What the pushed limits document tells the plugin about the notices it sends itself."""
    return {"visits_80": ctx.settings.notices.on("visits_80")}


def note_coming(ctx: Context, at: datetime) -> int:
    """Renewal coming (7 days before the period ends; half the period before for periods
    shorter than two weeks; the amount with tax) and trial ending (3 days before): recorded once
    per period (the id holds the period's end), pushed at once. The number recorded."""
    with ctx.uow() as uow:
        stored = uow.notices.switches()

    def on(kind: str) -> bool:
        return stored.get(kind, ctx.settings.notices.on(kind))

    renewal_until = at + RENEWAL_LEAD if on("renewal_coming") else None
    trial_until = at + TRIAL_LEAD if on("trial_ending") else None
    if renewal_until is None and trial_until is None:
        return 0
    with ctx.uow() as uow:
        candidates = uow.notices.coming(at, renewal_until, trial_until)
    recorded = 0
    for membership_id in candidates:
        with ctx.uow() as uow:
            m = uow.memberships.get(membership_id)
            notices = [n for n in (_renewal(ctx, m, at), _trial(m, at)) if n is not None]
            made = [note(ctx, uow, membership_id, n) for n in notices]
            for site in uow.sites.live_of(membership_id)[:1]:
                if any(made):
                    state = uow.limits.get(site.id)
                    uow.push_after_commit(site.id, 0 if state is None else state.desired_version)
            uow.commit()
        recorded += sum(1 for x in made if x)
    return recorded


def _renewal(ctx: Context, m: Membership, at: datetime) -> Notice | None:
    when = renewal_notice_at(m)
    if when is None or m.period_end is None or not when <= at < m.period_end:
        return None
    renewal = renew(ctx.catalog, m, m.period_end, ctx.tax)
    if renewal is None:
        return None
    # The renewal invoice's amount with its tax, before the balance pays part of it.
    gross = renewal.totals.due_now_minor + renewal.totals.balance_applied_minor
    if gross <= 0:
        return None
    return Notice(
        "renewal_coming",
        f"p{instant(m.period_end)}",
        {
            "plan": renewal.membership.plan,
            "renews_at": instant(m.period_end),
            "amount_minor": gross,
            "due_minor": renewal.totals.due_now_minor,
            "currency": m.currency,
        },
    )


def _trial(m: Membership, at: datetime) -> Notice | None:
    when = trial_notice_at(m)
    if when is None or m.trial_end is None or not when <= at < m.trial_end:
        return None
    return Notice(
        "trial_ending",
        f"t{instant(m.trial_end)}",
        {"plan": m.plan, "trial_end": instant(m.trial_end)},
    )


def note_payment_failed(
    ctx: Context, uow: UnitOfWork, invoice_id: str, attempt: int, retry_at: datetime | None
) -> None:
    """A renewal charged on the saved card failed: how much, and that the owner can pay it or
    replace the card on the Account page (one notice per attempt)."""
    invoice = uow.invoices.get(invoice_id)
    if invoice is None:
        return
    data: dict[str, Any] = {
        "invoice_number": invoice.number,
        "amount_minor": invoice.amount_due_minor,
        "currency": invoice.currency,
        "retry_at": instant(retry_at),
    }
    notice = Notice("payment_failed", f"i{invoice.number}-a{attempt}", data)
    if note(ctx, uow, invoice.membership_id, notice) is not None:
        for site in uow.sites.live_of(invoice.membership_id)[:1]:
            state = uow.limits.get(site.id)
            uow.push_after_commit(site.id, 0 if state is None else state.desired_version)


def note_credited(
    ctx: Context, uow: UnitOfWork, membership_id: int, before: Membership, after: Membership
) -> None:
    """A payment credited to the balance (after is the membership as stored)."""
    note(ctx, uow, membership_id, credited_notice(before, after))
