"""Payments (§10): an invoice paid applies what it pays for, once; a valid payment is never lost.

A change invoice keeps the membership as it was quoted (`before`) and as the change leaves it
(`after`), both computed at commit time at the quote's prices. Paying it applies `after` when the
membership's terms are still `before`'s (only its version, sites or overrides moved), never a
re-priced quote from today's catalog. When the membership moved on in another way, or the
invoice expired or was voided, the money goes to the balance with a ledger entry and an audit
entry. A payment of the wrong amount or currency is refused (and recorded by the event path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from bridge.domain.documents import instant
from bridge.domain.invoice import Invoice
from bridge.domain.lifecycle import renewal_paid
from bridge.domain.membership import Membership
from bridge.domain.proration import apply_quote, quote_change
from bridge.errors import InvoiceClosed, NotFound, PaymentMismatch
from bridge.services.context import SYSTEM, Actor, Context
from bridge.services.journal import audit, ledger
from bridge.services.limits import save_membership
from bridge.services.notices import note_credited
from bridge.services.ports import UnitOfWork
from bridge.services.receipts import issue_receipt
from bridge.services.records import (
    membership_from_snapshot,
    parse_instant,
    selection_from_json,
)
from bridge.services.views import InvoiceView, PaymentView, invoice_view

Outcome = Literal["paid", "already_paid", "credited"]


def invoice(ctx: Context, invoice_id: str) -> InvoiceView:
    """One invoice with its lines and their formula inputs."""
    with ctx.uow() as uow:
        found = uow.invoices.get(invoice_id)
        if found is None:
            raise NotFound("There is no such invoice.", "invoice_not_found")
        return invoice_view(found)


def check_payment(
    invoice: Invoice, amount_minor: int | None, given: str, currency: str | None
) -> None:
    """Refuse a payment in another currency or of another amount than the invoice's."""
    if currency is not None:
        problem = invoice.currency_mismatch(currency)
        if problem:
            raise PaymentMismatch(problem, "currency_mismatch")
    if amount_minor is not None:
        problem = invoice.amount_mismatch(amount_minor, given)
        if problem:
            raise PaymentMismatch(problem, "amount_mismatch")


def pay_invoice(
    ctx: Context,
    invoice_id: str,
    reference: str | None,
    actor: Actor,
    amount_minor: int | None = None,
    amount_text: str = "",
    currency: str | None = None,
    reason: str | None = None,
) -> PaymentView:
    """Mark an invoice paid and apply what it pays for; paying twice changes nothing (§10)."""
    with ctx.uow() as uow:
        found = locked_invoice(uow, invoice_id)
        check_payment(found, amount_minor, amount_text, currency)
        outcome, paid = settle(ctx, uow, found, reference, actor, reason)
        uow.commit()
    return {"invoice": invoice_view(paid), "status": outcome}


def locked_invoice(uow: UnitOfWork, invoice_id: str) -> Invoice:
    """The invoice under its row lock, taken after its membership's: every writer locks the
    membership first (commits, cancellations, roll-overs then void or expire its invoices), so
    a payment that locked the invoice first could deadlock with them on PostgreSQL."""
    peek = uow.invoices.get(invoice_id)
    if peek is None:
        raise NotFound("There is no such invoice.", "invoice_not_found")
    uow.memberships.get(peek.membership_id, lock=True)
    found = uow.invoices.get(invoice_id, lock=True)
    assert found is not None  # invoices are never deleted
    return found


