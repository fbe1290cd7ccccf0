"""The console's reads (SQLAlchemy Core): paginated lists with LIMIT/OFFSET, counts, a stream.

Lists are ordered by primary keys (or the invoice number, which is unique), so a page costs an
index walk. Searches by site id, membership id and plan use the primary keys and the membership
join (`ix_sites_membership_id`); a site name is matched by prefix and an owner e-mail exactly
(any case), which scan the sites table: there is no index on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, func, or_, select
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.billing import AUDIT, INVOICES, LEDGER, SqlInvoices, ledger_record
from bridge.adapters.storage.limits import RECEIPTS
from bridge.adapters.storage.models import (
    LimitsDocumentRow,
    MembershipRow,
    SiteRow,
)
from bridge.adapters.storage.repositories import site_listing, site_listing_query
from bridge.domain.invoice import Invoice
from bridge.domain.membership import Membership
from bridge.services.console_ports import AuditRecord, MembershipHit, ReceiptRecord
from bridge.services.ports import (
    LedgerRecord,
    SiteListing,
)
from bridge.services.records import billing_from_json, holdings_from_json, status_of

SITES = cast(Table, SiteRow.__table__)
MEMBERSHIPS = cast(Table, MembershipRow.__table__)
DOCS = cast(Table, LimitsDocumentRow.__table__)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlConsole:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def _count(self, stmt: Select[Any]) -> int:
        return int(self._s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())

    def memberships(
        self, text: str | None, plan: str | None, offset: int, limit: int
    ) -> tuple[list[MembershipHit], int]:
        stmt = (
            select(
                MEMBERSHIPS.c.id.label("membership_id"),
                SITES.c.id.label("site_id"),
                SITES.c.name,
                SITES.c.url,
                SITES.c.owner_email,
                MEMBERSHIPS.c.plan,
                MEMBERSHIPS.c.status,
                MEMBERSHIPS.c.balance_minor,
                MEMBERSHIPS.c.currency,
                MEMBERSHIPS.c.period_end,
            )
            .select_from(MEMBERSHIPS)
            .outerjoin(
                SITES, (SITES.c.membership_id == MEMBERSHIPS.c.id) & SITES.c.deleted_at.is_(None)
            )
        )
        text = (text or "").strip()
        if text.isdigit():
            number = int(text)
            stmt = stmt.where(or_(SITES.c.id == number, MEMBERSHIPS.c.id == number))
        elif "@" in text:
            stmt = stmt.where(func.lower(SITES.c.owner_email) == text.lower())
        elif text:
            stmt = stmt.where(SITES.c.name.like(_escape_like(text) + "%", escape="\\"))
        if plan:
            stmt = stmt.where(MEMBERSHIPS.c.plan == plan)
        total = self._count(stmt)
        rows = self._s.execute(
            stmt.order_by(MEMBERSHIPS.c.id, SITES.c.id).offset(offset).limit(limit)
        ).mappings()
        return [
            MembershipHit(
                membership_id=r["membership_id"],
                site_id=r["site_id"],
                site_name=r["name"],
                url=r["url"],
                owner_email=r["owner_email"],
                plan=r["plan"],
                status=r["status"],
                balance_minor=r["balance_minor"],
                currency=r["currency"],
                period_end=r["period_end"],
            )
            for r in rows
        ], total

    def invoices(self, status: str | None, offset: int, limit: int) -> tuple[list[Invoice], int]:
        stmt = select(INVOICES)
        if status is not None:
            stmt = stmt.where(INVOICES.c.status == status)
        total = self._count(stmt)
        rows = list(
            self._s.execute(
                stmt.order_by(INVOICES.c.number.desc()).offset(offset).limit(limit)
            ).mappings()
        )
        return SqlInvoices(self._s).from_rows(rows), total

    def sites(self, which: str, offset: int, limit: int) -> tuple[list[SiteListing], int]:
        stmt = site_listing_query()
        if which == "dead":
            stmt = stmt.where(DOCS.c.dead.is_(True))
        elif which == "behind":
            stmt = stmt.where(
                DOCS.c.applied_version < DOCS.c.desired_version, DOCS.c.dead.is_(False)
            )
        total = self._count(stmt)
        rows = self._s.execute(stmt.order_by(SITES.c.id).offset(offset).limit(limit)).mappings()
        return [site_listing(r) for r in rows], total

    def dead_sites(self) -> list[int]:
        rows = self._s.execute(
            select(DOCS.c.site_id)
            .join(SITES, SITES.c.id == DOCS.c.site_id)
            .where(DOCS.c.dead.is_(True), SITES.c.deleted_at.is_(None))
            .order_by(DOCS.c.site_id)
        ).scalars()
        return [int(x) for x in rows]

    def ledger(self, membership_id: int, offset: int, limit: int) -> tuple[list[LedgerRecord], int]:
        stmt = select(LEDGER).where(LEDGER.c.membership_id == membership_id)
        total = self._count(stmt)
        rows = self._s.execute(stmt.order_by(LEDGER.c.id.desc()).offset(offset).limit(limit))
        return [ledger_record(r) for r in rows.mappings()], total

    def receipts(self, offset: int, limit: int) -> tuple[list[ReceiptRecord], int]:
        stmt = select(RECEIPTS)
        total = self._count(stmt)
        rows = self._s.execute(
            stmt.order_by(RECEIPTS.c.id.desc()).offset(offset).limit(limit)
        ).mappings()
        return [
            ReceiptRecord(r["webhook_id"], r["type"], r["outcome"], r["received_at"]) for r in rows
        ], total

    def audit(self, offset: int, limit: int) -> tuple[list[AuditRecord], int]:
        stmt = select(AUDIT)
        total = self._count(stmt)
        rows = self._s.execute(stmt.order_by(AUDIT.c.id.desc()).offset(offset).limit(limit))
        return [_audit(r) for r in rows.mappings()], total

    def paying(self, statuses: Sequence[str]) -> Iterator[Membership]:
        stmt = select(
            MEMBERSHIPS.c.plan,
            MEMBERSHIPS.c.billing,
            MEMBERSHIPS.c.plan_price_minor,
            MEMBERSHIPS.c.currency,
            MEMBERSHIPS.c.status,
            MEMBERSHIPS.c.anchor,
            MEMBERSHIPS.c.period_start,
            MEMBERSHIPS.c.period_end,
            MEMBERSHIPS.c.addons,
        ).where(MEMBERSHIPS.c.status.in_(list(statuses)))
        for r in self._s.execute(stmt.execution_options(yield_per=1000)).mappings():
            yield Membership(
                plan=r["plan"],
                billing=billing_from_json(r["billing"]),
                plan_price_minor=r["plan_price_minor"],
                status=status_of(r["status"]),
                anchor=r["anchor"],
                period_start=r["period_start"],
                period_end=r["period_end"],
                currency=r["currency"],
                addons=holdings_from_json(r["addons"]),
            )

    def members_per_plan(self) -> dict[tuple[str, str], int]:
        rows = self._s.execute(
            select(MEMBERSHIPS.c.plan, MEMBERSHIPS.c.status, func.count()).group_by(
                MEMBERSHIPS.c.plan, MEMBERSHIPS.c.status
            )
        )
        return {(str(plan), str(status)): int(n) for plan, status, n in rows}

    def count_invoices(self, status: str) -> int:
        return self._count(select(INVOICES.c.id).where(INVOICES.c.status == status))

    def count_refused_since(self, at: datetime) -> int:
        return self._count(
            select(RECEIPTS.c.id).where(
                RECEIPTS.c.outcome.like("refused%"), RECEIPTS.c.received_at >= at
            )
        )


def _audit(row: RowMapping) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        details=row["details"] or {},
        at=row["at"],
    )
