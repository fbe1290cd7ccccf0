"""Use case: bring an Ultimate Multisite 2.x network into the bridge (issue 18).

The mapping is pure (`bridge.ultimate_multisite`); this module decides, per product, customer,
membership and site, whether to create, update, leave or report, and writes through the
existing use cases and repositories: the catalog as a new version (`services.catalog`), the
memberships with their sites and limits documents (`services.limits`), and the remembered id
mapping in import records so that a second run is idempotent, brings UM's changes, keeps the
bridge's copy where it changed since (a conflict in the report), and `--undo BATCH` can remove
what one run created (`services.um_undo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from bridge.domain.catalog import Catalog, CatalogInvalid, parse_catalog
from bridge.domain.catalog_data import catalog_data, product_data
from bridge.domain.documents import instant
from bridge.domain.membership import Membership
from bridge.errors import NotFound, UmImportRefused
from bridge.services.catalog import import_catalog
from bridge.services.catalog_source import CatalogSnapshot
from bridge.services.context import Actor, Context
from bridge.services.journal import audit
from bridge.services.limits import bump_membership_sites, bump_site, save_membership
from bridge.services.ports import Owner, UnitOfWork
from bridge.services.records import billing_json, holdings_json, limits_json, scheduled_json
from bridge.ultimate_multisite.members import ImportedMembership, ImportedSite, buyer_of
from bridge.ultimate_multisite.plan import (
    currency_refusal,
    map_catalog,
    map_members,
    merge_catalog,
)
from bridge.ultimate_multisite.products import MappedProduct
from bridge.ultimate_multisite.report import Report
from bridge.ultimate_multisite.rows import UmNetwork

SOURCE = "ultimate-multisite"


@dataclass(frozen=True)
class ImportOutcome:
    """The report, and the batch written (None for a dry run)."""

    report: Report
    batch_id: int | None = None
    catalog_version: int | None = None


def membership_json(m: Membership) -> dict[str, Any]:
    """What an import wrote of a membership, to see later whether UM's copy changed."""
    return {
        "plan": m.plan,
        "billing": billing_json(m.billing),
        "plan_price_minor": m.plan_price_minor,
        "status": m.status,
        "period_start": instant(m.period_start),
        "period_end": instant(m.period_end) if m.period_end else None,
        "trial_end": instant(m.trial_end) if m.trial_end else None,
        "addons": holdings_json(m.addons),
        "paid_value_minor": m.paid_value_minor,
        "setup_fee_paid_minor": m.setup_fee_paid_minor,
        "scheduled_change": scheduled_json(m.scheduled_change),
        "overrides": limits_json(m.overrides),
    }


# ----------------------------------------------------------------------------------- tax
def store_tax_rate_paid(uow: UnitOfWork, membership_id: int, rate: Decimal | None) -> str | None:
    """The tax rate UM charged (percent, as text) for the import record and the report; None:
    untaxed. The membership itself carries it as `tax_rate_paid` (set by the mapping)."""
    del uow, membership_id
    return None if rate is None else format(rate.normalize(), "f")


# ------------------------------------------------------------------------------ catalog


def _normalized(current: Mapping[str, Any], products: Mapping[str, MappedProduct]) -> Catalog:
    data = merge_catalog(current, {pid: p.data for pid, p in products.items()})
    try:
        return parse_catalog(data)
    except CatalogInvalid as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise UmImportRefused(
            f"The network's catalog does not fit the bridge's rules: {problems}"
        ) from exc


def _choose_products(
    uow: UnitOfWork,
    current: Mapping[str, Any],
    normalized: Mapping[str, Any],
    report: Report,
) -> dict[str, Any]:
    """The imported products to write: new ones, and UM's changes where the bridge's copy is
    still what the last import wrote; the rest keep the bridge's copy (a conflict)."""
    chosen: dict[str, Any] = {}
    ours = current.get("products") or {}
    for pid, data in normalized.items():
        record = uow.imports.record(SOURCE, "product", pid)
        bridge = ours.get(pid)
        if record is None:
            if bridge is not None and bridge != data:
                report.conflicts.append(
                    (
                        "product",
                        pid,
                        "the bridge has a product with this id that this import "
                        "did not write; the bridge's is kept",
                    )
                )
                continue
            chosen[pid] = data
        elif bridge != record.written:
            if data != record.written:
                report.conflicts.append(
                    (
                        "product",
                        pid,
                        "changed in Ultimate Multisite and in the bridge since the "
                        "last import; the bridge's is kept",
                    )
                )
        elif data != record.written:
            report.changes.append(("product", pid, "updated from Ultimate Multisite"))
            chosen[pid] = data
    return chosen


