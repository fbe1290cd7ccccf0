"""Fakes for the services' ports (they implement bridge.services.ports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 4, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


class FakeQueue:
    """Records what would be pushed."""

    def __init__(self) -> None:
        self.pushes: list[tuple[int, int]] = []
        self.default_pushes = 0
        self.fanouts: list[list[int]] = []

    def enqueue_push(self, site_id: int, version: int) -> None:
        self.pushes.append((site_id, version))

    def enqueue_default_limits(self) -> None:
        self.default_pushes += 1

    def enqueue_fanout(self, site_ids: Sequence[int]) -> None:
        self.fanouts.append(list(site_ids))
