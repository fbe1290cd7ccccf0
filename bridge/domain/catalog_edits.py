"""Rules for changing a catalog that members already hold, and the impact of a change (§2, §4).

Pure: both catalogs and the members' holdings come in as plain values. Members keep their agreed
prices (they are stored on the membership), so a price change needs no rule here; what can break
a membership is a product it holds disappearing or changing kind, an add-on period that no longer
divides its plan's period, or the plans every new and fallen-back site lands on being retired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.domain.catalog import Catalog, CatalogProblem
from bridge.domain.catalog_data import product_data
from bridge.domain.limits import EffectiveLimits, Limits, lowers_any
from bridge.domain.membership import Site
from bridge.domain.periods import BillingOption, period_ratio
from bridge.domain.preflight import Block, preflight
from bridge.domain.proration import limits_of


@dataclass(frozen=True)
class Holder:
    """What one membership holds of the catalog: its plan and billing, add-ons, sites."""

    membership_id: int
    plan: str
    billing: BillingOption
    addons: dict[str, int] = field(default_factory=dict)
    sites: tuple[Site, ...] = ()
    overrides: Limits | None = None
    scheduled_plan: str | None = None
    scheduled_addons: tuple[str, ...] = ()

    def held(self) -> set[str]:
        """Every product id this membership holds now or has scheduled."""
        ids = {self.plan, *self.addons, *self.scheduled_addons}
        if self.scheduled_plan:
            ids.add(self.scheduled_plan)
        return ids


@dataclass(frozen=True)
class FieldChange:
    product: str
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class LimitsMove:
    """A membership whose limits change with the edit: at once when raised, at renewal when
    lowered (and then `over` lists what its sites use beyond the new limits)."""

    membership_id: int
    site_ids: tuple[int, ...]
    lowered: bool
    over: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Impact:
    """What saving an edit does: changed fields, members and sites touched, documents to push."""

    changes: tuple[FieldChange, ...]
    members: tuple[int, ...]
    sites: tuple[int, ...]
    push_now: tuple[int, ...]  # site ids whose limits documents are pushed at once
    at_renewal: tuple[LimitsMove, ...]  # memberships whose limits drop at their renewal

    @property
    def over_later(self) -> tuple[Block, ...]:
        return tuple(block for move in self.at_renewal for block in move.over)


def catalog_diff(before: Catalog, after: Catalog) -> list[FieldChange]:
    """Field-by-field changes from `before` to `after` in the catalog's own format."""
    changes: list[FieldChange] = []
    if before.currency != after.currency:
        changes.append(FieldChange("", "currency", before.currency, after.currency))
    for pid in sorted(set(before.products) | set(after.products)):
        old = _fields(before, pid)
        new = _fields(after, pid)
        if old is None or new is None:
            changes.append(FieldChange(pid, "(product)", old, new))
            continue
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                changes.append(FieldChange(pid, key, old.get(key), new.get(key)))
    return changes


def _fields(catalog: Catalog, pid: str) -> dict[str, object] | None:
    product = catalog.get(pid)
    return None if product is None else product_data(product, catalog.currency)


def edit_problems(
    before: Catalog,
    after: Catalog,
    holders: list[Holder],
    default_plan: str,
    fallback_plan: str,
) -> list[CatalogProblem]:
    """Refuse edits that would break what members hold, each problem naming product and field."""
    problems: list[CatalogProblem] = []
    if before.currency != after.currency and holders:
        problems.append(
            CatalogProblem(None, "currency", "members pay in this currency; it cannot change")
        )
    held_by: dict[str, list[int]] = {}
    for holder in holders:
        for pid in holder.held():
            held_by.setdefault(pid, []).append(holder.membership_id)
    for pid, members in sorted(held_by.items()):
        old, new = before.get(pid), after.get(pid)
        if old is None:
            continue
        if new is None:
            problems.append(
                CatalogProblem(
                    pid,
                    "(product)",
                    f"{_count(members)} hold {old.name}; it cannot be deleted or renamed, "
                    "retire it instead (active: false)",
                )
            )
        elif new.kind != old.kind:
            problems.append(
                CatalogProblem(
                    pid, "kind", f"{_count(members)} hold {old.name} as a {old.kind}; it stays one"
                )
            )
    problems += _addon_periods(after, holders)
    for key, plan_id in (("default", default_plan), ("fallback", fallback_plan)):
        plan = after.get(plan_id)
        if plan is None or plan.kind != "plan":
            problems.append(
                CatalogProblem(plan_id, "(product)", f"the {key} plan must stay a plan")
            )
        elif not plan.active:
            problems.append(CatalogProblem(plan_id, "active", f"the {key} plan cannot be retired"))
    return _unique(problems)


def _addon_periods(after: Catalog, holders: list[Holder]) -> list[CatalogProblem]:
    problems: list[CatalogProblem] = []
    for holder in holders:
        plan = after.get(holder.plan)
        for addon_id in holder.addons:
            addon = after.get(addon_id)
            if addon is None or addon.billing.is_once or holder.billing.is_once:
                continue
            if period_ratio(addon.billing, holder.billing) is None:
                plan_name = plan.name if plan is not None else holder.plan
                problems.append(
                    CatalogProblem(
                        addon_id,
                        "billing",
                        f"every {addon.billing.describe()} has no exact ratio to "
                        f"{plan_name} every {holder.billing.describe()}, which a member "
                        f"holds it with (membership {holder.membership_id})",
                    )
                )
    return problems


def _unique(problems: list[CatalogProblem]) -> list[CatalogProblem]:
    seen: set[tuple[str | None, str]] = set()
    out = []
    for problem in problems:
        key = (problem.product, problem.field)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _count(members: list[int]) -> str:
    return "1 member" if len(members) == 1 else f"{len(members)} members"


def _limits(catalog: Catalog, holder: Holder) -> EffectiveLimits:
    return limits_of(catalog, holder.plan, holder.addons, holder.overrides)


def edit_impact(before: Catalog, after: Catalog, holders: list[Holder]) -> Impact:
    """Members and sites an edit touches; raised limits push now, lowered ones wait (§2)."""
    changes = catalog_diff(before, after)
    changed = {c.product for c in changes}
    members: list[int] = []
    sites: list[int] = []
    push_now: list[int] = []
    at_renewal: list[LimitsMove] = []
    for holder in holders:
        if not holder.held() & changed:
            continue
        members.append(holder.membership_id)
        site_ids = tuple(site.id for site in holder.sites)
        sites += site_ids
        old, new = _limits(before, holder), _limits(after, holder)
        if old == new:
            continue
        if lowers_any(old, new):
            plan = after.get(holder.plan)
            over = preflight(holder.sites, new, plan.name if plan else holder.plan)
            at_renewal.append(LimitsMove(holder.membership_id, site_ids, True, tuple(over)))
        else:
            push_now += site_ids
    return Impact(tuple(changes), tuple(members), tuple(sites), tuple(push_now), tuple(at_renewal))
