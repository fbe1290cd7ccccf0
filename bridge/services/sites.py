"""Sites and what they may choose: the site view and the Change page's options (§4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from bridge.domain.eligibility import eligible_addons, eligible_plans, explain
from bridge.domain.errors import NotEligible
from bridge.domain.membership import Membership, Selection
from bridge.domain.money import format_amount
from bridge.domain.periods import BillingOption
from bridge.domain.proration import limits_of, quote_change
from bridge.services.context import Context
from bridge.services.limits import live_site, membership_of
from bridge.services.records import limits_json
from bridge.services.views import (
    RECEIPTS_SHOWN,
    ProductRef,
    SiteView,
    invoice_view,
    limits_state_view,
    membership_view,
    product_ref,
    site_details,
    site_limits,
)


class OptionsView(TypedDict, total=False):
    site_id: int
    currency: str
    current_plan: ProductRef
    selected_plan: str
    plans: list[dict[str, Any]]
    addons: list[dict[str, Any]]
    explanation: dict[str, Any]


def site_view(ctx: Context, site_id: int) -> SiteView:
    """A site, its membership, its limits (desired and applied version), an unpaid change."""
    with ctx.uow() as uow:
        site = live_site(uow, site_id)
        membership = None
        m = None
        pending = None
        if site.membership_id is not None:
            _mid, m = membership_of(uow, site)
            issued = uow.sales_receipts.of_membership(site.membership_id, RECEIPTS_SHOWN)
            membership = membership_view(ctx.catalog, site.membership_id, m, ctx.tax, issued)
            open_changes = uow.invoices.open_of(site.membership_id)
            pending = invoice_view(open_changes[0]) if open_changes else None
        limits = limits_state_view(uow.limits.get(site_id))
        if limits["limits"] is None:
            limits["limits"] = site_limits(
                ctx.catalog, m, site.domain(), ctx.settings.default_plan
            ).to_json()
        return {
            "site": site_details(site),
            "membership": membership,
            "limits": limits,
            "pending_invoice": pending,
        }


def options(
    ctx: Context, site_id: int, product: str | None = None, plan: str | None = None
) -> OptionsView:
    """Eligible plans (with billing options, change kind and timing) and add-ons; ?product explains."""
    with ctx.uow() as uow:
        _mid, m = membership_of(uow, live_site(uow, site_id))
    now = ctx.now()
    catalog = ctx.catalog
    c = catalog.currency
    plans = []
    for offer in eligible_plans(catalog, m):
        choices = []
        for variation in offer.options:
            change, timing, due = _preview(ctx, m, offer.product.id, variation.billing, now)
            choices.append(
                {
                    "billing": variation.billing.to_json(),
                    "price": format_amount(variation.price_minor, c),
                    "current": offer.current and variation.billing == m.billing,
                    "kind": change,
                    "timing": timing,
                    "due_now": due,
                }
            )
        preferred = next((o for o in choices if o["billing"] == m.billing.to_json()), choices[0])
        plans.append(
            {
                "id": offer.product.id,
                "name": offer.product.name,
                "product_kind": "plan",
                "current": offer.current,
                "group": offer.product.group,
                "order": offer.product.order,
                "kind": preferred["kind"],
                "timing": preferred["timing"],
                "price": preferred["price"],
                "billing": preferred["billing"],
                "setup_fee": format_amount(offer.product.setup_fee_minor, c),
                "trial_days": offer.product.trial_days,
                "options": choices,
                "limits": limits_of(catalog, offer.product.id, {}, None).to_json(),
            }
        )
    selected_plan = plan or m.plan
    if catalog.get(selected_plan) is None:
        raise NotEligible(f"'{selected_plan}' does not exist.", "unknown_product")
    addons = [
        {
            "id": addon.product.id,
            "name": addon.product.name,
            "kind": addon.product.kind,
            "timing": "immediate",
            "price": format_amount(addon.price_minor, c),
            "billing": addon.product.billing.to_json(),
            "owned_quantity": addon.owned_quantity,
            "limits": limits_json(addon.product.limits) or {},
        }
        for addon in eligible_addons(catalog, m, selected_plan)
    ]
    doc: OptionsView = {
        "site_id": site_id,
        "currency": c,
        "current_plan": product_ref(catalog, m.plan),
        "selected_plan": selected_plan,
        "plans": plans,
        "addons": addons,
    }
    if product is not None:
        e = explain(catalog, m, product, plan)
        doc["explanation"] = {
            "product": e.product,
            "offered": e.offered,
            "code": e.code,
            "message": e.message,
        }
    return doc


def _preview(
    ctx: Context, m: Membership, plan_id: str, billing: BillingOption, at: datetime
) -> tuple[str | None, str | None, str | None]:
    try:
        q = quote_change(ctx.catalog, ctx.policy, m, Selection(plan_id, billing, None), at, ctx.tax)
    except NotEligible:
        return None, None, None
    return q.kind, q.timing, format_amount(q.totals.due_now_minor, q.currency)
