"""Repositories for sites, customers, memberships and quotes (SQLAlchemy Core).

Every `select` and `update` of these tables lives here; rows become domain values or the records
of `bridge.services.ports` before they leave. Memberships are written with an explicit optimistic
lock: `UPDATE ... WHERE id = :id AND version = :seen`, and zero rows updated is a
`ConcurrentChange`, whoever wrote in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.models import (
    Customer,
    LimitsDocumentRow,
    MembershipRow,
    QuoteRow,
    SiteRow,
)
from bridge.domain.limits import Limits
from bridge.domain.membership import Membership, Usage
from bridge.errors import ConcurrentChange, NotFound
from bridge.services.ports import (
    MembershipListing,
    Owner,
    QuoteRecord,
    SiteListing,
    SiteRecord,
)
from bridge.services.records import (
    billing_from_json,
    billing_json,
    holdings_from_json,
    holdings_json,
    limits_from_json,
    limits_json,
    scheduled_from_json,
    scheduled_json,
    selection_from_json,
    selection_json,
    status_of,
    usage_from_json,
    usage_json,
)

SITES = cast(Table, SiteRow.__table__)
MEMBERSHIPS = cast(Table, MembershipRow.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
QUOTES = cast(Table, QuoteRow.__table__)
DOCS = cast(Table, LimitsDocumentRow.__table__)


_SET_USAGE = (
    update(SITES)
    .where(SITES.c.id == bindparam("s"))
    .values(
        usage=bindparam("reported", type_=SITES.c.usage.type),
        usage_reported_at=bindparam("at", type_=SITES.c.usage_reported_at.type),
    )
)


def _site(row: RowMapping) -> SiteRecord:
    return SiteRecord(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        owner_user_id=row["owner_user_id"],
        owner_email=row["owner_email"],
        owner_locale=row["owner_locale"],
        timezone=row["timezone"],
        membership_id=row["membership_id"],
        usage=usage_from_json(row["usage"]),
        usage_reported_at=row["usage_reported_at"],
        overrides=limits_from_json(row["overrides"]),
        raw_overrides=row["overrides"],
        created_at=row["created_at"],
        deleted_at=row["deleted_at"],
    )


class SqlSites:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def get(self, site_id: int) -> SiteRecord | None:
        row = self._s.execute(select(SITES).where(SITES.c.id == site_id)).mappings().first()
        return None if row is None else _site(row)

    def live_of(self, membership_id: int) -> list[SiteRecord]:
        rows = self._s.execute(
            select(SITES)
            .where(SITES.c.membership_id == membership_id, SITES.c.deleted_at.is_(None))
            .order_by(SITES.c.id)
        ).mappings()
        return [_site(r) for r in rows]

    def upsert(
        self,
        site_id: int,
        url: str,
        name: str,
        owner: Owner | None,
        timezone: str | None,
        at: datetime,
    ) -> SiteRecord:
        values: dict[str, Any] = {"url": url, "name": name, "deleted_at": None}
        if owner is not None:
            values.update(
                owner_user_id=owner.user_id, owner_email=owner.email, owner_locale=owner.locale
            )
        if timezone is not None:
            values["timezone"] = timezone
        if self.get(site_id) is None:
            self._s.execute(insert(SITES).values(id=site_id, created_at=at, **values))
        else:
            self._s.execute(update(SITES).where(SITES.c.id == site_id).values(**values))
        record = self.get(site_id)
        assert record is not None
        return record

    def _set(self, site_id: int, **values: Any) -> None:
        self._s.execute(update(SITES).where(SITES.c.id == site_id).values(**values))

    def set_membership(self, site_id: int, membership_id: int) -> None:
        self._set(site_id, membership_id=membership_id)

    def set_usage(self, site_id: int, usage: Usage, at: datetime) -> bool:
        """Whether the site exists (one statement: the webhook path)."""
        values = {"s": site_id, "reported": usage_json(usage), "at": at}
        return bool(self._s.execute(_SET_USAGE, values).rowcount)

    def set_overrides(self, site_id: int, overrides: Limits | None) -> None:
        self._set(site_id, overrides=limits_json(overrides))

    def mark_deleted(self, site_id: int, at: datetime) -> None:
        self._set(site_id, deleted_at=at)

    def first_of(self, membership_id: int) -> int | None:
        value = self._s.execute(
            select(SITES.c.id).where(SITES.c.membership_id == membership_id).order_by(SITES.c.id)
        ).scalar()
        return None if value is None else int(value)

    def listing(self) -> list[SiteListing]:
        rows = self._s.execute(site_listing_query().order_by(SITES.c.id)).mappings()
        return [site_listing(r) for r in rows]


def site_listing_query() -> Select[Any]:
    """Live sites with their plan and push state: the operator's lists (CLI and console)."""
    return (
        select(
            SITES.c.id,
            SITES.c.url,
            SITES.c.name,
            MEMBERSHIPS.c.plan,
            MEMBERSHIPS.c.status,
            DOCS.c.desired_version,
            DOCS.c.applied_version,
            DOCS.c.attempts,
            DOCS.c.dead,
            DOCS.c.last_error,
        )
        .outerjoin(MEMBERSHIPS, MEMBERSHIPS.c.id == SITES.c.membership_id)
        .outerjoin(DOCS, DOCS.c.site_id == SITES.c.id)
        .where(SITES.c.deleted_at.is_(None))
    )