def settle(
    ctx: Context,
    uow: UnitOfWork,
    found: Invoice,
    reference: str | None,
    actor: Actor,
    reason: str | None = None,
) -> tuple[Outcome, Invoice]:
    """Apply a matching payment of `found` inside the caller's transaction (see the module doc)."""
    if found.status == "paid":
        return "already_paid", found
    now = ctx.now()
    if found.status not in ("open", "void", "expired"):
        raise InvoiceClosed(
            f"Invoice {found.number} is {found.status}; it can no longer be paid.",
            f"invoice_{found.status}",
        )
    m = uow.memberships.get(found.membership_id, lock=True)
    if found.payable(now):
        after = _applied(ctx, found, m)
        if after is not None:
            save_membership(ctx, uow, found.membership_id, m, after)
            if found.kind == "change":
                ledger(
                    ctx,
                    uow,
                    found.membership_id,
                    after,
                    "change",
                    after.balance_minor - m.balance_minor,
                    f"Invoice {found.number}: {_kind(found)}",
                    SYSTEM,
                    found.id,
                )
            paid = uow.invoices.mark_paid(found.id, now, reference)
            issue_receipt(ctx, uow, paid, bumped=True)
            audit(
                ctx,
                uow,
                actor,
                "invoice.pay",
                f"invoice:{found.id}",
                {"number": found.number, "reference": reference}
                | ({"reason": reason} if reason else {}),
            )
            return "paid", paid
    return "credited", _credit(ctx, uow, found, m, reference, actor, reason)


def _kind(found: Invoice) -> str:
    """The change's kind as quoted (upgrade, addon, ...), for the ledger's reason."""
    return str((found.apply or {}).get("kind") or "change")


def _applied(ctx: Context, found: Invoice, m: Membership) -> Membership | None:
    """The membership once `found` is applied, or None when it no longer fits the membership."""
    apply: Mapping[str, Any] = found.apply or {}
    if found.kind == "renewal":
        if m.status == "past_due" and apply.get("period_start") == instant(m.period_start):
            return renewal_paid(m, ctx.catalog)
        return None
    if found.kind != "change" or "membership" not in apply:
        return None
    before = membership_from_snapshot(apply["membership"])
    if _terms(before) != _terms(m):
        return None
    if "after" in apply:
        target = membership_from_snapshot(apply["after"])
    else:  # invoices made before `after` was stored: the quote at its own instant and inputs
        quote = quote_change(
            ctx.catalog,
            ctx.policy,
            before,
            selection_from_json(apply["selection"]),
            parse_instant(apply["at"]),
            None if found.tax is None else found.tax.tax,
        )
        if [line.amount_minor for line in quote.lines] != [
            line.amount_minor for line in found.lines
        ]:
            return None
        target = apply_quote(before, quote)
    return replace(target, sites=m.sites, overrides=m.overrides, version=m.version + 1)


def _terms(m: Membership) -> tuple[Any, ...]:
    """What a change invoice was priced on; sites, overrides and the version may move."""
    return (
        m.plan,
        m.billing,
        m.plan_price_minor,
        m.status,
        m.anchor,
        m.period_start,
        m.period_end,
        dict(m.addons),
        m.trial_end,
        m.paid_value_minor,
        m.setup_fee_paid_minor,
        m.tax_rate_paid,
        m.balance_minor,
        m.scheduled_change,
    )


def _credit(
    ctx: Context,
    uow: UnitOfWork,
    found: Invoice,
    m: Membership,
    reference: str | None,
    actor: Actor,
    reason: str | None = None,
) -> Invoice:
    """Money for something that no longer applies becomes credit: never refused, never lost."""
    amount = found.amount_due_minor
    after = replace(m, balance_minor=m.balance_minor + amount, version=m.version + 1)
    stored = save_membership(ctx, uow, found.membership_id, m, after)
    note_credited(ctx, uow, found.membership_id, m, stored)
    if found.status == "void":
        why = "it was void"
    elif found.status == "expired" or found.expired(ctx.now()):
        why = "it had expired"
    else:
        why = "the membership changed since it was made"
    ledger(
        ctx,
        uow,
        found.membership_id,
        after,
        "late_payment",
        amount,
        f"Invoice {found.number} paid after {why}; credited to the balance",
        actor,
        found.id,
    )
    # Paid, with what it paid for credited: a retried payment of it is then `already_paid`.
    uow.invoices.mark_paid(found.id, ctx.now(), reference, note=f"credited to the balance: {why}")
    audit(
        ctx,
        uow,
        actor,
        "invoice.credited",
        f"invoice:{found.id}",
        {"number": found.number, "amount_minor": amount, "reason": why}
        | ({"reason": reason, "credited_because": why} if reason else {}),
    )
    credited = uow.invoices.get(found.id)
    assert credited is not None
    return credited
