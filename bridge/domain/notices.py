"""Notices to a membership's owner: which ones a change of the membership causes (pure).

The bridge records each notice in the transaction of the event that causes it, under a stable
id (the same event never makes two), and pushes it to the plugin, which mails the owner in the
owner's language. The 80 % visits notice is the plugin's own (it owns the visit counts); the
bridge only tells it whether that notice is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.domain.membership import Membership

# Every kind, in the order of config.yaml's `notices:` section (all on by default).
KINDS = (
    "change_applied",
    "change_scheduled",
    "payment_received",
    "refund_issued",
    "balance_credited",
    "past_due",
    "fallback",
    "renewal_coming",
    "trial_ending",
    "payment_failed",
    "visits_80",
)
BRIDGE_KINDS = KINDS[:-1]  # the plugin notices the last one itself


@dataclass(frozen=True)
class Notice:
    """One notice: `key` makes its id unique for the event (a version, a receipt number)."""

    kind: str
    key: str
    data: dict[str, Any]


def _when(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def membership_notices(before: Membership, after: Membership, fallback_plan: str) -> list[Notice]:
    """The notices a write of `after` over `before` causes (one transaction, one version); a
    payment credited to the balance is noticed by the payment (`credited_notice`), not here: an
    operator's credit is no payment."""
    key = f"v{after.version}"
    out: list[Notice] = []
    fell_back = (
        before.status == "past_due" and after.status != "past_due" and after.plan == fallback_plan
    )
    if fell_back and before.plan != after.plan:
        out.append(Notice("fallback", key, {"plan": after.plan, "from_plan": before.plan}))
    elif (before.plan, before.billing, before.addon_quantities()) != (
        after.plan,
        after.billing,
        after.addon_quantities(),
    ):
        out.append(Notice("change_applied", key, {"plan": after.plan, "from_plan": before.plan}))
    scheduled = after.scheduled_change
    if scheduled is not None and scheduled != before.scheduled_change:
        out.append(
            Notice(
                "change_scheduled",
                key,
                {
                    "plan": scheduled.plan,
                    "effective_at": _when(scheduled.effective_at),
                    "cancels": scheduled.cancels,
                },
            )
        )
    if after.status == "past_due" and before.status != "past_due":
        out.append(Notice("past_due", key, {"plan": after.plan}))
    return out


RENEWAL_LEAD = timedelta(days=7)
TRIAL_LEAD = timedelta(days=3)


def renewal_notice_at(m: Membership) -> datetime | None:
    """When the owner hears that the period renews: 7 days before its end, or half the period
    before for periods shorter than two weeks; None without an end or when nothing renews."""
    if m.period_end is None or m.status not in ("active", "trialing"):
        return None
    if m.scheduled_change is not None and m.scheduled_change.cancels:
        return None
    period = m.period_end - m.period_start
    lead = RENEWAL_LEAD if period >= 2 * RENEWAL_LEAD else period / 2
    return m.period_end - lead


def trial_notice_at(m: Membership) -> datetime | None:
    """When the owner hears that the trial ends: 3 days before (None: not in a trial)."""
    if m.status != "trialing" or m.trial_end is None:
        return None
    return m.trial_end - TRIAL_LEAD


def credited_notice(before: Membership, after: Membership) -> Notice:
    """A payment for something that no longer applies, credited to the balance."""
    return Notice(
        "balance_credited",
        f"v{after.version}",
        {
            "amount_minor": after.balance_minor - before.balance_minor,
            "balance_minor": after.balance_minor,
            "currency": after.currency,
        },
    )
