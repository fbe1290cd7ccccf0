"""The catalog's versions: seed, compare with config.yaml, preview, import, export, revert.

A new version is only ever stored through `import_catalog`: the catalog is parsed and validated
(§2), checked against what members hold (`domain.catalog_edits`), stored with who, when, why and
its diff, and the sites whose limits rose get new limits documents in the same transaction.
Lowered limits reach a site with its membership's next write (its renewal at the latest), when
its documents are rebuilt; the preview lists the sites that will then be over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.domain.catalog import (
    Catalog,
    CatalogInvalid,
    CatalogProblem,
    parse_catalog,
)
from bridge.domain.catalog_data import catalog_data
from bridge.domain.catalog_edits import Holder, Impact, edit_impact, edit_problems
from bridge.errors import ConcurrentChange, NotFound
from bridge.services.catalog_source import CatalogSnapshot
from bridge.services.context import Actor, Context
from bridge.services.fanout import queue_pushes
from bridge.services.journal import audit
from bridge.services.limits import bump_site, sync_default_limits
from bridge.services.ports import CatalogVersionRecord, UnitOfWork

log = logging.getLogger(__name__)

CONFIG_ACTOR = "config.yaml"


@dataclass(frozen=True)
class Preview:
    """What importing a catalog would do; `problems` non-empty means it would be refused."""

    base_version: int
    catalog: Catalog | None
    problems: tuple[CatalogProblem, ...]
    impact: Impact | None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Imported:
    """The version now current (unchanged when the catalog was the same) and what it did."""

    version: int
    impact: Impact


def holders(uow: UnitOfWork) -> list[Holder]:
    """Every membership's holdings as plain values for the domain's edit rules."""
    out: list[Holder] = []
    for listing in uow.memberships.listing():
        m = uow.memberships.get(listing.id)
        scheduled = m.scheduled_change
        out.append(
            Holder(
                membership_id=listing.id,
                plan=m.plan,
                billing=m.billing,
                addons=m.addon_quantities(),
                sites=tuple(site.domain() for site in uow.sites.live_of(listing.id)),
                overrides=m.overrides,
                scheduled_plan=scheduled.plan if scheduled else None,
                scheduled_addons=tuple(scheduled.addon_quantities()) if scheduled else (),
            )
        )
    return out


def _preview(ctx: Context, uow: UnitOfWork, before: CatalogSnapshot, data: Any) -> Preview:
    try:
        after = parse_catalog(data)
    except CatalogInvalid as exc:
        return Preview(before.version, None, tuple(exc.problems), None)
    held = holders(uow)
    problems = edit_problems(
        before.catalog,
        after,
        held,
        ctx.settings.default_plan,
        ctx.settings.fallback_plan,
    )
    return Preview(before.version, after, tuple(problems), edit_impact(before.catalog, after, held))


def preview_import(ctx: Context, data: Any) -> Preview:
    """Validate `data` (a `catalog:` section) against §2 and the members' holdings; its impact."""
    before = ctx.snapshot()
    with ctx.uow() as uow:
        return _preview(ctx, uow, before, data)


def import_catalog(
    ctx: Context,
    data: Any,
    actor: Actor,
    who: str,
    reason: str,
    *,
    source: str = "import",
    base_version: int | None = None,
) -> Imported:
    """Store `data` as the new current version (who, when, why, diff); raised limits are pushed
    at once. Refused with CatalogInvalid naming product and field; ConcurrentChange when
    `base_version` is no longer current (someone saved in between)."""
    with ctx.uow() as uow:
        current = uow.catalogs.current_id() or 0
        before = _snapshot_at(ctx, uow, current)
        if base_version is not None and base_version != current:
            raise ConcurrentChange(
                f"The catalog changed (now version {current}) since you opened it; "
                "look at the current version and save again."
            )
        preview = _preview(ctx, uow, before, data)
        if not preview.ok or preview.catalog is None or preview.impact is None:
            raise CatalogInvalid(list(preview.problems))
        diff = [
            {"product": c.product, "field": c.field, "before": c.before, "after": c.after}
            for c in preview.impact.changes
        ]
        if not diff and current != 0:
            return Imported(current, preview.impact)  # the same catalog: no new version
        version = uow.catalogs.add(
            catalog_data(preview.catalog), who, reason, source, diff, ctx.now()
        )
        pinned = ctx.pinned(CatalogSnapshot(version, preview.catalog))
        raised = _push_raised(pinned, uow, preview.impact)
        fan_out = len(raised) >= ctx.settings.push.fanout_from
        if fan_out:
            uow.forget_pushes()  # many sites at once: one fan-out after the commit instead
        audit(
            ctx,
            uow,
            actor,
            f"catalog.{source}",
            f"catalog:{version}",
            {"who": who, "reason": reason, "changes": len(diff), "from_version": current},
        )
        uow.commit()
    if ctx.catalogs is not None:
        ctx.catalogs.forget()
    if fan_out:
        try:
            queue_pushes(ctx, raised)
        except Exception:  # the reconcile pass finds the sites behind
            log.exception("could not queue the fan-out of a catalog import")
    try:
        sync_default_limits(pinned)
    except Exception:  # the next start-up or `bridge repush` sends it
        log.exception("could not check the default limits after a catalog import")
    return Imported(version, preview.impact)