def site_listing(r: RowMapping) -> SiteListing:
    return SiteListing(
        site_id=r["id"],
        url=r["url"],
        name=r["name"],
        plan=r["plan"],
        status=r["status"],
        desired_version=r["desired_version"],
        applied_version=r["applied_version"],
        attempts=r["attempts"] or 0,
        dead=bool(r["dead"]),
        last_error=r["last_error"],
    )


class SqlCustomers:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def ensure(self, owner: Owner, at: datetime) -> int:
        """The customer of a WordPress user, created on first sight; e-mail and locale kept fresh."""
        found = self._s.execute(
            select(CUSTOMERS.c.id).where(CUSTOMERS.c.wp_user_id == owner.user_id)
        ).scalar()
        if found is None:
            result = self._s.execute(
                insert(CUSTOMERS)
                .values(
                    wp_user_id=owner.user_id,
                    email=owner.email,
                    locale=owner.locale,
                    created_at=at,
                )
                .returning(CUSTOMERS.c.id)
            )
            return int(result.scalar_one())
        changes: dict[str, Any] = {}
        if owner.email:
            changes["email"] = owner.email
        if owner.locale:
            changes["locale"] = owner.locale
        if changes:
            self._s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == found).values(**changes))
        return int(found)


def _membership_values(m: Membership) -> dict[str, Any]:
    return {
        "plan": m.plan,
        "billing": billing_json(m.billing),
        "plan_price_minor": m.plan_price_minor,
        "currency": m.currency,
        "status": m.status,
        "anchor": m.anchor,
        "period_start": m.period_start,
        "period_end": m.period_end,
        "trial_end": m.trial_end,
        "addons": holdings_json(m.addons),
        "paid_value_minor": m.paid_value_minor,
        "setup_fee_paid_minor": m.setup_fee_paid_minor,
        "tax_rate_paid": m.tax_rate_paid,
        "balance_minor": m.balance_minor,
        "scheduled_change": scheduled_json(m.scheduled_change),
        "overrides": limits_json(m.overrides),
    }


