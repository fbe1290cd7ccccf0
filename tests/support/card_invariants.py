"""Invariants of card payments, checked against the bridge's database and localstripe's state.

Meant for the faults issue's invariant registry too (its crash tests kill the bridge between
creating a PaymentIntent, confirming it and applying the invoice): after any such run,
- no invoice is charged twice: at most one succeeded PaymentIntent per invoice, unless the second
  one's money is in the ledger as credit;
- no invoice is paid but unapplied: every succeeded PaymentIntent's invoice is `paid` (once the
  reconcile pass has run);
- an invoice has at most one PaymentIntent waiting for the owner or the bank (an unconfirmed
  one left by a crash before its id was stored never takes money and is not counted).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.adapters.storage import make_engine
from bridge.adapters.storage.models import InvoiceRow, LedgerEntry
from bridge.services.context import Context
from tests.support.localstripe import LocalStripe


def intents_by_invoice(stripe: LocalStripe) -> dict[str, list[dict[str, Any]]]:
    """localstripe's PaymentIntents, grouped by the bridge invoice in their metadata."""
    found: dict[str, list[dict[str, Any]]] = {}
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if after:
            params["starting_after"] = after
        page = stripe.get("/v1/payment_intents", **params)
        for intent in page["data"]:
            invoice = (intent.get("metadata") or {}).get("bridge_invoice")
            if invoice:
                found.setdefault(invoice, []).append(intent)
        if not page.get("has_more"):
            return found
        after = page["data"][-1]["id"]


def _rows(ctx: Context) -> tuple[dict[str, str], Counter[str]]:
    engine = make_engine(ctx.settings.database_url)
    try:
        with Session(engine) as s:
            statuses = {row.id: row.status for row in s.scalars(select(InvoiceRow))}
            credits = Counter(
                str(entry.invoice_id)
                for entry in s.scalars(
                    select(LedgerEntry).where(LedgerEntry.kind == "late_payment")
                )
            )
    finally:
        engine.dispose()
    return statuses, credits


def check_no_invoice_charged_twice(ctx: Context, stripe: LocalStripe) -> None:
    statuses, credits = _rows(ctx)
    for invoice, intents in intents_by_invoice(stripe).items():
        if invoice not in statuses:
            continue  # another test's database (one localstripe serves many)
        succeeded = [i for i in intents if i["status"] == "succeeded"]
        assert len(succeeded) <= 1 + credits[invoice], (invoice, [i["id"] for i in succeeded])


def check_no_paid_intent_unapplied(ctx: Context, stripe: LocalStripe) -> None:
    statuses, _credits = _rows(ctx)
    for invoice, intents in intents_by_invoice(stripe).items():
        if invoice in statuses and any(i["status"] == "succeeded" for i in intents):
            assert statuses.get(invoice) == "paid", (invoice, statuses.get(invoice))


def check_one_live_intent_per_invoice(stripe: LocalStripe) -> None:
    for invoice, intents in intents_by_invoice(stripe).items():
        live = [i for i in intents if i["status"] in ("requires_action", "processing")]
        assert len(live) <= 1, (invoice, [i["id"] for i in live])


def check_card_invariants(ctx: Context, stripe: LocalStripe) -> None:
    check_no_invoice_charged_twice(ctx, stripe)
    check_no_paid_intent_unapplied(ctx, stripe)
    check_one_live_intent_per_invoice(stripe)
