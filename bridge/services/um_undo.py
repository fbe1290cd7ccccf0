"""Use case: `bridge import ultimate-multisite --undo BATCH`, removing what one import created.

Refused (UmImportRefused, every reason listed) unless nothing happened on what BATCH created
since: each membership still at the version the last import left it (no change, renewal or
cancellation in the bridge), with no invoice, quote or ledger entry, and each
site.created membership it emptied still as the import left it. Then the memberships go with
their billing details (receipts are never removed; such a membership has none), their
customers too when nothing else holds them, moved sites return to their membership (which is
active again), sites the bridge first heard of from the import are detached (the default plan's
limits are pushed to them), and the catalog version the import made is reverted when it is still
the current one.
"""

from __future__ import annotations

from dataclasses import replace

from bridge.errors import NotFound, UmImportRefused
from bridge.services.catalog import revert_catalog
from bridge.services.context import Actor, Context
from bridge.services.import_ports import ImportRecord
from bridge.services.journal import audit
from bridge.services.limits import bump_site, save_membership
from bridge.services.ports import UnitOfWork
from bridge.services.um_import import SOURCE


def _problems(uow: UnitOfWork, records: list[ImportRecord]) -> list[str]:
    problems: list[str] = []
    for r in records:
        if r.kind == "membership":
            try:
                m = uow.memberships.get(int(r.bridge_id))
            except NotFound:
                problems.append(f"membership {r.bridge_id} was deleted since")
                continue
            if m.version != r.written_version:
                problems.append(
                    f"membership {r.bridge_id} (UM {r.source_id}) changed since the import"
                )
            if uow.imports.activity(int(r.bridge_id)):
                problems.append(
                    f"membership {r.bridge_id} (UM {r.source_id}) has invoices, quotes or "
                    "balance movements"
                )
        moved = r.data.get("moved") if r.kind == "site" else None
        if moved and "version" in moved:
            old = uow.memberships.get(int(moved["from"]))
            if old.version != moved["version"]:
                problems.append(
                    f"membership {moved['from']} changed since site {r.source_id} left it"
                )
    return problems


def undo_import(ctx: Context, batch_id: int, actor: Actor, who: str) -> list[str]:
    """Remove what import batch `batch_id` created; the lines saying what was done."""
    done: list[str] = []
    with ctx.uow() as uow:
        batch = uow.imports.batch(batch_id)
        if batch is None or batch.source != SOURCE:
            raise NotFound(f"There is no import batch {batch_id}.", "import_batch_not_found")
        if batch.undone_at is not None:
            raise UmImportRefused(f"Import batch {batch_id} was undone already.")
        records = uow.imports.of_batch(batch_id)
        problems = _problems(uow, records)
        if problems:
            raise UmImportRefused(
                f"Import batch {batch_id} cannot be undone: " + "; ".join(problems) + "."
            )
        customers: set[int] = set()
        for r in records:
            if r.kind == "membership":
                customer = uow.imports.customer_of_membership(int(r.bridge_id))
                if customer is not None:
                    customers.add(customer)
                uow.imports.delete_membership(int(r.bridge_id))
                done.append(f"membership {r.bridge_id} (UM {r.source_id}) removed")
                # Its buyer goes too (no receipt can name it: undo needs a membership without
                # invoices), so no later membership on the same id inherits it.
                if uow.sales_receipts.remove_buyer(int(r.bridge_id)):
                    done.append(f"billing details of membership {r.bridge_id} removed")
        for customer in sorted(customers):
            if uow.imports.delete_customer_if_unused(customer):
                done.append(f"customer {customer} removed")
        for r in records:
            if r.kind == "site":
                done.append(_restore_site(ctx, uow, r))
        for r in records:
            uow.imports.forget(r.id)
        uow.imports.mark_undone(batch_id, ctx.now())
        audit(ctx, uow, actor, "import.undo", f"import:{batch_id}", {"who": who})
        uow.commit()
    current = ctx.snapshot().version
    if batch.catalog_after and batch.catalog_before and batch.catalog_after != batch.catalog_before:
        if current == batch.catalog_after:
            reverted = revert_catalog(
                ctx, batch.catalog_before, actor, who, f"undo of import batch {batch_id}"
            )
            done.append(
                f"catalog reverted to version {batch.catalog_before} (now {reverted.version})"
            )
        else:
            done.append(
                f"catalog left as it is: version {current} came after the import's "
                f"{batch.catalog_after}"
            )
    return done


def _restore_site(ctx: Context, uow: UnitOfWork, r: ImportRecord) -> str:
    site_id = int(r.source_id)
    moved = r.data.get("moved")
    if moved:
        old_id = int(moved["from"])
        uow.sites.set_membership(site_id, old_id)
        old = uow.memberships.get(old_id, lock=True)
        status = moved.get("status", old.status)
        if old.status != status:
            save_membership(
                ctx, uow, old_id, old, replace(old, status=status, version=old.version + 1)
            )
        else:
            site = uow.sites.get(site_id)
            assert site is not None
            bump_site(ctx, uow, site, old)
        return f"site {site_id} back on membership {old_id}"
    uow.imports.detach_site(site_id)
    site = uow.sites.get(site_id)
    if site is not None:
        bump_site(ctx, uow, site, None)
    return f"site {site_id} detached (the default plan's limits)"
