"""What the Change page offers and why anything else is refused (billing-rules.md §4)."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.domain.catalog import Catalog, Product, Variation
from bridge.domain.errors import NotEligible
from bridge.domain.membership import Membership, Selection
from bridge.domain.periods import BillingOption

MAX_QUANTITY = 999


@dataclass(frozen=True)
class PlanOffer:
    product: Product
    options: tuple[Variation, ...]
    current: bool


@dataclass(frozen=True)
class AddonOffer:
    product: Product
    price_minor: int
    owned_quantity: int


@dataclass(frozen=True)
class Resolved:
    """A selection checked against the catalog: every field decided."""

    plan: Product
    billing: BillingOption
    plan_price_minor: int
    addons: dict[str, int]


@dataclass(frozen=True)
class Explanation:
    product: str
    offered: bool
    code: str | None
    message: str


def _group_name(group: str | None) -> str:
    return f"the plan group '{group}'" if group else "no plan group"


def current_plan(catalog: Catalog, membership: Membership) -> Product | None:
    return catalog.get(membership.plan)


def _plan_options(plan: Product, membership: Membership) -> tuple[Variation, ...]:
    options = []
    for option in plan.billing_options():
        if plan.id == membership.plan and option.billing == membership.billing:
            option = Variation(option.billing, membership.plan_price_minor)  # grandfathered
        options.append(option)
    if plan.id == membership.plan and plan.price_for(membership.billing) is None:
        options.append(Variation(membership.billing, membership.plan_price_minor))
    return tuple(options)


def eligible_plans(catalog: Catalog, membership: Membership) -> list[PlanOffer]:
    """Active plans of the current plan's group (or of no group), current one flagged, in order."""
    current = current_plan(catalog, membership)
    group = current.group if current else None
    offers = []
    for product in catalog.products.values():
        if product.kind != "plan" or product.group != group:
            continue
        is_current = product.id == membership.plan
        if not product.active and not is_current:
            continue
        if membership.billing.is_once and not is_current and not product.billing.is_once:
            continue  # a perpetual plan never moves back to a recurring one
        offers.append(PlanOffer(product, _plan_options(product, membership), is_current))
    if current is None:
        raise NotEligible(
            f"The current plan '{membership.plan}' is not in the catalog.", "unknown_product"
        )
    offers.sort(
        key=lambda o: (o.product.order, min(v.price_minor for v in o.options), o.product.id)
    )
    return offers


def eligible_addons(catalog: Catalog, membership: Membership, plan_id: str) -> list[AddonOffer]:
    """Active packages/services offered with `plan_id`, plus add-ons already owned (even retired)."""
    plan = catalog.get(plan_id)
    offered = plan.addons if plan is not None else ()
    offers = []
    for addon_id in offered:
        addon = catalog.get(addon_id)
        if addon is None:
            continue
        holding = membership.addons.get(addon_id)
        if not addon.active and holding is None:
            continue
        price = holding.price_minor if holding is not None else addon.price_minor
        offers.append(AddonOffer(addon, price, holding.quantity if holding else 0))
    return offers


def resolve_selection(catalog: Catalog, membership: Membership, selection: Selection) -> Resolved:
    """Check a selection against §4 and fill in omitted fields; raises NotEligible with a reason."""
    if membership.status == "cancelled":
        raise NotEligible(
            "This membership is cancelled, so it cannot be changed. Start a new membership instead.",
            "membership_inactive",
        )
    current = current_plan(catalog, membership)
    plan = catalog.get(selection.plan)
    if plan is None or plan.kind != "plan":
        what = "does not exist" if plan is None else f"is a {plan.kind}, not a plan"
        raise NotEligible(f"'{selection.plan}' {what}.", "unknown_product")
    is_current = plan.id == membership.plan
    if not plan.active and not is_current:
        raise NotEligible(f"{plan.name} is no longer sold.", "inactive")
    current_group = current.group if current else None
    if plan.group != current_group:
        raise NotEligible(
            f"{plan.name} is in {_group_name(plan.group)} and your plan "
            f"{current.name if current else membership.plan} is in {_group_name(current_group)}; "
            "only plans of the same group are offered.",
            "other_group",
        )
    options = _plan_options(plan, membership)
    billing = selection.billing
    if billing is None:
        billing = (
            membership.billing
            if any(o.billing == membership.billing for o in options)
            else plan.billing
        )
    price = next((o.price_minor for o in options if o.billing == billing), None)
    if price is None:
        offered = ", ".join(o.billing.describe() for o in options)
        raise NotEligible(
            f"{plan.name} is not billed every {billing.describe()}; it is billed: {offered}.",
            "billing_not_offered",
        )
    if membership.billing.is_once and not billing.is_once:
        raise NotEligible(
            "Your plan is paid once and never expires; it cannot move to a recurring plan.",
            "perpetual_plan",
        )
    addons = _resolve_addons(catalog, membership, plan, selection)
    return Resolved(plan, billing, price, addons)


def _resolve_addons(
    catalog: Catalog, membership: Membership, plan: Product, selection: Selection
) -> dict[str, int]:
    if selection.addons is None:
        # Omitted: keep what the membership holds, as far as the selected plan offers it.
        return {pid: q for pid, q in membership.addon_quantities().items() if pid in plan.addons}
    resolved: dict[str, int] = {}
    for addon_id, quantity in selection.addons.items():
        addon = catalog.get(addon_id)
        if addon is None or addon.kind == "plan":
            what = "does not exist" if addon is None else "is a plan, not an add-on"
            raise NotEligible(f"'{addon_id}' {what}.", "unknown_product")
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 0 <= quantity <= MAX_QUANTITY
        ):
            raise NotEligible(
                f"The quantity of {addon.name} must be a whole number from 0 to {MAX_QUANTITY}, not {quantity!r}.",
                "invalid_quantity",
            )
        if quantity == 0:
            continue
        holding = membership.addons.get(addon_id)
        owned = holding.quantity if holding else 0
        if not addon.active and quantity > owned:
            raise NotEligible(f"{addon.name} is no longer sold.", "inactive")
        if addon_id not in plan.addons:
            raise NotEligible(
                f"{addon.name} is not offered with {plan.name}.", "not_offered_with_plan"
            )
        resolved[addon_id] = quantity
    return resolved


def explain(
    catalog: Catalog, membership: Membership, product_id: str, plan_id: str | None = None
) -> Explanation:
    """Why a product is or is not offered to this membership (with `plan_id` selected for add-ons)."""
    product = catalog.get(product_id)
    if product is None:
        return Explanation(product_id, False, "unknown_product", f"'{product_id}' does not exist.")
    try:
        if product.kind == "plan":
            resolve_selection(catalog, membership, Selection(plan=product_id, addons={}))
            verb = "is your current plan" if product_id == membership.plan else "is offered"
            return Explanation(product_id, True, None, f"{product.name} {verb}.")
        plan = plan_id or membership.plan
        quantities = membership.addon_quantities()
        quantities[product_id] = max(1, quantities.get(product_id, 0))
        resolve_selection(catalog, membership, Selection(plan=plan, addons=quantities))
        plan_name = catalog.products[plan].name if plan in catalog.products else plan
        return Explanation(product_id, True, None, f"{product.name} is offered with {plan_name}.")
    except NotEligible as exc:
        return Explanation(product_id, False, exc.code, exc.message)
