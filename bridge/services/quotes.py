"""Quotes and commits (§9): a quote bound to the membership's version; a commit charges exactly it.

Each use case runs in one transaction: an invoice and the membership change it pays for are
written together, so a retry can never charge twice. The membership's optimistic lock makes
concurrent commits of quotes for one membership end with exactly one change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bridge.domain.documents import instant, quote_document
from bridge.domain.membership import Selection
from bridge.domain.proration import apply_quote, quote_change
from bridge.domain.tax import tax_of_document
from bridge.errors import (
    Blocked,
    CatalogChanged,
    ConcurrentChange,
    NoChange,
    NotFound,
    PendingChange,
    QuoteExpired,
    QuoteUsed,
    StaleQuote,
)
from bridge.services.context import Actor, Context
from bridge.services.journal import audit, ledger
from bridge.services.limits import live_site, membership_of, save_membership
from bridge.services.ports import NewInvoice, QuoteRecord
from bridge.services.receipts import issue_receipt
from bridge.services.records import membership_snapshot, selection_json
from bridge.services.sites import site_view
from bridge.services.views import CommitView, SiteView, invoice_view

_STALE = "Your membership changed since this quote; please look at the new price."
_CATALOG_CHANGED = "The prices changed since this quote; please look at the new price."


def _money_part(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a quote document that must match to the minor unit when committing."""
    keys = ("kind", "timing", "currency", "at", "lines", "credit", "balance_applied", "due_now")
    return {k: doc.get(k) for k in (*keys, "balance_after", "tax", "next_billing", "scheduled")}


def create_quote(ctx: Context, site_id: int, selection: Selection, actor: Actor) -> dict[str, Any]:
    """A quote bound to the membership's version, valid for quote_ttl_s (§9)."""
    now = ctx.now()
    snapshot = ctx.snapshot()
    with ctx.uow() as uow:
        membership_id, m = membership_of(uow, live_site(uow, site_id))
        quote = quote_change(snapshot.catalog, ctx.policy, m, selection, now, ctx.tax)
        doc = quote_document(quote)
        record = QuoteRecord(
            id=str(uuid.uuid4()),
            site_id=site_id,
            membership_id=membership_id,
            version=m.version,
            at=quote.at,
            expires_at=quote.at + timedelta(seconds=ctx.settings.quote_ttl_s),
            selection=selection,
            document=doc,
            actor=actor.label,
            catalog_version=snapshot.version,
        )
        uow.quotes.add(record)
        uow.commit()
    return {
        **doc,
        "id": record.id,
        "site_id": site_id,
        "version": m.version,
        "expires_at": instant(record.expires_at),
        "committable": quote.committable,
        "catalog_version": snapshot.version,
    }


def preview_quote(ctx: Context, site_id: int, selection: Selection) -> dict[str, Any]:
    """What a selection would quote now, without storing a quote (nothing can commit it)."""
    with ctx.uow() as uow:
        _membership_id, m = membership_of(uow, live_site(uow, site_id))
    return quote_document(quote_change(ctx.catalog, ctx.policy, m, selection, ctx.now(), ctx.tax))


