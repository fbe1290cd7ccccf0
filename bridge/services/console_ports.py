"""The port of the console's reads (paginated lists and counts) and the records only they
return; `ports.UnitOfWork.console` is one. Kept beside `ports.py` so that module stays readable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bridge.domain.invoice import Invoice
from bridge.domain.membership import Membership
from bridge.services.ports import LedgerRecord, SiteListing


@dataclass(frozen=True)
class MembershipHit:
    """One line of the console's membership search: a site and the membership it is on."""

    membership_id: int
    site_id: int | None
    site_name: str | None
    url: str | None
    owner_email: str | None
    plan: str
    status: str
    balance_minor: int
    currency: str
    period_end: datetime | None


@dataclass(frozen=True)
class ReceiptRecord:
    webhook_id: str
    type: str
    outcome: str  # applied, ignored, refused:<code> ...
    received_at: datetime


@dataclass(frozen=True)
class AuditRecord:
    id: int
    actor: str
    action: str
    target: str
    details: Mapping[str, Any]
    at: datetime


# ---------------------------------------------------------------------------- repositories


class ConsoleReads(Protocol):
    """The console's paginated lists and counts (LIMIT/OFFSET on indexed orders)."""

    def memberships(
        self, text: str | None, plan: str | None, offset: int, limit: int
    ) -> tuple[list[MembershipHit], int]:
        """Sites with their membership, by site id or membership id (digits), site name
        (prefix), owner e-mail (exact, any case) and plan; by site id."""
        ...

    def invoices(
        self, status: str | None, offset: int, limit: int
    ) -> tuple[list[Invoice], int]: ...
    def sites(self, which: str, offset: int, limit: int) -> tuple[list[SiteListing], int]:
        """`which`: all, behind (desired > applied, not dead) or dead."""
        ...

    def dead_sites(self) -> list[int]: ...
    def ledger(self, membership_id: int, offset: int, limit: int) -> tuple[list[LedgerRecord], int]:
        """A membership's balance movements, newest first."""
        ...

    def receipts(self, offset: int, limit: int) -> tuple[list[ReceiptRecord], int]: ...
    def audit(self, offset: int, limit: int) -> tuple[list[AuditRecord], int]: ...
    def paying(self, statuses: Sequence[str]) -> Iterable[Membership]:
        """Memberships of those statuses (terms only: no sites), streamed."""
        ...

    def members_per_plan(self) -> dict[tuple[str, str], int]:
        """(plan, status) → memberships."""
        ...

    def count_invoices(self, status: str) -> int: ...
    def count_refused_since(self, at: datetime) -> int: ...
