"""Plain-JSON documents of domain values: the quote of quote-cli.md, instants, billing options."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.domain.membership import ScheduledChange
from bridge.domain.money import format_amount
from bridge.domain.preflight import Block
from bridge.domain.quote import NextBilling, Quote, QuoteLine
from bridge.domain.tax import TaxTotal


def instant(at: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z: 2026-04-11T00:00:00Z."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def line_document(line: QuoteLine, currency: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": line.type}
    if line.product is not None:
        doc["product"] = line.product
    doc["description"] = line.description
    doc["amount"] = format_amount(line.amount_minor, currency)
    if line.tax_minor is not None:
        doc["tax"] = format_amount(line.tax_minor, currency)
    if line.period_start is not None:
        doc["period_start"] = instant(line.period_start)
        doc["period_end"] = instant(line.period_end)
    doc["inputs"] = dict(line.inputs)
    return doc


def block_document(block: Block) -> dict[str, Any]:
    return {
        "code": block.code,
        "site_id": block.site_id,
        "site_name": block.site_name,
        "limit": block.limit,
        "usage": block.usage,
        "allowed": block.allowed,
        "message": block.message,
    }


def scheduled_document(change: ScheduledChange, limits: dict[str, Any] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "effective_at": instant(change.effective_at),
        "plan": change.plan,
        "billing": change.billing.to_json(),
        "addons": change.addon_quantities(),
    }
    if limits is not None:
        doc["limits"] = limits
    return doc


def tax_document(total: TaxTotal | None, currency: str) -> dict[str, str] | None:
    """`{"name", "rate", "mode", "amount"}` of a quote or invoice; None without a tax (§12)."""
    if total is None:
        return None
    return {**total.tax.to_json(), "amount": format_amount(total.amount_minor, currency)}


def next_billing_document(upcoming: NextBilling | None, currency: str) -> dict[str, Any] | None:
    """The next invoice: date, gross amount, what the balance covers, and its tax when taxed."""
    if upcoming is None:
        return None
    doc: dict[str, Any] = {
        "date": instant(upcoming.date),
        "amount": format_amount(upcoming.amount_minor, currency),
        "covered_by_balance": format_amount(upcoming.covered_by_balance_minor, currency),
    }
    if upcoming.tax_minor is not None:
        doc["tax"] = format_amount(upcoming.tax_minor, currency)
    return doc


def quote_document(quote: Quote) -> dict[str, Any]:
    """The stable JSON of a quote (quote-cli.md "Output")."""
    c = quote.currency
    t = quote.totals
    next_billing = next_billing_document(quote.next_billing, c)
    scheduled = None
    if quote.scheduled is not None:
        limits = quote.scheduled_limits.to_json() if quote.scheduled_limits else None
        scheduled = scheduled_document(quote.scheduled, limits)
    return {
        "kind": quote.kind,
        "timing": quote.timing,
        "currency": c,
        "at": instant(quote.at),
        "lines": [line_document(line, c) for line in quote.lines],
        "credit": format_amount(t.credit_minor, c),
        "balance_applied": format_amount(t.balance_applied_minor, c),
        "due_now": format_amount(t.due_now_minor, c),
        "balance_after": format_amount(t.balance_after_minor, c),
        "tax": tax_document(quote.tax, c),
        "next_billing": next_billing,
        "scheduled": scheduled,
        "limits": quote.limits.to_json(),
        "blocked": [block_document(b) for b in quote.blocked],
        "warnings": [block_document(b) for b in quote.warnings],
        "message": quote.message,
    }
