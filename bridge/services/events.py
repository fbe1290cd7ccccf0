"""Network events, each applied once (deduplicated by webhook id), through a table of handlers.

The API parses a verified webhook's `data` into one of the typed events below; a malformed event
never reaches this module. A well-formed event that is refused (an unknown invoice, a payment of
the wrong amount) is recorded with its reason and answered as handled, so the sender does not
retry it forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from bridge.domain.errors import BridgeError
from bridge.domain.lifecycle import start_membership
from bridge.domain.membership import Usage
from bridge.domain.proration import limits_of
from bridge.errors import ConcurrentChange, Duplicate, InvalidRequest, Unavailable
from bridge.services.context import NETWORK, Context
from bridge.services.limits import bump_membership_sites, save_membership
from bridge.services.payments import check_payment, locked_invoice, settle
from bridge.services.ports import Owner, UnitOfWork

log = logging.getLogger(__name__)

_ATTEMPTS = 3  # a lost optimistic lock is retried; the event is never recorded as refused for it


@dataclass(frozen=True)
class SiteCreated:
    site_id: int
    url: str
    name: str
    owner: Owner
    timezone: str | None = None


@dataclass(frozen=True)
class SiteDeleted:
    site_id: int


@dataclass(frozen=True)
class UsageReported:
    site_id: int
    usage: Usage


@dataclass(frozen=True)
class LimitsApplied:
    site_id: int
    version: int


@dataclass(frozen=True)
class InvoicePaid:
    invoice_id: str
    amount_minor: int
    amount_text: str
    currency: str
    reference: str | None = None


@dataclass(frozen=True)
class UnknownEvent:
    type: str


Event = SiteCreated | SiteDeleted | UsageReported | LimitsApplied | InvoicePaid | UnknownEvent


def handle_event(ctx: Context, event_id: str, type: str, event: Event) -> str:
    """Apply one network event once: "processed", "duplicate", "ignored" or "refused:<code>".

    The receipt is claimed first, in the same transaction as the event's effects (and the
    answer waits for its commit), so a retried delivery finds it and changes nothing."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return ctx.transact(partial(_apply, ctx, event_id, type, event))
        except Duplicate:
            return "duplicate"  # the same event delivered twice at once: the other recorded it
        except (InvalidRequest, Unavailable):
            raise  # 400, or 503 so that the network sends it again: never a refused receipt
        except ConcurrentChange:
            if attempt == _ATTEMPTS:
                raise
        except BridgeError as exc:
            return _refuse(ctx, event_id, type, exc)
    raise AssertionError("unreachable")


def _apply(ctx: Context, event_id: str, type: str, event: Event, uow: UnitOfWork) -> str:
    if not uow.receipts.claim(event_id, type, "processed", ctx.now()):
        return "duplicate"
    handler = _HANDLERS.get(event.__class__)
    if handler is None:
        log.info("unknown event type accepted", extra={"event_type": type})
        outcome = "ignored"
    else:
        outcome = handler(ctx, uow, event)
    if outcome != "processed":
        uow.receipts.set_outcome(event_id, outcome)
    return outcome


def _refuse(ctx: Context, event_id: str, type: str, exc: BridgeError) -> str:
    log.warning(
        "event refused", extra={"event_type": type, "webhook_id": event_id, "code": exc.code}
    )
    outcome = f"refused:{exc.code}"
    at = ctx.now()
    if ctx.transact(lambda uow: uow.receipts.claim(event_id, type, outcome, at)):
        return outcome
    return "duplicate"


def _site_created(ctx: Context, uow: UnitOfWork, event: Any) -> str:
    """Join the owner's membership if its sites limit allows, else a new default-plan one."""
    e: SiteCreated = event
    now = ctx.now()
    site = uow.sites.upsert(e.site_id, e.url, e.name, e.owner, e.timezone, now)
    if site.membership_id is not None:
        return "processed"  # known already (e.g. imported by the operator)
    customer_id = uow.customers.ensure(e.owner, now)
    for membership_id, m in uow.memberships.of_customer(customer_id):
        allowed = limits_of(ctx.catalog, m.plan, m.addon_quantities(), m.overrides).sites
        if allowed == "unlimited" or (isinstance(allowed, int) and len(m.sites) < allowed):
            uow.sites.set_membership(site.id, membership_id)
            joined = uow.memberships.get(membership_id)
            save_membership(ctx, uow, membership_id, joined, replace(joined, version=m.version + 1))
            return "processed"
    m = start_membership(ctx.catalog, ctx.settings.default_plan, None, now)
    membership_id = uow.memberships.add(customer_id, m, now)
    uow.sites.set_membership(site.id, membership_id)
    bump_membership_sites(ctx, uow, membership_id)
    return "processed"


def _site_deleted(ctx: Context, uow: UnitOfWork, event: Any) -> str:
    e: SiteDeleted = event
    site = uow.sites.get(e.site_id)
    if site is None or site.deleted_at is not None:
        return "processed"
    uow.sites.mark_deleted(site.id, ctx.now())
    if site.membership_id is not None:
        m = uow.memberships.get(site.membership_id, lock=True)
        save_membership(ctx, uow, site.membership_id, m, replace(m, version=m.version + 1))
    return "processed"


def _usage_reported(ctx: Context, uow: UnitOfWork, event: Any) -> str:
    e: UsageReported = event
    if uow.sites.set_usage(e.site_id, e.usage, ctx.now()):
        return "processed"
    return "ignored"  # a site we never heard of; its site.created will follow


def _limits_applied(ctx: Context, uow: UnitOfWork, event: Any) -> str:
    e: LimitsApplied = event
    if uow.limits.acknowledge_newer(e.site_id, e.version, ctx.now()):
        return "processed"
    return "ignored"


def _invoice_paid(ctx: Context, uow: UnitOfWork, event: Any) -> str:
    """Paid inside the receipt's transaction: recording the receipt first and paying in a
    transaction of its own could lose the payment between the two."""
    e: InvoicePaid = event
    invoice = locked_invoice(uow, e.invoice_id)
    check_payment(invoice, e.amount_minor, e.amount_text, e.currency)
    settle(ctx, uow, invoice, e.reference, NETWORK)
    return "processed"


_HANDLERS: dict[type, Callable[[Context, UnitOfWork, Any], str]] = {
    SiteCreated: _site_created,
    SiteDeleted: _site_deleted,
    UsageReported: _usage_reported,
    LimitsApplied: _limits_applied,
    InvoicePaid: _invoice_paid,
}
