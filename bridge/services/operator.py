"""The operator's calls: put a site on a plan, override limits, cancel, move the balance (§2, §7).

Inputs arrive parsed and typed (`bridge.api.inputs`); what is checked here is what needs the
catalog or the stored membership.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from bridge.domain.errors import NotEligible
from bridge.domain.lifecycle import cancel_at_period_end, cancel_now, start_membership
from bridge.domain.limits import Limits
from bridge.domain.membership import Holding, Membership
from bridge.domain.money import format_amount
from bridge.domain.periods import BillingOption, period_containing
from bridge.domain.proration import recurring_total
from bridge.errors import InsufficientBalance, InvalidRequest, NotFound, Unprocessable
from bridge.services.context import Actor, Context
from bridge.services.journal import audit, ledger
from bridge.services.limits import (
    bump_membership_sites,
    bump_site,
    live_site,
    membership_of,
    save_membership,
)
from bridge.services.ports import Owner, UnitOfWork
from bridge.services.records import limits_json
from bridge.services.views import (
    BalanceEntryView,
    LedgerView,
    SiteView,
    invoice_view,
    ledger_entry_view,
)


@dataclass(frozen=True)
class SiteInput:
    """A site the bridge has not heard of yet, sent along with a membership."""

    url: str
    name: str
    owner: Owner | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class AddonInput:
    quantity: int
    price_minor: int | None = None  # None: the catalog's price


@dataclass(frozen=True)
class MembershipInput:
    """`PUT /sites/{id}/membership`: a plan (and optionally dates, prices, add-ons, balance)."""

    plan: str
    billing: BillingOption | None = None
    price_minor: int | None = None
    addons: dict[str, AddonInput] = field(default_factory=dict)
    balance_minor: int | None = None
    anchor: datetime | None = None
    status: Literal["active", "past_due", "trialing"] = "active"
    paid: bool | None = None
    # The tax rate the current period was paid at (an import: what the customer paid elsewhere);
    # None: paid without tax, so its credit carries none (billing-rules.md §12).
    tax_rate_paid: str | None = None
    site: SiteInput | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # for the audit log


def _why(details: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """The audit details, with the operator's reason when one was given (the console)."""
    return {**details, "reason": reason} if reason else details


def put_membership(
    ctx: Context, site_id: int, doc: MembershipInput, actor: Actor, reason: str | None = None
) -> SiteView:
    """Operator: put a site on a plan, or import an existing customer with their dates."""
    now = ctx.now()
    with ctx.uow() as uow:
        site = uow.sites.get(site_id)
        if site is None or site.deleted_at is not None:
            if doc.site is None:
                raise NotFound(
                    f"There is no site {site_id}; send its url, name and owner as 'site'.",
                    "site_not_found",
                )
            s = doc.site
            site = uow.sites.upsert(site_id, s.url, s.name, s.owner, s.timezone, now)
        existing = None
        if site.membership_id is not None:
            existing = membership_of(uow, site, lock=True)
        new = _membership_from_input(ctx, doc, now, existing[1] if existing else None)
        if existing is not None:
            membership_id, before = existing
            uow.invoices.close_open(membership_id, "void", "membership replaced by the operator")
            after = replace(new, version=before.version + 1)
            save_membership(ctx, uow, membership_id, before, after)
            balance_before = before.balance_minor
        else:
            customer = _customer_of(
                ctx, uow, site.owner_user_id, site.owner_email, site.owner_locale
            )
            membership_id = uow.memberships.add(customer, new, now)
            uow.sites.set_membership(site_id, membership_id)
            bump_membership_sites(ctx, uow, membership_id)
            after, balance_before = new, 0
        ledger(
            ctx,
            uow,
            membership_id,
            after,
            "import",
            after.balance_minor - balance_before,
            reason or "membership set by operator",
            actor,
        )
        audit(ctx, uow, actor, "membership.put", f"site:{site_id}", _why({"doc": doc.raw}, reason))
        uow.commit()
    from bridge.services.sites import site_view

    return site_view(ctx, site_id)


def _customer_of(
    ctx: Context,
    uow: UnitOfWork,
    user_id: int | None,
    email: str | None,
    locale: str | None,
) -> int | None:
    if user_id is None:
        return None
    return uow.customers.ensure(Owner(user_id, email or "", locale or "en_US"), ctx.now())


def _membership_from_input(
    ctx: Context, doc: MembershipInput, now: datetime, current: Membership | None
) -> Membership:
    catalog = ctx.catalog
    plan = catalog.get(doc.plan)
    if plan is None or plan.kind != "plan":
        raise NotEligible(f"'{doc.plan}' is not a plan of the catalog.", "unknown_product")
    billing = doc.billing or plan.billing
    price = doc.price_minor if doc.price_minor is not None else plan.price_for(billing)
    if price is None:
        raise InvalidRequest(
            f"{plan.name} is not billed every {billing.describe()}; give a 'price'.",
            "invalid_request",
        )
    addons: dict[str, Holding] = {}
    for addon_id, spec in doc.addons.items():
        product = catalog.get(addon_id)
        if product is None or product.kind == "plan":
            raise NotEligible(f"'{addon_id}' is not an add-on.", "unknown_product")
        addon_price = spec.price_minor if spec.price_minor is not None else product.price_minor
        if spec.quantity > 0 and not product.billing.is_once:
            addons[addon_id] = Holding(spec.quantity, addon_price)
    balance = doc.balance_minor
    if balance is None:
        balance = current.balance_minor if current else 0
    anchor = doc.anchor or now
    base = start_membership(catalog, plan.id, billing, anchor, price_minor=price)
    if billing.is_once:
        start, end = anchor, None
    else:
        start, end = period_containing(anchor, billing, max(now, anchor))
    m = replace(
        base,
        plan_price_minor=price,
        addons=addons,
        status=doc.status,
        anchor=anchor,
        period_start=start,
        period_end=end if doc.status != "trialing" else base.period_end,
        trial_end=base.trial_end if doc.status == "trialing" else None,
        balance_minor=balance,
        overrides=current.overrides if current else None,
        sites=current.sites if current else (),
    )
    paid = doc.paid if doc.paid is not None else doc.status == "active"
    value = recurring_total(catalog, m, price, billing, m.addon_quantities())
    return replace(
        m,
        paid_value_minor=(price if billing.is_once else value) if paid else 0,
        setup_fee_paid_minor=plan.setup_fee_minor if paid else 0,
        tax_rate_paid=doc.tax_rate_paid if paid else None,
    )


