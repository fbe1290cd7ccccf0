"""The typed views the use cases return (TypedDicts: JSON-shaped, checked by mypy --strict).

These are the documents the JSON API serves and the checkout pages read; their shapes are the
API's contract (README, /openapi.json), so a change here is an API change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

from bridge.domain.catalog import Catalog
from bridge.domain.documents import instant, next_billing_document, tax_document
from bridge.domain.invoice import Invoice
from bridge.domain.invoicing import next_invoice
from bridge.domain.limits import EffectiveLimits, apply_overrides
from bridge.domain.membership import Membership, ScheduledChange, Site
from bridge.domain.money import format_amount
from bridge.domain.proration import limits_of
from bridge.domain.quote import QuoteLine
from bridge.domain.receipt import Receipt
from bridge.domain.tax import Tax
from bridge.services.ports import LedgerRecord, LimitsState, SiteRecord
from bridge.services.records import limits_json, usage_json

Json = dict[str, Any]


class ProductRef(TypedDict):
    id: str
    name: str


class NextBillingView(TypedDict):
    date: str | None
    amount: str  # gross: what will be charged
    covered_by_balance: str
    tax: NotRequired[str]  # present only with a tax (billing-rules.md §12)


class MembershipView(TypedDict, total=False):
    plan: ProductRef
    status: str
    currency: str
    price: str
    billing: Any
    period_start: str | None
    period_end: str | None
    trial_end: str | None
    next_billing: NextBillingView | None
    addons: list[Json]
    scheduled_change: Json | None
    balance: str
    tax: Json | None  # the network's tax {name, rate, mode}; None without one
    tax_rate_paid: str | None  # the rate the current period was paid at; None: without tax
    receipts: list[Json]  # the newest receipts and credit notes (kind, number, total, ...)
    id: int
    anchor: str | None
    paid_value: str
    version: int
    overrides: Json | None
    limits: Json
    sites: list[int]


class OwnerView(TypedDict):
    user_id: int | None
    email: str | None
    locale: str | None


class SiteDetails(TypedDict):
    id: int
    site_id: int
    url: str
    name: str
    owner: OwnerView
    timezone: str | None
    membership_id: int | None
    usage: Json
    usage_reported_at: str | None
    overrides: Any
    created_at: str | None
    deleted_at: str | None


class LimitsStateView(TypedDict, total=False):
    version: int
    desired_version: int
    applied_version: int
    limits: Json | None
    attempts: int
    last_error: str | None
    dead: bool
    next_attempt_at: str | None


class InvoiceLineView(TypedDict):
    type: str
    product: str | None
    description: str
    amount: str
    tax: NotRequired[str]  # the line's own tax, when the invoice was taxed
    period_start: str | None
    period_end: str | None
    inputs: Any


class InvoiceView(TypedDict):
    id: str
    number: int
    kind: str
    status: str
    currency: str
    membership_id: int
    site_id: int | None
    quote_id: str | None
    total: str
    credit: str
    balance_applied: str
    amount_due: str
    balance_after: str
    created_at: str | None
    expires_at: str | None
    paid_at: str | None
    reference: str | None
    closed_reason: str | None
    tax: Json | None  # {name, rate, mode, amount}; None for an invoice made without tax
    lines: list[InvoiceLineView]


class SiteView(TypedDict, total=False):
    site: SiteDetails
    membership: MembershipView | None
    limits: LimitsStateView
    pending_invoice: InvoiceView | None
    cancelled: bool


class LedgerEntryView(TypedDict):
    id: int
    kind: str
    amount: str
    currency: str
    balance_after: str
    invoice_id: str | None
    reason: str
    actor: str
    at: str | None


class LedgerView(TypedDict):
    membership_id: int
    balance: str
    invoices: list[InvoiceView]
    entries: list[LedgerEntryView]


class BalanceEntryView(TypedDict):
    entry: LedgerEntryView
    balance: str


class CommitView(TypedDict):
    invoice: InvoiceView
    status: str
    site_id: int


class PaymentView(TypedDict):
    invoice: InvoiceView
    status: str


def product_ref(catalog: Catalog, product_id: str) -> ProductRef:
    product = catalog.get(product_id)
    return {"id": product_id, "name": product.name if product else product_id}


def next_billing(catalog: Catalog, m: Membership, tax: Tax | None) -> NextBillingView | None:
    """The next invoice as the renewal will make it (the domain's `next_invoice`, as JSON)."""
    doc = next_billing_document(next_invoice(catalog, m, tax), m.currency)
    return None if doc is None else NextBillingView(**doc)  # type: ignore[typeddict-item]


def scheduled_view(catalog: Catalog, sc: ScheduledChange | None) -> Json | None:
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


RECEIPTS_SHOWN = 24  # the newest receipts and credit notes a pushed document lists


def receipt_refs(issued: Sequence[Receipt]) -> list[Json]:
    """The newest receipts and credit notes, as the Account page lists them (it opens one with
    a receipt token naming kind and number)."""
    return [
        {
            "kind": r.kind,
            "number": r.number,
            "issued_at": instant(r.issued_at),
            "total": format_amount(r.total_minor, r.currency),
            "currency": r.currency,
            "receipt_number": r.receipt_number,
            "paid_from_balance": r.paid_from_balance,
        }
        for r in issued[:RECEIPTS_SHOWN]
    ]


def membership_snapshot_for_push(
    catalog: Catalog, m: Membership, tax: Tax | None, issued: Sequence[Receipt] = ()
) -> MembershipView:
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
        "next_billing": next_billing(catalog, m, tax),
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
        "tax": None if tax is None else dict(tax.to_json()),
        "tax_rate_paid": m.tax_rate_paid,
        "receipts": receipt_refs(issued),
    }


