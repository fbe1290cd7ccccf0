"""The two journals every money or operator action writes: the ledger and the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.domain.membership import Membership
from bridge.services.context import Actor, Context
from bridge.services.ports import LedgerRecord, UnitOfWork


def audit(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    target: str,
    details: Mapping[str, Any],
) -> None:
    """Who did what to which target, with details (operator actions and owner changes)."""
    uow.audit.add(actor.label, action, target, details, ctx.now())


def ledger(
    ctx: Context,
    uow: UnitOfWork,
    membership_id: int,
    after: Membership,
    kind: str,
    amount_minor: int,
    reason: str,
    actor: Actor,
    invoice_id: str | None = None,
) -> LedgerRecord | None:
    """A balance movement with the balance after it (`after`'s); nothing for a zero amount."""
    if amount_minor == 0:
        return None
    return uow.ledger.add(
        membership_id,
        kind,
        amount_minor,
        after.currency,
        after.balance_minor,
        reason,
        actor.label,
        ctx.now(),
        invoice_id,
    )
