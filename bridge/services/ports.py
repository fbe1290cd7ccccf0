"""The ports the services talk to (typing.Protocol), and the real clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware UTC."""
        ...


class LimitsQueue(Protocol):
    def enqueue_push(self, site_id: int, version: int) -> None:
        """Ask a worker to push `site_id`'s limits document (at least `version`)."""
        ...

    def enqueue_default_limits(self) -> None:
        """Ask a worker to push the network's default limits."""
        ...


class SystemClock:
    """The wall clock, for production; tests pass their own."""

    def now(self) -> datetime:
        return datetime.now(UTC)