def commit_quote(
    ctx: Context, quote_id: str, actor: Actor, site_id: int | None = None
) -> CommitView:
    """Charge exactly the quote, then apply it (at once, or when the invoice is paid) (§9, §10);
    a quote priced on an earlier catalog version whose terms changed is `CatalogChanged`."""
    now = ctx.now()
    ctx = ctx.pinned()
    snapshot = ctx.snapshot()
    try:
        with ctx.uow() as uow:
            q = uow.quotes.get(quote_id)
            if q is None or (site_id is not None and q.site_id != site_id):
                raise NotFound("There is no such quote.", "quote_not_found")
            if q.committed:
                made = uow.invoices.of_quote(q.id)
                raise QuoteUsed(
                    "This quote was already committed"
                    + (f": invoice {made.number}." if made is not None else "."),
                    invoice_id=None if made is None else made.id,
                    invoice_number=None if made is None else made.number,
                )
            if q.expires_at <= now:
                raise QuoteExpired("This quote has expired; please ask for a new one.")
            m = uow.memberships.get(q.membership_id, lock=True)
            if m.version != q.version:
                raise StaleQuote(_STALE)
            for open_invoice in uow.invoices.open_of(q.membership_id, "change"):
                if not open_invoice.expired(now):
                    raise PendingChange(
                        f"Invoice {open_invoice.number} for an earlier change is still unpaid."
                    )
                uow.invoices.close(open_invoice.id, "expired", "not paid in time")
            # A quote keeps the tax it was made with, like its prices, until it expires (§12).
            tax = tax_of_document(q.document.get("tax"))
            quote = quote_change(ctx.catalog, ctx.policy, m, q.selection, q.at, tax)
            if quote.kind == "no_change":
                raise NoChange(quote.message or "Nothing would change.")
            if quote.blocked:
                raise Blocked(quote.message or "This change is blocked.")
            if _money_part(quote_document(quote)) != _money_part(q.document):
                if q.catalog_version is not None and q.catalog_version != snapshot.version:
                    raise CatalogChanged(_CATALOG_CHANGED)
                raise StaleQuote(_STALE)
            uow.quotes.mark_committed(q.id, now)
            pay_now = quote.totals.due_now_minor == 0 or ctx.settings.gateway == "test"
            after = apply_quote(m, quote) if pay_now else None
            if after is not None:
                save_membership(ctx, uow, q.membership_id, m, after)
            else:
                # Nothing applies yet, but the version moves: other open quotes become stale
                # and a concurrent commit fails on the optimistic lock.
                uow.memberships.save(
                    q.membership_id, m.version, replace(m, version=m.version + 1), now
                )
            invoice = uow.invoices.add(
                NewInvoice(
                    membership_id=q.membership_id,
                    site_id=q.site_id,
                    kind="change",
                    currency=m.currency,
                    lines=quote.lines,
                    totals=quote.totals,
                    tax=quote.tax,
                    created_at=now,
                    quote_id=q.id,
                    expires_at=None
                    if pay_now
                    else now + timedelta(seconds=ctx.settings.change_invoice_ttl_s),
                    apply=None
                    if pay_now
                    else {
                        "membership": membership_snapshot(m),
                        "after": membership_snapshot(apply_quote(m, quote)),
                        "kind": quote.kind,
                        "selection": selection_json(q.selection),
                        "at": instant(q.at),
                    },
                )
            )
            if after is not None:
                reference = "test" if quote.totals.due_now_minor else None
                invoice = uow.invoices.mark_paid(invoice.id, now, reference)
                issue_receipt(ctx, uow, invoice, bumped=True)
                ledger(
                    ctx,
                    uow,
                    q.membership_id,
                    after,
                    "change",
                    after.balance_minor - m.balance_minor,
                    f"Invoice {invoice.number}: {quote.kind}",
                    actor,
                    invoice.id,
                )
                status = "scheduled" if quote.timing == "end_of_term" else "applied"
            else:
                status = "pending_payment"
            audit(
                ctx,
                uow,
                actor,
                "quote.commit",
                f"membership:{q.membership_id}",
                {"quote_id": q.id, "invoice": invoice.number, "status": status},
            )
            uow.commit()
    except ConcurrentChange as exc:
        raise StaleQuote(_STALE) from exc
    return {"invoice": invoice_view(invoice), "status": status, "site_id": q.site_id}


def cancel_scheduled_change(ctx: Context, site_id: int, actor: Actor) -> SiteView:
    """The owner may cancel a scheduled change until it takes effect (§7)."""
    with ctx.uow() as uow:
        membership_id, m = membership_of(uow, live_site(uow, site_id), lock=True)
        cancelled = m.scheduled_change is not None
        if cancelled:
            after = replace(m, scheduled_change=None, version=m.version + 1)
            save_membership(ctx, uow, membership_id, m, after)
            audit(ctx, uow, actor, "scheduled_change.cancel", f"site:{site_id}", {})
            uow.commit()
    view = site_view(ctx, site_id)
    view["cancelled"] = cancelled
    return view
