"""Time passing (§7): unpaid change invoices expire, periods renew, unpaid ones dun and fall back.

With gateway `stripe` a renewal invoice is charged off-session on the saved card once the
roll-over's transactions are done (`card_events.charge_renewals`); until it is paid the
membership is `past_due`, and the charge is retried on `stripe.retry_days`.

`roll_over` is idempotent: a renewal is unique per membership and period start (`renewal_key`),
and each step runs in its own transaction, so two processes rolling over at once, or one rolling
over twice, make every renewal once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TypedDict

from bridge.domain.documents import instant
from bridge.domain.lifecycle import fall_back, renew, renewal_paid
from bridge.errors import ConcurrentChange, Duplicate
from bridge.services.card_events import cancel_closed_intents, charge_renewals
from bridge.services.context import SYSTEM, Context
from bridge.services.journal import audit, ledger
from bridge.services.limits import save_membership
from bridge.services.notices import note_coming
from bridge.services.ports import NewInvoice
from bridge.services.receipts import issue_receipt

log = logging.getLogger(__name__)

_MAX_ROLLS = 500  # periods rolled for one membership in one pass (a safety net, not a rule)


class RollOverCounts(TypedDict):
    expired: int
    renewed: int
    past_due: int
    fell_back: int
    voided: int


def roll_over(ctx: Context, at: datetime | None = None) -> RollOverCounts:
    """Expire unpaid change invoices, renew ended periods, dun and fall back (§7); idempotent."""
    at = (at or ctx.clock.now()).replace(microsecond=0)
    counts: RollOverCounts = {
        "expired": 0,
        "renewed": 0,
        "past_due": 0,
        "fell_back": 0,
        "voided": 0,
    }
    with ctx.uow() as uow:
        counts["expired"] = uow.invoices.expire_due(at)
        uow.commit()
    with ctx.uow() as uow:
        due = uow.memberships.due_for_roll_over(at)
    for membership_id in due:
        for _ in range(_MAX_ROLLS):
            try:
                step, voided = _roll_one(ctx, membership_id, at)
            except (ConcurrentChange, Duplicate):
                continue  # another roll-over moved it; read it again
            counts["voided"] += voided
            if step is None:
                break
            if step == "fell_back":
                counts["fell_back"] += 1
            else:
                counts["renewed"] += 1
                if step == "past_due":
                    counts["past_due"] += 1
    note_coming(ctx, at)  # renewal coming, trial ending
    if ctx.cards is not None:
        # After the database steps, never inside them: expired invoices' intents are cancelled,
        # then renewals are charged on the saved card (and failed ones retried when due).
        cancel_closed_intents(ctx)
        charge_renewals(ctx, at)
    return counts


def _roll_one(ctx: Context, membership_id: int, at: datetime) -> tuple[str | None, int]:
    """One step for one membership, in its own transaction: fall back, or renew one period."""
    grace = timedelta(days=ctx.settings.grace_days)
    with ctx.uow() as uow:
        m = uow.memberships.get(membership_id, lock=True)
        deadline = m.period_start + grace if m.status == "past_due" else None
        if (
            deadline is not None
            and deadline <= at
            and (m.period_end is None or deadline <= m.period_end)
        ):
            after = fall_back(ctx.catalog, m, ctx.settings.fallback_plan, deadline)
            uow.invoices.close_open(membership_id, "void", "unpaid after the grace period")
            save_membership(ctx, uow, membership_id, m, after)
            audit(ctx, uow, SYSTEM, "membership.fall_back", f"membership:{membership_id}", {})
            uow.commit()
            return "fell_back", 0
        renewal = renew(ctx.catalog, m, at, ctx.tax)
        if renewal is None:
            return None, 0
        voided = uow.invoices.close_open(membership_id, "void", "the period ended", "change")
        if voided:
            log.info(
                "unpaid change invoice voided at period end", extra={"membership": membership_id}
            )
        after = save_membership(ctx, uow, membership_id, m, renewal.membership)
        total = sum(line.amount_minor for line in renewal.lines)
        if total != 0 or renewal.totals.due_now_minor != 0:
            invoice = uow.invoices.add(
                NewInvoice(
                    membership_id=membership_id,
                    site_id=None,
                    kind="renewal",
                    currency=m.currency,
                    lines=renewal.lines,
                    totals=renewal.totals,
                    tax=renewal.tax,
                    created_at=ctx.now(),
                    renewal_key=f"{membership_id}:{instant(after.period_start)}",
                    apply={
                        "paid_value_minor": renewal.paid_value_minor,
                        "period_start": instant(after.period_start),
                    },
                )
            )
            if renewal.totals.due_now_minor == 0:
                invoice = uow.invoices.mark_paid(invoice.id, ctx.now(), "balance")
                issue_receipt(ctx, uow, invoice, bumped=True)
            elif ctx.settings.gateway == "test":
                invoice = uow.invoices.mark_paid(invoice.id, ctx.now(), "test")
                issue_receipt(ctx, uow, invoice, bumped=True)
                paid = renewal_paid(after, ctx.catalog)
                after = save_membership(ctx, uow, membership_id, after, paid)
            ledger(
                ctx,
                uow,
                membership_id,
                after,
                "renewal",
                after.balance_minor - m.balance_minor,
                f"Invoice {invoice.number}: renewal",
                SYSTEM,
                invoice.id,
            )
        uow.commit()
        return ("past_due" if after.status == "past_due" else "renewed"), voided
