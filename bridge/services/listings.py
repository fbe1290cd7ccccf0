"""The operator's lists (`bridge sites`, `bridge memberships`, `bridge invoices`, repush targets)."""

from __future__ import annotations

from typing import Any

from bridge.domain.documents import instant
from bridge.domain.money import format_amount
from bridge.services.context import Context
from bridge.services.ports import SiteListing
from bridge.services.views import InvoiceView, invoice_view


def push_state(site: SiteListing) -> str:
    """none, dead, applied, retrying or pending: where a site's limits push stands."""
    if site.desired_version is None:
        return "none"
    if site.dead:
        return "dead"
    if (site.applied_version or 0) >= site.desired_version:
        return "applied"
    return "retrying" if site.last_error else "pending"


def site_rows(ctx: Context) -> list[dict[str, Any]]:
    """Every live site with its plan, desired/applied limits version and push state."""
    with ctx.uow() as uow:
        listing = uow.sites.listing()
    return [
        {
            "site_id": s.site_id,
            "url": s.url,
            "plan": s.plan,
            "status": s.status,
            "desired": s.desired_version or 0,
            "applied": s.applied_version or 0,
            "push": push_state(s),
            "attempts": s.attempts,
            "last_error": s.last_error,
        }
        for s in listing
    ]


def membership_rows(ctx: Context) -> list[dict[str, Any]]:
    """Every membership: plan, status, period end, price, balance and sites."""
    with ctx.uow() as uow:
        listing = uow.memberships.listing()
    return [
        {
            "id": m.id,
            "plan": m.plan,
            "status": m.status,
            "period_end": instant(m.period_end),
            "price": format_amount(m.plan_price_minor, m.currency),
            "balance": format_amount(m.balance_minor, m.currency),
            "currency": m.currency,
            "sites": list(m.sites),
        }
        for m in listing
    ]


def invoice_rows(ctx: Context, status: str | None) -> list[InvoiceView]:
    """Invoices, newest first, optionally of one status."""
    with ctx.uow() as uow:
        return [invoice_view(i) for i in uow.invoices.listing(status)]