def put_overrides(
    ctx: Context,
    site_id: int,
    limits: Limits | None,
    actor: Actor,
    scope: Literal["membership", "site"] = "membership",
    reason: str | None = None,
) -> SiteView:
    """Operator limits overrides, replacing the merged value key by key (§2)."""
    stored = limits_json(limits)
    with ctx.uow() as uow:
        site = live_site(uow, site_id)
        if scope == "site":
            uow.sites.set_overrides(site_id, limits)
            site = live_site(uow, site_id)
            m = membership_of(uow, site)[1] if site.membership_id is not None else None
            bump_site(ctx, uow, site, m)
        else:
            membership_id, m = membership_of(uow, site, lock=True)
            after = replace(m, overrides=limits, version=m.version + 1)
            save_membership(ctx, uow, membership_id, m, after)
        audit(
            ctx,
            uow,
            actor,
            "overrides.put",
            f"site:{site_id}",
            _why({"scope": scope, "limits": stored}, reason),
        )
        uow.commit()
    from bridge.services.sites import site_view

    return site_view(ctx, site_id)


def cancel_membership(
    ctx: Context,
    site_id: int,
    mode: Literal["end_of_term", "immediate"],
    actor: Actor,
    reason: str | None = None,
) -> SiteView:
    """At the end of term (nothing refunded) or now (the unused value to the balance) (§7)."""
    fallback = ctx.settings.fallback_plan
    with ctx.uow() as uow:
        membership_id, m = membership_of(uow, live_site(uow, site_id), lock=True)
        if mode == "end_of_term":
            if m.period_end is None:
                raise Unprocessable(
                    "This membership has no end of term; cancel it immediately instead.",
                    "no_end_of_term",
                )
            save_membership(
                ctx, uow, membership_id, m, cancel_at_period_end(ctx.catalog, m, fallback)
            )
        else:
            after, credit = cancel_now(ctx.catalog, m, ctx.now(), fallback, ctx.tax)
            uow.invoices.close_open(membership_id, "void", "membership cancelled")
            save_membership(ctx, uow, membership_id, m, after)
            ledger(
                ctx,
                uow,
                membership_id,
                after,
                "cancellation_credit",
                credit,
                f"unused time at cancellation: {reason}"
                if reason
                else "unused time at cancellation",
                actor,
            )
        audit(ctx, uow, actor, "membership.cancel", f"site:{site_id}", _why({"mode": mode}, reason))
        uow.commit()
    from bridge.services.sites import site_view

    return site_view(ctx, site_id)


def move_balance(
    ctx: Context,
    site_id: int,
    amount_minor: int,
    amount_text: str,
    reason: str,
    actor: Actor,
    kind: Literal["adjustment", "refund"],
) -> BalanceEntryView:
    """Operator: add to or take from a customer's credit (adjustment), or record a refund paid
    back outside the bridge (it lowers the balance); the balance never goes below zero (§7)."""
    delta = -amount_minor if kind == "refund" else amount_minor
    with ctx.uow() as uow:
        membership_id, m = membership_of(uow, live_site(uow, site_id), lock=True)
        if m.balance_minor + delta < 0:
            raise InsufficientBalance(
                f"The balance is {format_amount(m.balance_minor, m.currency)}; "
                "it cannot go below zero."
            )
        after = replace(m, balance_minor=m.balance_minor + delta, version=m.version + 1)
        save_membership(ctx, uow, membership_id, m, after)
        entry = ledger(ctx, uow, membership_id, after, kind, delta, reason, actor)
        assert entry is not None
        audit(
            ctx,
            uow,
            actor,
            f"balance.{kind}",
            f"membership:{membership_id}",
            {"amount": amount_text, "reason": reason},
        )
        uow.commit()
    return {
        "entry": ledger_entry_view(entry),
        "balance": format_amount(after.balance_minor, m.currency),
    }


def ledger_of(ctx: Context, site_id: int) -> LedgerView:
    """Invoices and balance movements of the site's membership (support's view)."""
    with ctx.uow() as uow:
        membership_id, m = membership_of(uow, live_site(uow, site_id))
        return {
            "membership_id": membership_id,
            "balance": format_amount(m.balance_minor, m.currency),
            "invoices": [invoice_view(i) for i in uow.invoices.of_membership(membership_id)],
            "entries": [ledger_entry_view(e) for e in uow.ledger.of_membership(membership_id)],
        }