def membership_view(
    catalog: Catalog,
    membership_id: int,
    m: Membership,
    tax: Tax | None,
    issued: Sequence[Receipt] = (),
) -> MembershipView:
    doc = membership_snapshot_for_push(catalog, m, tax, issued)
    doc["id"] = membership_id
    doc["anchor"] = instant(m.anchor)
    doc["paid_value"] = format_amount(m.paid_value_minor, m.currency)
    doc["version"] = m.version
    doc["overrides"] = limits_json(m.overrides)
    doc["limits"] = membership_limits(catalog, m).to_json()
    doc["sites"] = [s.id for s in m.sites]
    return doc


def site_details(site: SiteRecord) -> SiteDetails:
    return {
        "id": site.id,
        "site_id": site.id,
        "url": site.url,
        "name": site.name,
        "owner": {
            "user_id": site.owner_user_id,
            "email": site.owner_email,
            "locale": site.owner_locale,
        },
        "timezone": site.timezone,
        "membership_id": site.membership_id,
        "usage": usage_json(site.usage),
        "usage_reported_at": instant(site.usage_reported_at),
        "overrides": site.raw_overrides,
        "created_at": instant(site.created_at),
        "deleted_at": instant(site.deleted_at),
    }


def limits_state_view(state: LimitsState | None) -> LimitsStateView:
    if state is None:
        return {
            "version": 0,
            "desired_version": 0,
            "applied_version": 0,
            "limits": None,
            "attempts": 0,
            "last_error": None,
            "dead": False,
        }
    document = state.document or {}
    return {
        "version": state.desired_version,
        "desired_version": state.desired_version,
        "applied_version": state.applied_version,
        "limits": document.get("limits"),
        "attempts": state.attempts,
        "last_error": state.last_error,
        "dead": state.dead,
        "next_attempt_at": instant(state.next_attempt_at),
    }


def invoice_view(invoice: Invoice) -> InvoiceView:
    c = invoice.currency
    return {
        "id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": invoice.status,
        "currency": c,
        "membership_id": invoice.membership_id,
        "site_id": invoice.site_id,
        "quote_id": invoice.quote_id,
        "total": format_amount(invoice.total_minor, c),
        "credit": format_amount(invoice.credit_minor, c),
        "balance_applied": format_amount(invoice.balance_applied_minor, c),
        "amount_due": format_amount(invoice.amount_due_minor, c),
        "balance_after": format_amount(invoice.balance_after_minor, c),
        "created_at": instant(invoice.created_at),
        "expires_at": instant(invoice.expires_at),
        "paid_at": instant(invoice.paid_at),
        "reference": invoice.reference,
        "closed_reason": invoice.closed_reason,
        "tax": tax_document(invoice.tax, c),
        "lines": [invoice_line_view(line, c) for line in invoice.lines],
    }


def invoice_line_view(line: QuoteLine, currency: str) -> InvoiceLineView:
    view: InvoiceLineView = {
        "type": line.type,
        "product": line.product,
        "description": line.description,
        "amount": format_amount(line.amount_minor, currency),
        "period_start": instant(line.period_start),
        "period_end": instant(line.period_end),
        "inputs": dict(line.inputs),
    }
    if line.tax_minor is not None:
        view["tax"] = format_amount(line.tax_minor, currency)
    return view


def ledger_entry_view(entry: LedgerRecord) -> LedgerEntryView:
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
