"""The console's reads and its one new action: memberships, invoices, sites, events, audit log,
the dashboard's figures, and repushing sites' limits documents.

Every list is one page of a repository's LIMIT/OFFSET query with the total. The operator's
changes go through the existing use cases (`operator`, `payments`); only a repush is new here: it
queues pushes of the sites' current documents and writes who, why and how many to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.domain.invoice import Invoice
from bridge.domain.limits import EffectiveLimits
from bridge.domain.membership import Membership
from bridge.domain.periods import BillingOption
from bridge.domain.revenue import PAYING, recurring_revenue
from bridge.errors import NotFound
from bridge.services.console_ports import AuditRecord, MembershipHit, ReceiptRecord
from bridge.services.context import Actor, Context
from bridge.services.fanout import queue_pushes
from bridge.services.journal import audit
from bridge.services.ports import (
    LedgerRecord,
    SiteListing,
    SiteRecord,
)
from bridge.services.views import site_limits

INVOICE_STATUSES = ("open", "paid", "void", "expired")
SITE_FILTERS = ("all", "behind", "dead")


@dataclass(frozen=True)
class MembershipDetail:
    """One membership as the console shows it."""

    id: int
    membership: Membership
    sites: list[tuple[SiteRecord, EffectiveLimits]]
    invoices: list[Invoice]
    ledger: list[LedgerRecord]  # one page, newest first
    ledger_total: int


@dataclass(frozen=True)
class Dashboard:
    members: dict[str, dict[str, int]]  # plan → status → memberships
    revenue: dict[str, int]  # currency → monthly recurring revenue, minor units, before tax
    open_invoices: int
    sites_behind: int
    dead_pushes: int
    refused_last_day: int


def find_memberships(
    ctx: Context, text: str | None, plan: str | None, offset: int, limit: int
) -> tuple[list[MembershipHit], int]:
    with ctx.uow() as uow:
        return uow.console.memberships(text, plan, offset, limit)


def membership_detail(
    ctx: Context, membership_id: int, ledger_offset: int = 0, ledger_limit: int = 25
) -> MembershipDetail:
    catalog = ctx.catalog
    with ctx.uow() as uow:
        m = uow.memberships.get(membership_id)
        sites = uow.sites.live_of(membership_id)
        entries, total = uow.console.ledger(membership_id, ledger_offset, ledger_limit)
        return MembershipDetail(
            id=membership_id,
            membership=m,
            sites=[
                (s, site_limits(catalog, m, s.domain(), ctx.settings.default_plan)) for s in sites
            ],
            invoices=uow.invoices.of_membership(membership_id),
            ledger=entries,
            ledger_total=total,
        )


def first_site(ctx: Context, membership_id: int) -> int:
    """The site the operator's calls name a membership by (its first live site)."""
    with ctx.uow() as uow:
        site_id = uow.sites.first_of(membership_id)
        if site_id is None or uow.sites.get(site_id) is None:
            raise NotFound("This membership has no site.", "site_not_found")
        return site_id


def invoices(
    ctx: Context, status: str | None, offset: int, limit: int
) -> tuple[list[Invoice], int]:
    with ctx.uow() as uow:
        return uow.console.invoices(status, offset, limit)


def sites(ctx: Context, which: str, offset: int, limit: int) -> tuple[list[SiteListing], int]:
    with ctx.uow() as uow:
        return uow.console.sites(which, offset, limit)


def receipts(ctx: Context, offset: int, limit: int) -> tuple[list[ReceiptRecord], int]:
    with ctx.uow() as uow:
        return uow.console.receipts(offset, limit)


def audit_log(ctx: Context, offset: int, limit: int) -> tuple[list[AuditRecord], int]:
    with ctx.uow() as uow:
        return uow.console.audit(offset, limit)


def dashboard(ctx: Context) -> Dashboard:
    catalog = ctx.catalog
    addon_billing: dict[str, BillingOption] = {
        pid: p.billing for pid, p in catalog.products.items() if p.kind != "plan"
    }
    since = ctx.now() - timedelta(days=1)
    with ctx.uow() as uow:
        members: dict[str, dict[str, int]] = {}
        for (plan, status), n in sorted(uow.console.members_per_plan().items()):
            members.setdefault(plan, {})[status] = n
        revenue = recurring_revenue(uow.console.paying(PAYING), addon_billing)
        return Dashboard(
            members=members,
            revenue=revenue,
            open_invoices=uow.console.count_invoices("open"),
            sites_behind=uow.console.sites("behind", 0, 1)[1],
            dead_pushes=uow.console.sites("dead", 0, 1)[1],
            refused_last_day=uow.console.count_refused_since(since),
        )


def alert_counts(ctx: Context) -> dict[str, int]:
    """What an operator alerts on (RELIABILITY.md): dead pushes, sites behind, open invoices,
    memberships past due (an unpaid renewal), events refused in the last day."""
    since = ctx.now() - timedelta(days=1)
    with ctx.uow() as uow:
        past_due = sum(
            n
            for (_plan, status), n in uow.console.members_per_plan().items()
            if status == "past_due"
        )
        return {
            "dead_pushes": uow.console.sites("dead", 0, 1)[1],
            "sites_behind": uow.console.sites("behind", 0, 1)[1],
            "open_invoices": uow.console.count_invoices("open"),
            "memberships_past_due": past_due,
            "events_refused_last_day": uow.console.count_refused_since(since),
        }


def repush(ctx: Context, site_ids: Sequence[int] | None, actor: Actor, reason: str) -> int:
    """Queue a push of each site's current limits document (None: every dead push); how many
    were queued. A dead push is tried again from its first attempt by the worker."""
    with ctx.uow() as uow:
        if site_ids is None:  # and the sites whose notices the plugin has not taken
            dead = uow.console.dead_sites()
            targets = list(dict.fromkeys([*dead, *uow.notices.sites_with_unsent(True)]))
        else:
            targets = [s for s in dict.fromkeys(site_ids) if uow.limits.get(s) is not None]
        details: dict[str, Any] = {
            "sites": targets[:100],
            "queued": len(targets),
            "reason": reason,
        }
        audit(
            ctx, uow, actor, "limits.repush", "sites" if site_ids is None else "sites:some", details
        )
        uow.commit()
    queue_pushes(ctx, targets)
    return len(targets)
