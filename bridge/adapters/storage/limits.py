"""Repositories for limits documents (per site and the network default), webhook receipts and
used checkout tokens."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Connection,
    Integer,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from bridge.adapters.storage.models import (
    CheckoutTokenUse,
    DefaultLimitsRow,
    LimitsDocumentRow,
    SiteRow,
    WebhookReceipt,
)
from bridge.errors import NotFound
from bridge.services.ports import LimitsState

DOCS = cast(Table, LimitsDocumentRow.__table__)
DEFAULTS = cast(Table, DefaultLimitsRow.__table__)
SITES = cast(Table, SiteRow.__table__)
RECEIPTS = cast(Table, WebhookReceipt.__table__)
TOKENS = cast(Table, CheckoutTokenUse.__table__)


# The webhook path's statements, built once (building a statement costs more than running it
# on SQLite). `:v` is the acknowledged version: never backwards, never past the desired one,
# and a site caught up has its retry state cleared (what `acknowledge` does in three statements).
_V: BindParameter[int] = bindparam("v", type_=Integer)
_CAUGHT_UP = DOCS.c.desired_version <= _V
_ACKNOWLEDGE = (
    update(DOCS)
    .where(DOCS.c.site_id == bindparam("s"), DOCS.c.applied_version < _V)
    .values(
        applied_version=case((DOCS.c.desired_version > _V, _V), else_=DOCS.c.desired_version),
        updated_at=bindparam("at", type_=DOCS.c.updated_at.type),
        attempts=case((_CAUGHT_UP, 0), else_=DOCS.c.attempts),
        last_error=case((_CAUGHT_UP, None), else_=DOCS.c.last_error),
        dead=case((_CAUGHT_UP, False), else_=DOCS.c.dead),
        next_attempt_at=case((_CAUGHT_UP, None), else_=DOCS.c.next_attempt_at),
    )
)
_HAS_DOCUMENT = select(DOCS.c.site_id).where(DOCS.c.site_id == bindparam("s"))
_RECEIPT_VALUES = {
    "webhook_id": bindparam("wid"),
    "type": bindparam("kind"),
    "outcome": bindparam("result"),
    "received_at": bindparam("at", type_=RECEIPTS.c.received_at.type),
}
# INSERT ... ON CONFLICT (webhook_id) DO NOTHING: a second delivery inserts nothing, and on
# PostgreSQL a concurrent one waits for the first transaction instead of failing.
# RETURNING says whether a row went in (rowcount does not: PostgreSQL's dialect adds its own
# RETURNING of the primary key, after which the driver's rowcount is not the inserted count).
_CLAIM = {
    "sqlite": sqlite.insert(RECEIPTS)
    .values(_RECEIPT_VALUES)
    .on_conflict_do_nothing(index_elements=["webhook_id"])
    .returning(RECEIPTS.c.id),
    "postgresql": postgresql.insert(RECEIPTS)
    .values(_RECEIPT_VALUES)
    .on_conflict_do_nothing(index_elements=["webhook_id"])
    .returning(RECEIPTS.c.id),
}
_SET_OUTCOME = (
    update(RECEIPTS)
    .where(RECEIPTS.c.webhook_id == bindparam("wid"))
    .values(outcome=bindparam("result"))
)


def _state(row: RowMapping) -> LimitsState:
    return LimitsState(
        site_id=row["site_id"],
        desired_version=row["desired_version"],
        applied_version=row["applied_version"],
        document=row["document"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        dead=bool(row["dead"]),
        next_attempt_at=row["next_attempt_at"],
    )


class SqlLimits:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def _row(self, site_id: int, lock: bool = False) -> RowMapping | None:
        stmt = select(DOCS).where(DOCS.c.site_id == site_id)
        if lock:
            stmt = stmt.with_for_update()
        return self._s.execute(stmt).mappings().first()

    def get(self, site_id: int) -> LimitsState | None:
        row = self._row(site_id)
        return None if row is None else _state(row)

    def desire(
        self, site_id: int, document: Callable[[int], Mapping[str, Any]], at: datetime
    ) -> int:
        row = self._row(site_id, lock=True)
        version = (0 if row is None else int(row["desired_version"])) + 1
        values: dict[str, Any] = {
            "desired_version": version,
            "document": dict(document(version)),
            "attempts": 0,
            "last_error": None,
            "dead": False,
            "next_attempt_at": None,
            "updated_at": at,
        }
        if row is None:
            self._s.execute(insert(DOCS).values(site_id=site_id, applied_version=0, **values))
        else:
            self._s.execute(update(DOCS).where(DOCS.c.site_id == site_id).values(**values))
        return version

    def rewrite(
        self, site_id: int, document: Callable[[int], Mapping[str, Any]], at: datetime
    ) -> int:
        row = self._must(site_id)
        version = int(row["desired_version"])
        self._s.execute(
            update(DOCS)
            .where(DOCS.c.site_id == site_id)
            .values(document=dict(document(version)), updated_at=at)
        )
        return version

    def _must(self, site_id: int) -> RowMapping:
        row = self._row(site_id, lock=True)
        if row is None:
            raise NotFound(f"Site {site_id} has no limits document.", "site_not_found")
        return row

    def acknowledge(self, site_id: int, applied_version: int, at: datetime) -> LimitsState:
        """The plugin applied `applied_version`: never backwards, never past the desired one."""
        row = self._must(site_id)
        applied = max(row["applied_version"], min(applied_version, row["desired_version"]))
        values: dict[str, Any] = {"applied_version": applied, "updated_at": at}
        if applied >= row["desired_version"]:
            values.update(attempts=0, last_error=None, dead=False, next_attempt_at=None)
        self._s.execute(update(DOCS).where(DOCS.c.site_id == site_id).values(**values))
        return _state(self._must(site_id))

    def acknowledge_newer(self, site_id: int, version: int, at: datetime) -> bool:
        """`acknowledge` when `version` is newer than the applied one, in one statement;
        whether the site has a limits document at all."""
        result = self._s.execute(_ACKNOWLEDGE, {"s": site_id, "v": version, "at": at})
        if result.rowcount:
            return True
        return self._s.execute(_HAS_DOCUMENT, {"s": site_id}).first() is not None

    def record_failure(
        self,
        site_id: int,
        version: int,
        error: str,
        dead: bool,
        next_attempt_at: datetime | None,
        at: datetime,
    ) -> LimitsState:
        row = self._must(site_id)
        if version >= row["desired_version"]:  # a failure of an older version is history
            # Dead stays dead while the reconcile's slow retries fail: the console keeps showing
            # it until the site acknowledges (or a new version starts over).
            self._s.execute(
                update(DOCS)
                .where(DOCS.c.site_id == site_id)
                .values(
                    attempts=row["attempts"] + 1,
                    last_error=error[:2000],
                    dead=dead or bool(row["dead"]),
                    next_attempt_at=next_attempt_at,
                    updated_at=at,
                )
            )
        else:
            self._s.execute(update(DOCS).where(DOCS.c.site_id == site_id).values(updated_at=at))
        return _state(self._must(site_id))

    def behind(self, include_dead: bool, dead_due_at: datetime | None = None) -> list[int]:
        stmt = (
            select(DOCS.c.site_id)
            .join(SITES, SITES.c.id == DOCS.c.site_id)
            .where(DOCS.c.applied_version < DOCS.c.desired_version, SITES.c.deleted_at.is_(None))
            .order_by(DOCS.c.site_id)
        )
        if dead_due_at is not None:
            due = and_(DOCS.c.dead.is_(True), DOCS.c.next_attempt_at <= dead_due_at)
            stmt = stmt.where(or_(DOCS.c.dead.is_(False), due))
        elif not include_dead:
            stmt = stmt.where(DOCS.c.dead.is_(False))
        return [int(x) for x in self._s.execute(stmt).scalars()]

    def pending(self, site_ids: Sequence[int]) -> list[tuple[int, int, int, str | None]]:
        """The documents of those sites that are live (up to date or not), one query; each as
        its stored JSON text, so a batch is sent without decoding and re-encoding it."""
        if not site_ids:
            return []
        stmt = (
            select(
                DOCS.c.site_id,
                DOCS.c.desired_version,
                DOCS.c.applied_version,
                cast_(DOCS.c.document, Text),
            )
            .join(SITES, SITES.c.id == DOCS.c.site_id)
            .where(DOCS.c.site_id.in_(list(site_ids)), SITES.c.deleted_at.is_(None))
        )
        return [(int(a), int(b), int(c), d) for a, b, c, d in self._s.execute(stmt)]

    def acknowledge_many(self, acks: Sequence[tuple[int, int]], at: datetime) -> None:
        """`acknowledge` for many sites: a version at or past the desired one clears the push
        state; an older one only moves `applied_version` forward. Two driver-level executemany
        of two integers a row (SQLAlchemy's per-row parameter building cost more than the
        updates), then one stamp for all."""
        if not acks:
            return
        mark = "?" if self._s.dialect.paramstyle == "qmark" else "%s"
        table = DOCS.name
        self._s.exec_driver_sql(
            f"UPDATE {table} SET applied_version = desired_version, attempts = 0, "
            f"last_error = NULL, dead = {mark}, next_attempt_at = NULL "
            f"WHERE site_id = {mark} AND desired_version <= {mark}",
            [(False, site_id, version) for site_id, version in acks],
        )
        self._s.exec_driver_sql(
            f"UPDATE {table} SET applied_version = {mark} WHERE site_id = {mark} "
            f"AND desired_version > {mark} AND applied_version < {mark}",
            [(version, site_id, version, version) for site_id, version in acks],
        )
        self._s.execute(
            update(DOCS).where(DOCS.c.site_id.in_([s for s, _ in acks])).values(updated_at=at)
        )

    def default_document(
        self, limits: Mapping[str, Any], document: Callable[[int], Mapping[str, Any]], at: datetime
    ) -> tuple[int, dict[str, Any]]:
        row = (
            self._s.execute(select(DEFAULTS).where(DEFAULTS.c.id == 1).with_for_update())
            .mappings()
            .first()
        )
        if (
            row is not None
            and row["document"] is not None
            and row["document"].get("limits") == dict(limits)
        ):
            return int(row["desired_version"]), dict(row["document"])
        version = (0 if row is None else int(row["desired_version"])) + 1
        doc = dict(document(version))
        if row is None:
            self._s.execute(
                insert(DEFAULTS).values(
                    id=1,
                    desired_version=version,
                    applied_version=0,
                    attempts=0,
                    dead=False,
                    document=doc,
                    updated_at=at,
                )
            )
        else:
            self._s.execute(
                update(DEFAULTS)
                .where(DEFAULTS.c.id == 1)
                .values(desired_version=version, document=doc, updated_at=at)
            )
        return version, doc

    def default_version(self) -> int | None:
        value = self._s.execute(select(DEFAULTS.c.desired_version).where(DEFAULTS.c.id == 1))
        found = value.scalar()
        return None if found is None else int(found)


class SqlReceipts:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def claim(self, webhook_id: str, type: str, outcome: str, at: datetime) -> bool:
        """Record a receipt unless one with this id exists (then nothing, False); on
        PostgreSQL a concurrent claim of the same id waits for this transaction's end."""
        values = {"wid": webhook_id, "kind": type, "result": outcome, "at": at}
        return self._s.execute(_CLAIM[self._s.dialect.name], values).first() is not None

    def set_outcome(self, webhook_id: str, outcome: str) -> None:
        self._s.execute(_SET_OUTCOME, {"wid": webhook_id, "result": outcome})

    def seen(self, webhook_id: str) -> bool:
        found = self._s.execute(select(RECEIPTS.c.id).where(RECEIPTS.c.webhook_id == webhook_id))
        return found.first() is not None

    def add(self, webhook_id: str, type: str, outcome: str, at: datetime) -> None:
        """Record a receipt; the unique id makes a concurrent second delivery a `Duplicate`."""
        self._s.execute(
            insert(RECEIPTS).values(
                webhook_id=webhook_id, type=type, outcome=outcome, received_at=at
            )
        )


class SqlTokens:
    def __init__(self, session: Connection) -> None:
        self._s = session

    def use(self, jti: str, exp: datetime, at: datetime) -> bool:
        """Record a token id as used; the primary key makes a second use a `Duplicate`."""
        self._s.execute(insert(TOKENS).values(jti=jti[:64], exp=exp, used_at=at))
        return True

    def forget_expired(self, before: datetime) -> int:
        result = self._s.execute(delete(TOKENS).where(TOKENS.c.exp < before))
        return int(result.rowcount)
