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


# §4: when several reasons apply, the first in this order is given, across the plan and every
# add-on of the selection together (the plan's reason before an add-on's with the same code).
REFUSAL_ORDER: tuple[str, ...] = (
    "membership_inactive",
    "payment_due",
    "unknown_product",
    "inactive",
    "other_group",
    "perpetual_plan",
    "billing_not_offered",
    "not_offered_with_plan",
    "invalid_quantity",
)
PAYMENT_DUE_MESSAGE = (
    "Your renewal invoice is not paid yet. Pay it first, the way you usually pay this "
    "network's invoices, or ask the network operator how; then you can make the change."
)


def _first(reasons: list[NotEligible]) -> NotEligible | None:
    if not reasons:
        return None
    return min(reasons, key=lambda r: REFUSAL_ORDER.index(r.code))


def resolve_selection(catalog: Catalog, membership: Membership, selection: Selection) -> Resolved:
    """Check a selection against §4 and fill in omitted fields; raises NotEligible with the first
    reason in the contract's order."""
    if membership.status == "cancelled":
        raise NotEligible(
            "This membership is cancelled, so it cannot be changed. Start a new membership instead.",
            "membership_inactive",
        )
    if membership.status == "past_due":
        raise NotEligible(PAYMENT_DUE_MESSAGE, "payment_due")
    reasons: list[NotEligible] = []
    current = current_plan(catalog, membership)
    plan = catalog.get(selection.plan)
    resolved_plan: tuple[Product, BillingOption, int] | None = None
    if plan is None or plan.kind != "plan":
        what = "does not exist" if plan is None else f"is a {plan.kind}, not a plan"
        reasons.append(NotEligible(f"'{selection.plan}' {what}.", "unknown_product"))
        plan = None
    else:
        resolved_plan = _check_plan(membership, current, plan, selection, reasons)
    addons = _check_addons(catalog, membership, plan, selection, reasons)
    first = _first(reasons)
    if first is not None:
        raise first
    assert plan is not None and resolved_plan is not None
    _, billing, price = resolved_plan
    return Resolved(plan, billing, price, addons)


def _check_plan(
    membership: Membership,
    current: Product | None,
    plan: Product,
    selection: Selection,
    reasons: list[NotEligible],
) -> tuple[Product, BillingOption, int] | None:
    is_current = plan.id == membership.plan
    if not plan.active and not is_current:
        reasons.append(NotEligible(f"{plan.name} is no longer sold.", "inactive"))
    current_group = current.group if current else None
    if plan.group != current_group:
        reasons.append(
            NotEligible(
                f"{plan.name} is in {_group_name(plan.group)} and your plan "
                f"{current.name if current else membership.plan} is in "
                f"{_group_name(current_group)}; only plans of the same group are offered.",
                "other_group",
            )
        )
    options = _plan_options(plan, membership)
    billing = selection.billing
    if billing is None:
        billing = (
            membership.billing
            if any(o.billing == membership.billing for o in options)
            else plan.billing
        )
    if membership.billing.is_once and not billing.is_once:
        reasons.append(
            NotEligible(
                "Your plan is paid once and never expires; it cannot move to a recurring plan.",
                "perpetual_plan",
            )
        )
    price = next((o.price_minor for o in options if o.billing == billing), None)
    if price is None:
        offered = ", ".join(o.billing.describe() for o in options)
        reasons.append(
            NotEligible(
                f"{plan.name} is not billed every {billing.describe()}; it is billed: {offered}.",
                "billing_not_offered",
            )
        )
        return None
    return plan, billing, price


def _valid_quantity(quantity: object) -> bool:
    return (
        isinstance(quantity, int)
        and not isinstance(quantity, bool)
        and 0 <= quantity <= MAX_QUANTITY
    )


def _check_addons(
    catalog: Catalog,
    membership: Membership,
    plan: Product | None,
    selection: Selection,
    reasons: list[NotEligible],
) -> dict[str, int]:
    if selection.addons is None:
        # Omitted: keep what the membership holds, as far as the selected plan offers it.
        offered = plan.addons if plan is not None else ()
        return {pid: q for pid, q in membership.addon_quantities().items() if pid in offered}
    resolved: dict[str, int] = {}
    for addon_id, quantity in selection.addons.items():
        addon = catalog.get(addon_id)
        if addon is None or addon.kind == "plan":
            what = "does not exist" if addon is None else "is a plan, not an add-on"
            reasons.append(NotEligible(f"'{addon_id}' {what}.", "unknown_product"))
            continue
        valid = _valid_quantity(quantity)
        if valid and quantity == 0:
            continue
        holding = membership.addons.get(addon_id)
        owned = holding.quantity if holding else 0
        if not addon.active and not (valid and quantity <= owned):
            reasons.append(NotEligible(f"{addon.name} is no longer sold.", "inactive"))
        if plan is not None and addon_id not in plan.addons:
            reasons.append(
                NotEligible(
                    f"{addon.name} is not offered with {plan.name}.", "not_offered_with_plan"
                )
            )
        if not valid:
            reasons.append(
                NotEligible(
                    f"The quantity of {addon.name} must be a whole number from 0 to "
                    f"{MAX_QUANTITY}, not {quantity!r}.",
                    "invalid_quantity",
                )
            )
            continue
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
