"""Plain JSON documents the API and the checkout pages read (sites, memberships, invoices, limits)."""

from __future__ import annotations

from typing import Any

from bridge.adapters.storage.models import InvoiceRow, LedgerEntry, LimitsDocumentRow, SiteRow
from bridge.domain.catalog import Catalog
from bridge.domain.documents import instant
from bridge.domain.limits import EffectiveLimits, apply_overrides
from bridge.domain.membership import Membership, ScheduledChange, Site
from bridge.domain.money import format_amount
from bridge.domain.proration import limits_of, recurring_total
from bridge.services.records import limits_json, usage_from_json, usage_json


def product_ref(catalog: Catalog, product_id: str) -> dict[str, str]:
    product = catalog.get(product_id)
    return {"id": product_id, "name": product.name if product else product_id}


def next_billing(catalog: Catalog, m: Membership) -> dict[str, Any] | None:
    """The next renewal: date, amount of the recurring items then in force, part the balance covers."""
    if m.period_end is None or m.billing.is_once or m.status == "cancelled":
        return None
    sc = m.scheduled_change
    if sc is not None and sc.effective_at <= m.period_end:
        amount = recurring_total(catalog, m, sc.plan_price_minor, sc.billing, sc.addon_quantities())
    else:
        amount = recurring_total(catalog, m, m.plan_price_minor, m.billing, m.addon_quantities())
    return {
        "date": instant(m.period_end),
        "amount": format_amount(amount, m.currency),
        "covered_by_balance": format_amount(min(m.balance_minor, amount), m.currency),
    }


def scheduled_view(catalog: Catalog, sc: ScheduledChange | None) -> dict[str, Any] | None:
    if sc is None:
        return None
    return {
        "effective_at": instant(sc.effective_at),
        "plan": product_ref(catalog, sc.plan),
        "billing": sc.billing.to_json(),
        "addons": [
            {**product_ref(catalog, pid), "quantity": h.quantity}
            for pid, h in sorted(sc.addons.items())
            if h.quantity > 0
        ],
        "cancels": sc.cancels,
    }


def membership_limits(catalog: Catalog, m: Membership) -> EffectiveLimits:
    return limits_of(catalog, m.plan, m.addon_quantities(), m.overrides)


def site_limits(
    catalog: Catalog, m: Membership | None, site: Site, default_plan: str
) -> EffectiveLimits:
    """A site's limits in force: its membership's (or the default plan's), then its own overrides."""
    if m is None:
        base = limits_of(catalog, default_plan, {}, None)
    else:
        base = membership_limits(catalog, m)
    return apply_overrides(base, site.overrides)


def membership_snapshot_for_push(catalog: Catalog, m: Membership) -> dict[str, Any]:
    """The `membership` part of a limits document (docs/wordpress-contract.md)."""
    c = m.currency
    return {
        "plan": product_ref(catalog, m.plan),
        "status": m.status,
        "currency": c,
        "price": format_amount(m.plan_price_minor, c),
        "billing": m.billing.to_json(),
        "period_start": instant(m.period_start),
        "period_end": instant(m.period_end),
        "trial_end": instant(m.trial_end),
        "next_billing": next_billing(catalog, m),
        "addons": [
            {
                **product_ref(catalog, pid),
                "quantity": h.quantity,
                "price": format_amount(h.price_minor, c),
            }
            for pid, h in sorted(m.addons.items())
            if h.quantity > 0
        ],
        "scheduled_change": scheduled_view(catalog, m.scheduled_change),
        "balance": format_amount(m.balance_minor, c),
    }


def membership_view(catalog: Catalog, membership_id: int, m: Membership) -> dict[str, Any]:
    doc = membership_snapshot_for_push(catalog, m)
    doc["id"] = membership_id
    doc["anchor"] = instant(m.anchor)
    doc["paid_value"] = format_amount(m.paid_value_minor, m.currency)
    doc["version"] = m.version
    doc["overrides"] = limits_json(m.overrides)
    doc["limits"] = membership_limits(catalog, m).to_json()
    doc["sites"] = [s.id for s in m.sites]
    return doc


def site_view(row: SiteRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.id,
        "url": row.url,
        "name": row.name,
        "owner": {
            "user_id": row.owner_user_id,
            "email": row.owner_email,
            "locale": row.owner_locale,
        },
        "timezone": row.timezone,
        "membership_id": row.membership_id,
        "usage": usage_json(usage_from_json(row.usage)),
        "usage_reported_at": instant(row.usage_reported_at),
        "overrides": row.overrides,
        "created_at": instant(row.created_at),
        "deleted_at": instant(row.deleted_at),
    }


def limits_state_view(row: LimitsDocumentRow | None) -> dict[str, Any]:
    if row is None:
        return {
            "version": 0,
            "desired_version": 0,
            "applied_version": 0,
            "limits": None,
            "attempts": 0,
            "last_error": None,
            "dead": False,
        }
    document = row.document or {}
    return {
        "version": row.desired_version,
        "desired_version": row.desired_version,
        "applied_version": row.applied_version,
        "limits": document.get("limits"),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "dead": row.dead,
        "next_attempt_at": instant(row.next_attempt_at),
    }


def invoice_view(row: InvoiceRow) -> dict[str, Any]:
    c = row.currency
    return {
        "id": row.id,
        "number": row.number,
        "kind": row.kind,
        "status": row.status,
        "currency": c,
        "membership_id": row.membership_id,
        "site_id": row.site_id,
        "quote_id": row.quote_id,
        "total": format_amount(row.total_minor, c),
        "credit": format_amount(row.credit_minor, c),
        "balance_applied": format_amount(row.balance_applied_minor, c),
        "amount_due": format_amount(row.amount_due_minor, c),
        "balance_after": format_amount(row.balance_after_minor, c),
        "created_at": instant(row.created_at),
        "expires_at": instant(row.expires_at),
        "paid_at": instant(row.paid_at),
        "reference": row.reference,
        "closed_reason": row.closed_reason,
        "lines": [
            {
                "type": line.type,
                "product": line.product,
                "description": line.description,
                "amount": format_amount(line.amount_minor, c),
                "period_start": instant(line.period_start),
                "period_end": instant(line.period_end),
                "inputs": line.inputs,
            }
            for line in row.lines
        ],
    }


def ledger_view(entry: LedgerEntry) -> dict[str, Any]:
    c = entry.currency
    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount": format_amount(entry.amount_minor, c),
        "currency": c,
        "balance_after": format_amount(entry.balance_after_minor, c),
        "invoice_id": entry.invoice_id,
        "reason": entry.reason,
        "actor": entry.actor,
        "at": instant(entry.at),
    }
