"""The notices table on SQLAlchemy Core (`services.notice_ports.NoticeRepository`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, exists, false, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.models import MembershipRow
from bridge.adapters.storage.notice_models import NoticeRow, NoticeSwitchRow
from bridge.services.notice_ports import NoticeRecord

NOTICES = cast(Table, NoticeRow.__table__)
MEMBERSHIPS = cast(Table, MembershipRow.__table__)
SWITCHES = cast(Table, NoticeSwitchRow.__table__)


def _record(row: RowMapping) -> NoticeRecord:
    return NoticeRecord(
        id=row["id"],
        membership_id=row["membership_id"],
        site_id=int(row["site_id"]),
        kind=row["kind"],
        document=dict(row["document"]),
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        dead=bool(row["dead"]),
    )


class SqlNotices:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def add(
        self,
        notice_id: str,
        membership_id: int,
        site_id: int,
        kind: str,
        document: Mapping[str, Any],
        at: datetime,
    ) -> bool:
        if self._s.execute(select(NOTICES.c.id).where(NOTICES.c.id == notice_id)).first():
            return False
        self._s.execute(
            insert(NOTICES).values(
                id=notice_id,
                membership_id=membership_id,
                site_id=site_id,
                kind=kind,
                document=dict(document),
                created_at=at,
                attempts=0,
                dead=False,
            )
        )
        return True

    def unsent_of_site(self, site_id: int, include_dead: bool = False) -> list[NoticeRecord]:
        query = select(NOTICES).where(NOTICES.c.sent_at.is_(None), NOTICES.c.site_id == site_id)
        if not include_dead:
            query = query.where(NOTICES.c.dead.is_(False))
        rows = self._s.execute(query.order_by(NOTICES.c.created_at, NOTICES.c.id)).mappings()
        return [_record(r) for r in rows]

    def sites_with_unsent(self, include_dead: bool = False) -> list[int]:
        query = select(NOTICES.c.site_id).where(NOTICES.c.sent_at.is_(None)).distinct()
        if not include_dead:
            query = query.where(NOTICES.c.dead.is_(False))
        return sorted(int(s) for s in self._s.execute(query).scalars())

    def mark_sent(self, notice_id: str, at: datetime) -> None:
        self._s.execute(
            update(NOTICES)
            .where(NOTICES.c.id == notice_id)
            .values(sent_at=at, last_error=None, dead=False)
        )

    def record_failure(self, notice_ids: Sequence[str], error: str, dead: bool) -> None:
        if notice_ids:
            self._s.execute(
                update(NOTICES)
                .where(NOTICES.c.id.in_(list(notice_ids)))
                .values(attempts=NOTICES.c.attempts + 1, last_error=error[:500], dead=dead)
            )

    def latest(self, limit: int) -> list[NoticeRecord]:
        query = select(NOTICES).order_by(NOTICES.c.created_at.desc(), NOTICES.c.id).limit(limit)
        return [_record(r) for r in self._s.execute(query).mappings()]

    def coming(
        self, at: datetime, renewal_until: datetime | None, trial_until: datetime | None
    ) -> list[int]:
        m = MEMBERSHIPS

        def unsent(kind: str) -> Any:
            return ~exists().where(
                NOTICES.c.membership_id == m.c.id,
                NOTICES.c.kind == kind,
                NOTICES.c.created_at >= m.c.period_start,
            )

        renewal = (
            and_(m.c.period_end > at, m.c.period_end <= renewal_until, unsent("renewal_coming"))
            if renewal_until is not None
            else false()
        )
        trial = (
            and_(
                m.c.status == "trialing",
                m.c.trial_end > at,
                m.c.trial_end <= trial_until,
                unsent("trial_ending"),
            )
            if trial_until is not None
            else false()
        )
        query = (
            select(m.c.id)
            .where(m.c.status.in_(("active", "trialing")), or_(renewal, trial))
            .order_by(m.c.id)
        )
        return [int(x) for x in self._s.execute(query).scalars()]

    def switches(self) -> dict[str, bool]:
        rows = self._s.execute(select(SWITCHES.c.kind, SWITCHES.c.on))
        return {str(kind): bool(on) for kind, on in rows}

    def set_switch(self, kind: str, on: bool, actor: str, at: datetime) -> None:
        values = {"on": on, "actor": actor[:200], "updated_at": at}
        done = self._s.execute(update(SWITCHES).where(SWITCHES.c.kind == kind).values(**values))
        if done.rowcount == 0:
            self._s.execute(insert(SWITCHES).values(kind=kind, **values))