# ---------------------------------------------------------------------------- members


@dataclass
class _Run:
    ctx: Context
    uow: UnitOfWork
    report: Report
    batch: int | None  # None: a dry run (nothing is written)

    @property
    def write(self) -> bool:
        return self.batch is not None


def _apply_membership(run: _Run, im: ImportedMembership) -> None:
    uow, report = run.uow, run.report
    record = uow.imports.record(SOURCE, "membership", str(im.um_id))
    written = membership_json(im.membership)
    if record is None:
        membership_id = _create(run, im) if run.write else None
        _apply_sites(run, im, membership_id)
        return
    membership_id = int(record.bridge_id)
    try:
        current = uow.memberships.get(membership_id, lock=run.write)
    except NotFound:
        report.conflicts.append(
            (
                "membership",
                str(im.um_id),
                "deleted in the bridge since the last import; not re-created",
            )
        )
        return
    if current.version != record.written_version:
        if written != record.written:
            report.conflicts.append(
                (
                    "membership",
                    str(im.um_id),
                    f"changed in Ultimate Multisite and in the bridge "
                    f"(membership {membership_id}) since the last import; the bridge's is kept",
                )
            )
    elif written != record.written:
        report.changes.append(("membership", str(im.um_id), f"membership {membership_id} updated"))
        if run.write:
            after = replace(
                im.membership,
                balance_minor=current.balance_minor,
                sites=current.sites,
                version=current.version + 1,
            )
            stored = save_membership(run.ctx, uow, membership_id, current, after)
            _remember_membership(run, im, membership_id, stored.version)
    _apply_sites(run, im, membership_id)


def _create(run: _Run, im: ImportedMembership) -> int:
    uow, now = run.uow, run.ctx.now()
    c = im.customer
    customer_id = uow.customers.ensure(Owner(c.user_id, c.email, c.locale), now)
    membership_id = uow.memberships.add(customer_id, im.membership, now)
    assert run.batch is not None
    uow.imports.remember(
        run.batch,
        SOURCE,
        "customer",
        str(c.um_id),
        str(customer_id),
        {},
        None,
        {"user_id": c.user_id, "billing": dict(c.billing)},
    )
    _remember_membership(run, im, membership_id, im.membership.version)
    buyer = buyer_of(c)
    if buyer is not None:  # the receipts' buyer; the owner can edit it in the checkout
        uow.sales_receipts.set_buyer(membership_id, buyer, now)
    return membership_id


def _remember_membership(
    run: _Run, im: ImportedMembership, membership_id: int, version: int
) -> None:
    assert run.batch is not None
    run.uow.imports.remember(
        run.batch,
        SOURCE,
        "membership",
        str(im.um_id),
        str(membership_id),
        membership_json(im.membership),
        version,
        {
            "gateway": im.gateway,
            "gateway_customer_id": im.gateway_customer_id,
            "gateway_subscription_id": im.gateway_subscription_id,
            "tax_rate_paid": store_tax_rate_paid(run.uow, membership_id, im.tax_rate_paid),
            "derived_prices": im.derived_prices,
            "last_renewed_at": instant(im.last_renewed_at) if im.last_renewed_at else None,
        },
    )


def _apply_sites(run: _Run, im: ImportedMembership, membership_id: int | None) -> None:
    """Attach the membership's sites: new to the bridge, unattached, or on a membership that
    came from `site.created` alone (default plan, nothing happened on it) — else left."""
    uow, report = run.uow, run.report
    attached = False
    for s in im.sites:
        site = uow.sites.get(s.blog_id)
        other = None if site is None or site.deleted_at else site.membership_id
        if other is not None and other == membership_id:
            continue
        moved: dict[str, Any] | None = None
        if other is not None:
            m = uow.memberships.get(other)
            if m.plan != run.ctx.settings.default_plan or uow.imports.activity(other):
                report.sites_left.append(
                    (
                        s.blog_id,
                        f"its bridge membership {other} is not on the default plan or "
                        "has invoices; left there (put it on its plan by hand if it should follow)",
                    )
                )
                continue
            moved = {"from": other, "status": m.status}
            report.count("sites moved from their site.created membership")
        if run.write and membership_id is not None:
            c = im.customer
            owner = Owner(c.user_id, c.email, c.locale)
            create = site is None or site.deleted_at is not None
            moved = _attach(run, s, owner if create else None, membership_id, moved)
            assert run.batch is not None
            uow.imports.remember(
                run.batch,
                SOURCE,
                "site",
                str(s.blog_id),
                str(s.blog_id),
                {},
                None,
                {"created": site is None, "moved": moved, "membership": membership_id},
            )
            attached = True
    if attached and membership_id is not None:
        bump_membership_sites(run.ctx, uow, membership_id)


