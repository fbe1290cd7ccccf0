"""The upgrade paths a catalog offers: from each plan and billing option, every plan and option
the Change page offers, with the kind and timing a quote would give it at catalog prices.

Nothing here decides anything itself: offers come from `eligibility.eligible_plans` and
`resolve_selection`, kind and timing from `proration.classify_change`, so the picture the
operator sees can never disagree with what an owner is offered and charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.domain.catalog import Catalog, Policy, Product
from bridge.domain.eligibility import eligible_plans, resolve_selection
from bridge.domain.errors import NotEligible
from bridge.domain.membership import Membership, Selection
from bridge.domain.periods import BillingOption
from bridge.domain.proration import classify_change


@dataclass(frozen=True)
class Stop:
    """A plan on one of its billing options, at its catalog price."""

    plan: str
    name: str
    billing: BillingOption
    price_minor: int
    group: str | None


@dataclass(frozen=True)
class Path:
    source: Stop
    target: Stop
    kind: str  # upgrade | downgrade | crossgrade
    timing: str  # immediate | end_of_term


@dataclass(frozen=True)
class Family:
    """The plans of one plan group (or of no group, `name` None) in the Change page's order."""

    name: str | None
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class PathMap:
    families: tuple[Family, ...]  # the named groups by name, then the plans in no group
    paths: tuple[Path, ...]

    def offered_from(self, plan: str) -> set[str]:
        """The plans a member of `plan` is offered to move to (any option), itself excluded."""
        return {p.target.plan for p in self.paths if p.source.plan == plan} - {plan}


def _stops(plan: Product) -> list[Stop]:
    return [
        Stop(plan.id, plan.name, option.billing, option.price_minor, plan.group)
        for option in plan.billing_options()
    ]


def _member_of(catalog: Catalog, stop: Stop, at: datetime) -> Membership:
    end = None if stop.billing.is_once else at + timedelta(days=30)
    return Membership(
        plan=stop.plan,
        billing=stop.billing,
        plan_price_minor=stop.price_minor,
        status="active",
        anchor=at,
        period_start=at,
        period_end=end,
        currency=catalog.currency,
    )


def upgrade_paths(catalog: Catalog, policy: Policy, at: datetime) -> PathMap:
    """Every move the rules offer between the active plans of `catalog`, kind and timing
    as a member paying the catalog price would be quoted (§4, §5)."""
    plans = [p for p in catalog.products.values() if p.kind == "plan" and p.active]
    paths: list[Path] = []
    by_family: dict[str | None, list[Stop]] = {}
    for plan in plans:
        for source in _stops(plan):
            member = _member_of(catalog, source, at)
            offers = eligible_plans(catalog, member)
            for offer in offers:
                for option in offer.options:
                    if offer.product.id == source.plan and option.billing == source.billing:
                        continue
                    selection = Selection(offer.product.id, option.billing, {})
                    try:
                        target = resolve_selection(catalog, member, selection)
                    except NotEligible:
                        continue
                    kind, timing = classify_change(catalog, policy, member, target)
                    paths.append(
                        Path(
                            source,
                            Stop(
                                offer.product.id,
                                offer.product.name,
                                option.billing,
                                option.price_minor,
                                offer.product.group,
                            ),
                            kind,
                            timing,
                        )
                    )
        by_family.setdefault(plan.group, [])
    for family in by_family:
        ordered = sorted(
            (p for p in plans if p.group == family),
            key=lambda p: (p.order, min(o.price_minor for o in p.billing_options()), p.id),
        )
        by_family[family] = [stop for p in ordered for stop in _stops(p)]
    names = sorted(name for name in by_family if name is not None)
    families = [Family(name, tuple(by_family[name])) for name in names]
    if None in by_family:
        families.append(Family(None, tuple(by_family[None])))
    return PathMap(tuple(families), tuple(paths))
