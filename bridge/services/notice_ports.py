"""The port of the notices table (services see records, never rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class NoticeRecord:
    id: str
    membership_id: int
    site_id: int
    kind: str
    document: Mapping[str, Any]
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    dead: bool


class NoticeRepository(Protocol):
    def add(
        self,
        notice_id: str,
        membership_id: int,
        site_id: int,
        kind: str,
        document: Mapping[str, Any],
        at: datetime,
    ) -> bool:
        """Record a notice; False (and nothing written) when its id was recorded already."""
        ...

    def unsent_of_site(self, site_id: int, include_dead: bool = False) -> list[NoticeRecord]: ...
    def sites_with_unsent(self, include_dead: bool = False) -> list[int]: ...
    def mark_sent(self, notice_id: str, at: datetime) -> None: ...
    def record_failure(self, notice_ids: Sequence[str], error: str, dead: bool) -> None: ...
    def latest(self, limit: int) -> list[NoticeRecord]: ...

    def coming(
        self, at: datetime, renewal_until: datetime | None, trial_until: datetime | None
    ) -> list[int]:
        """Memberships whose period ends in (at, renewal_until] without a renewal notice in this
        period, or whose trial ends in (at, trial_until] without a trial notice (None: skip)."""
        ...

    def switches(self) -> dict[str, bool]:
        """The operator's switches (kind -> on); a kind not here follows config.yaml."""
        ...

    def set_switch(self, kind: str, on: bool, actor: str, at: datetime) -> None: ...