def _attach(
    run: _Run,
    s: ImportedSite,
    create_for: Owner | None,
    membership_id: int,
    moved: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The site on `membership_id` (created first for `create_for` when the bridge never saw
    it); a site.created membership it leaves empty is cancelled (`moved` says how to undo)."""
    uow, now = run.uow, run.ctx.now()
    if create_for is not None:
        uow.sites.upsert(s.blog_id, s.url, s.name, create_for, None, now)
    uow.sites.set_membership(s.blog_id, membership_id)
    if s.overrides is not None:
        uow.sites.set_overrides(s.blog_id, s.overrides)
    if moved is not None:
        old_id = int(moved["from"])
        old = uow.memberships.get(old_id, lock=True)
        if not old.sites:  # its only site left: it ends (the undo brings it back)
            stored = save_membership(
                run.ctx, uow, old_id, old, replace(old, status="cancelled", version=old.version + 1)
            )
            moved = {**moved, "version": stored.version}
        else:
            site = uow.sites.get(s.blog_id)
            assert site is not None
            bump_site(run.ctx, uow, site, uow.memberships.get(membership_id))
    return moved


# ------------------------------------------------------------------------------- entry


def import_network(
    ctx: Context,
    network: UmNetwork,
    zone: tzinfo,
    actor: Actor,
    who: str,
    *,
    dry_run: bool,
) -> ImportOutcome:
    """Map `network` and, unless `dry_run`, write it; the report either way (no e-mail in it).
    Refused (UmImportRefused) when the currency is not the bridge's or the catalog is invalid."""
    snapshot = ctx.snapshot()
    currency = snapshot.catalog.currency
    refusal = currency_refusal(network, currency)
    if refusal:
        raise UmImportRefused(refusal)
    report = Report()
    products = map_catalog(network, currency, report)
    current = catalog_data(snapshot.catalog)
    normalized = _normalized(current, products)
    imported = {pid: product_data(normalized.products[pid], currency) for pid in products}
    with ctx.uow() as uow:
        chosen = _choose_products(uow, current, imported, report)
    catalog = snapshot.catalog
    if chosen:
        catalog = parse_catalog(merge_catalog(current, chosen))
    members = map_members(network, catalog, products, ctx.settings.fallback_plan, zone, report)
    if dry_run:
        with ctx.uow() as uow:
            run = _Run(ctx.pinned(CatalogSnapshot(snapshot.version, catalog)), uow, report, None)
            for im in members.memberships:
                _apply_membership(run, im)
        return ImportOutcome(report)
    version = snapshot.version
    if chosen:
        version = import_catalog(
            ctx,
            merge_catalog(current, chosen),
            actor,
            who,
            f"import from Ultimate Multisite ({network.prefix}, network {network.network_id})",
        ).version
    pinned = ctx.pinned()
    with pinned.uow() as uow:
        batch = uow.imports.start_batch(
            SOURCE,
            f"{network.prefix}#{network.network_id}",
            who,
            snapshot.version or None,
            ctx.now(),
        )
        for pid in chosen:
            uow.imports.remember(batch, SOURCE, "product", pid, pid, chosen[pid], None, {})
        run = _Run(pinned, uow, report, batch)
        for im in members.memberships:
            _apply_membership(run, im)
        uow.imports.finish_batch(batch, version, report.as_json())
        audit(
            pinned,
            uow,
            actor,
            "import.ultimate_multisite",
            f"import:{batch}",
            {"who": who, "counts": dict(report.counts), "catalog_version": version},
        )
        uow.commit()
    return ImportOutcome(report, batch, version)