class SqlMemberships:
    def __init__(self, session: Connection, sites: SqlSites) -> None:
        self._s = session
        self._sites = sites

    def _domain(self, row: RowMapping) -> Membership:
        return Membership(
            plan=row["plan"],
            billing=billing_from_json(row["billing"]),
            plan_price_minor=row["plan_price_minor"],
            status=status_of(row["status"]),
            anchor=row["anchor"],
            period_start=row["period_start"],
            period_end=row["period_end"],
            currency=row["currency"],
            addons=holdings_from_json(row["addons"]),
            trial_end=row["trial_end"],
            paid_value_minor=row["paid_value_minor"],
            setup_fee_paid_minor=row["setup_fee_paid_minor"],
            tax_rate_paid=row["tax_rate_paid"],
            balance_minor=row["balance_minor"],
            scheduled_change=scheduled_from_json(row["scheduled_change"]),
            sites=tuple(s.domain() for s in self._sites.live_of(row["id"])),
            overrides=limits_from_json(row["overrides"]),
            version=row["version"],
        )

    def get(self, membership_id: int, *, lock: bool = False) -> Membership:
        stmt = select(MEMBERSHIPS).where(MEMBERSHIPS.c.id == membership_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self._s.execute(stmt).mappings().first()
        if row is None:
            raise NotFound(f"There is no membership {membership_id}.", "membership_not_found")
        return self._domain(row)

    def add(self, customer_id: int | None, m: Membership, at: datetime) -> int:
        result = self._s.execute(
            insert(MEMBERSHIPS)
            .values(
                customer_id=customer_id,
                created_at=at,
                updated_at=at,
                version=max(m.version, 1),
                **_membership_values(m),
            )
            .returning(MEMBERSHIPS.c.id)
        )
        return int(result.scalar_one())

    def save(self, membership_id: int, before_version: int, after: Membership, at: datetime) -> int:
        version = max(after.version, before_version + 1)
        result = self._s.execute(
            update(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.id == membership_id, MEMBERSHIPS.c.version == before_version)
            .values(version=version, updated_at=at, **_membership_values(after))
        )
        if result.rowcount != 1:
            raise ConcurrentChange("The membership changed at the same time; please try again.")
        return version

    def of_customer(self, customer_id: int | None) -> list[tuple[int, Membership]]:
        rows = self._s.execute(
            select(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.customer_id == customer_id, MEMBERSHIPS.c.status != "cancelled")
            .order_by(MEMBERSHIPS.c.id)
            .with_for_update()
        ).mappings()
        return [(r["id"], self._domain(r)) for r in rows]

    def due_for_roll_over(self, at: datetime) -> list[int]:
        rows = self._s.execute(
            select(MEMBERSHIPS.c.id)
            .where(
                MEMBERSHIPS.c.status != "cancelled",
                (MEMBERSHIPS.c.period_end <= at) | (MEMBERSHIPS.c.status == "past_due"),
            )
            .order_by(MEMBERSHIPS.c.id)
        ).scalars()
        return [int(x) for x in rows]

    def listing(self) -> list[MembershipListing]:
        sites: dict[int, list[int]] = {}
        for site_id, membership_id in self._s.execute(
            select(SITES.c.id, SITES.c.membership_id).where(SITES.c.deleted_at.is_(None))
        ):
            if membership_id is not None:
                sites.setdefault(int(membership_id), []).append(int(site_id))
        rows = self._s.execute(select(MEMBERSHIPS).order_by(MEMBERSHIPS.c.id)).mappings()
        return [
            MembershipListing(
                id=r["id"],
                plan=r["plan"],
                plan_price_minor=r["plan_price_minor"],
                status=r["status"],
                period_end=r["period_end"],
                balance_minor=r["balance_minor"],
                currency=r["currency"],
                sites=tuple(sorted(sites.get(r["id"], []))),
            )
            for r in rows
        ]

    def count(self) -> int:
        return int(self._s.execute(select(func.count()).select_from(MEMBERSHIPS)).scalar_one())


class SqlQuotes:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def add(self, quote: QuoteRecord) -> None:
        self._s.execute(
            insert(QUOTES).values(
                id=quote.id,
                site_id=quote.site_id,
                membership_id=quote.membership_id,
                version=quote.version,
                at=quote.at,
                expires_at=quote.expires_at,
                selection=selection_json(quote.selection),
                document=dict(quote.document),
                actor=quote.actor,
                committed=False,
                catalog_version=quote.catalog_version,
            )
        )

    def get(self, quote_id: str) -> QuoteRecord | None:
        row = self._s.execute(select(QUOTES).where(QUOTES.c.id == quote_id)).mappings().first()
        if row is None:
            return None
        return QuoteRecord(
            id=row["id"],
            site_id=row["site_id"],
            membership_id=row["membership_id"],
            version=row["version"],
            at=row["at"],
            expires_at=row["expires_at"],
            selection=selection_from_json(row["selection"]),
            document=row["document"],
            actor=row["actor"],
            committed=bool(row["committed"]),
            committed_at=row["committed_at"],
            catalog_version=row["catalog_version"],
        )

    def mark_committed(self, quote_id: str, at: datetime) -> None:
        self._s.execute(
            update(QUOTES).where(QUOTES.c.id == quote_id).values(committed=True, committed_at=at)
        )
