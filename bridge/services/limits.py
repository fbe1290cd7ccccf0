"""Limits documents: a new version for every change that reaches a site, and the network default.

Every write of a membership goes through `save_membership`, which writes it under the optimistic
lock and gives each of its live sites a new limits document, pushed after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bridge.contract import default_limits_document as default_document
from bridge.contract import limits_document as site_document
from bridge.domain.membership import Membership
from bridge.domain.proration import limits_of
from bridge.errors import NoMembership, NotFound
from bridge.services.context import Context
from bridge.services.notices import note_membership_change, notice_switches
from bridge.services.ports import SiteRecord, UnitOfWork
from bridge.services.views import RECEIPTS_SHOWN, membership_snapshot_for_push, site_limits

log = logging.getLogger(__name__)


def live_site(uow: UnitOfWork, site_id: int) -> SiteRecord:
    """A site that exists and was not deleted; NotFound otherwise."""
    site = uow.sites.get(site_id)
    if site is None or site.deleted_at is not None:
        raise NotFound(f"There is no site {site_id}.", "site_not_found")
    return site


def membership_of(
    uow: UnitOfWork, site: SiteRecord, *, lock: bool = False
) -> tuple[int, Membership]:
    """The site's membership id and value; NoMembership when it has none yet."""
    if site.membership_id is None:
        raise NoMembership(f"Site {site.id} has no membership yet.")
    return site.membership_id, uow.memberships.get(site.membership_id, lock=lock)


def bump_site(
    ctx: Context,
    uow: UnitOfWork,
    site: SiteRecord,
    m: Membership | None,
    *,
    same_version: bool = False,
) -> int:
    """A new limits document version for one site, pushed after the commit; `same_version`
    rewrites the version this transaction already desired (a receipt issued after the change it
    pays for: one version, one push)."""
    now = ctx.now()
    limits = site_limits(ctx.catalog, m, site.domain(), ctx.settings.default_plan).to_json()
    membership = None
    if m is not None and site.membership_id is not None:
        issued = uow.sales_receipts.of_membership(site.membership_id, RECEIPTS_SHOWN)
        membership = dict(membership_snapshot_for_push(ctx.catalog, m, ctx.tax, issued))
    store = uow.limits.rewrite if same_version else uow.limits.desire
    version = store(
        site.id,
        lambda v: site_document(
            site_id=site.id,
            version=v,
            issued_at=now,
            limits=limits,
            membership=membership,
            notices=notice_switches(ctx),
        ),
        now,
    )
    if not same_version:
        uow.push_after_commit(site.id, version)
    return version


def bump_membership_sites(
    ctx: Context, uow: UnitOfWork, membership_id: int, *, same_version: bool = False
) -> None:
    """Every live site of the membership gets a new document of the membership as stored
    (with `same_version`: the version this transaction already desired, rewritten)."""
    m = uow.memberships.get(membership_id)
    for site in uow.sites.live_of(membership_id):
        bump_site(ctx, uow, site, m, same_version=same_version)


def save_membership(
    ctx: Context, uow: UnitOfWork, membership_id: int, before: Membership, after: Membership
) -> Membership:
    """Write `after` over `before` (optimistic lock), record the notices the change causes and
    bump every site's limits document; `after` as stored (its new version)."""
    version = uow.memberships.save(membership_id, before.version, after, ctx.now())
    stored = replace(after, version=version)
    note_membership_change(ctx, uow, membership_id, before, stored)
    # `after` is what was written, so its documents need no second read of the membership.
    for site in uow.sites.live_of(membership_id):
        bump_site(ctx, uow, site, stored)
    return stored


def limits_document(ctx: Context, site_id: int) -> tuple[str, int, dict[str, object]]:
    """(site url, desired version, signed-body document) of a site; NotFound when gone."""
    with ctx.uow() as uow:
        site = live_site(uow, site_id)
        state = uow.limits.get(site_id)
        if state is None or state.document is None:
            m = None if site.membership_id is None else membership_of(uow, site)[1]
            bump_site(ctx, uow, site, m)
            uow.forget_pushes()  # the caller is about to push it
            state = uow.limits.get(site_id)
            assert state is not None and state.document is not None
        uow.commit()
        return site.url, state.desired_version, dict(state.document)


def default_limits_document(ctx: Context) -> tuple[int, dict[str, object]]:
    """(version, document) of the network's default limits: the default plan's limits."""
    version, doc, _written = _default_limits(ctx)
    return version, doc


def _default_limits(ctx: Context) -> tuple[int, dict[str, object], bool]:
    """(version, document, whether this call wrote that version). The repository builds a
    document only for a new version, under the row's lock: of several processes starting at
    once, one writes it."""
    limits = limits_of(ctx.catalog, ctx.settings.default_plan, {}, None).to_json()
    now = ctx.now()
    written: list[int] = []

    def document(version: int) -> dict[str, object]:
        written.append(version)
        return default_document(version=version, issued_at=now, limits=limits)

    with ctx.uow() as uow:
        version, doc = uow.limits.default_document(limits, document, now)
        uow.commit()
    return version, doc, version in written


def sync_default_limits(ctx: Context) -> bool:
    """At start-up: a new version (and a push) when the default plan's limits changed.

    Only the process that writes the new version queues its push, so several processes starting
    together push it once (not once each)."""
    _version, _doc, changed = _default_limits(ctx)
    if changed:
        try:
            ctx.queue.enqueue_default_limits()
        except Exception:  # the next start-up or the operator's repush sends it
            log.exception("could not queue the default limits push")
    return changed