def _push_raised(ctx: Context, uow: UnitOfWork, impact: Impact) -> list[int]:
    pushed: dict[int, None] = {}
    for site_id in impact.push_now:
        site = uow.sites.get(site_id)
        if site is None or site.deleted_at is not None or site_id in pushed:
            continue
        m = None if site.membership_id is None else uow.memberships.get(site.membership_id)
        bump_site(ctx, uow, site, m)
        pushed[site_id] = None
    return list(pushed)


def _snapshot_at(ctx: Context, uow: UnitOfWork, version: int) -> CatalogSnapshot:
    if version == 0:
        return CatalogSnapshot(0, ctx.settings.catalog)
    record = uow.catalogs.get(version)
    assert record is not None
    return CatalogSnapshot(version, parse_catalog(record.document))


def version_record(ctx: Context, version: int) -> CatalogVersionRecord:
    """One stored version; NotFound when there is none."""
    with ctx.uow() as uow:
        record = uow.catalogs.get(version)
    if record is None:
        raise NotFound(f"There is no catalog version {version}.", "catalog_version_not_found")
    return record


def export_catalog(ctx: Context, version: int | None = None) -> dict[str, Any]:
    """The `catalog:` section of the current (or a given) version, in the quote-cli.md format."""
    if version is None:
        return catalog_data(ctx.snapshot().catalog)
    return catalog_data(parse_catalog(version_record(ctx, version).document))


def revert_catalog(ctx: Context, version: int, actor: Actor, who: str, reason: str) -> Imported:
    """Make an earlier version current again: an import of its document, checked like any."""
    document = version_record(ctx, version).document
    return import_catalog(
        ctx, document, actor, who, f"revert to version {version}: {reason}", source="revert"
    )


def versions(ctx: Context, offset: int, limit: int) -> tuple[list[CatalogVersionRecord], int]:
    """A page of versions, newest first, and the total."""
    with ctx.uow() as uow:
        return uow.catalogs.listing(offset, limit)


def config_differs(ctx: Context) -> bool:
    """True when config.yaml's catalog is not the current version (the console offers it)."""
    snapshot = ctx.snapshot()
    return snapshot.version != 0 and catalog_data(ctx.settings.catalog) != catalog_data(
        snapshot.catalog
    )


def start_up(ctx: Context, actor: Actor) -> str:
    """Seed an empty database from config.yaml's catalog ("seeded"); otherwise "current" or
    "differs" (logged as a warning: the console offers the import, nothing is applied)."""
    with ctx.uow() as uow:
        current = uow.catalogs.current_id()
        if current is None:
            document = catalog_data(ctx.settings.catalog)
            uow.catalogs.add(
                document,
                CONFIG_ACTOR,
                "first start: seeded from config.yaml",
                "seed",
                [],
                ctx.now(),
            )
            audit(ctx, uow, actor, "catalog.seed", "catalog:1", {"reason": "first start"})
            uow.commit()
            if ctx.catalogs is not None:
                ctx.catalogs.forget()
            return "seeded"
    if config_differs(ctx):
        log.warning(
            "config.yaml's catalog differs from the database's current catalog version; "
            "the database's version is in force. Import it in the console (/admin) or with "
            "`bridge catalog import` if it should be."
        )
        return "differs"
    return "current"


def problems_by_field(problems: tuple[CatalogProblem, ...]) -> Mapping[str, list[str]]:
    """Problems keyed `product.field` (or `field`), for showing each next to its field."""
    out: dict[str, list[str]] = {}
    for problem in problems:
        key = f"{problem.product}.{problem.field}" if problem.product else problem.field
        out.setdefault(key, []).append(problem.message)
    return out
