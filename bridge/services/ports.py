"""The ports the use cases talk to (typing.Protocol) and the small records they exchange.

A unit of work opens one transaction and hands out repositories; `commit()` is explicit and
anything else rolls back. Repositories return domain values or the frozen records below, never
storage rows. Pushes noted on the unit of work are queued only after its commit, so a worker
never reads a document that was rolled back. The storage adapter
(`bridge.adapters.storage.unit_of_work`) implements all of this on SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from bridge.domain.invoice import Invoice
from bridge.domain.limits import Limits
from bridge.domain.membership import Membership, Selection, Site, Usage
from bridge.domain.quote import QuoteLine, Totals


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


@dataclass(frozen=True)
class PushResult:
    applied_version: int
    ignored: bool


class Pusher(Protocol):
    """Sends signed limits documents to WordPress (`bridge.adapters.wordpress`); raises
    `WordPressUnavailable` (retryable) or `PushRejected` (not retryable)."""

    def push_site(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> PushResult:
        """Push one site's document to the network; its `site_id` names the blog."""
        ...

    def push_defaults(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> PushResult: ...


class SystemClock:
    """The wall clock, for production; tests pass their own."""

    def now(self) -> datetime:
        return datetime.now(UTC)


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Owner:
    user_id: int
    email: str
    locale: str


@dataclass(frozen=True)
class SiteRecord:
    """A site of the network as stored (its blog id is its id)."""

    id: int
    url: str
    name: str
    owner_user_id: int | None
    owner_email: str | None
    owner_locale: str | None
    timezone: str | None
    membership_id: int | None
    usage: Usage
    usage_reported_at: datetime | None
    overrides: Limits | None
    raw_overrides: Mapping[str, Any] | None
    created_at: datetime
    deleted_at: datetime | None

    def domain(self) -> Site:
        return Site(id=self.id, name=self.name, usage=self.usage, overrides=self.overrides)


@dataclass(frozen=True)
class QuoteRecord:
    id: str
    site_id: int
    membership_id: int
    version: int
    at: datetime
    expires_at: datetime
    selection: Selection
    document: Mapping[str, Any]
    actor: str
    committed: bool = False
    committed_at: datetime | None = None
    catalog_version: int | None = None


@dataclass(frozen=True)
class NewInvoice:
    """What a use case asks the invoices repository to store (the number is given there)."""

    membership_id: int
    site_id: int | None
    kind: str
    currency: str
    lines: tuple[QuoteLine, ...]
    totals: Totals
    created_at: datetime
    quote_id: str | None = None
    renewal_key: str | None = None
    expires_at: datetime | None = None
    apply: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LedgerRecord:
    id: int
    kind: str
    amount_minor: int
    currency: str
    balance_after_minor: int
    invoice_id: str | None
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class LimitsState:
    """A site's limits document: the version wanted, the version acknowledged, the last error."""

    site_id: int
    desired_version: int
    applied_version: int
    document: Mapping[str, Any] | None
    attempts: int
    last_error: str | None
    dead: bool
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class SiteListing:
    """One line of the operator's site list (`bridge sites`, `bridge repush`)."""

    site_id: int
    url: str
    name: str
    plan: str | None
    status: str | None
    desired_version: int | None
    applied_version: int | None
    attempts: int
    dead: bool
    last_error: str | None


@dataclass(frozen=True)
class CatalogVersionRecord:
    """One stored catalog version: the `catalog:` section, who made it, why, and its diff."""

    id: int
    document: Mapping[str, Any]
    actor: str
    reason: str
    source: str  # seed | import | console | revert
    diff: tuple[Mapping[str, Any], ...]
    created_at: datetime


@dataclass(frozen=True)
class MembershipListing:
    id: int
    plan: str
    plan_price_minor: int
    status: str
    period_end: datetime | None
    balance_minor: int
    currency: str
    sites: tuple[int, ...]


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


class SiteRepository(Protocol):
    def get(self, site_id: int) -> SiteRecord | None: ...
    def live_of(self, membership_id: int) -> list[SiteRecord]: ...
    def upsert(
        self,
        site_id: int,
        url: str,
        name: str,
        owner: Owner | None,
        timezone: str | None,
        at: datetime,
    ) -> SiteRecord: ...
    def set_membership(self, site_id: int, membership_id: int) -> None: ...
    def set_usage(self, site_id: int, usage: Usage, at: datetime) -> bool:
        """Whether the site exists."""
        ...

    def set_overrides(self, site_id: int, overrides: Limits | None) -> None: ...
    def mark_deleted(self, site_id: int, at: datetime) -> None: ...
    def first_of(self, membership_id: int) -> int | None: ...
    def listing(self) -> list[SiteListing]: ...


class CustomerRepository(Protocol):
    def ensure(self, owner: Owner, at: datetime) -> int: ...


class MembershipRepository(Protocol):
    def get(self, membership_id: int, *, lock: bool = False) -> Membership: ...
    def add(self, customer_id: int | None, m: Membership, at: datetime) -> int: ...
    def save(self, membership_id: int, before_version: int, after: Membership, at: datetime) -> int:
        """Write `after` if the stored version is still `before_version`; the new version."""
        ...

    def of_customer(self, customer_id: int | None) -> list[tuple[int, Membership]]: ...
    def due_for_roll_over(self, at: datetime) -> list[int]: ...
    def listing(self) -> list[MembershipListing]: ...


class InvoiceRepository(Protocol):
    def add(self, new: NewInvoice) -> Invoice: ...
    def get(self, invoice_id: str, *, lock: bool = False) -> Invoice | None: ...
    def open_of(self, membership_id: int, kind: str | None = None) -> list[Invoice]: ...
    def close(self, invoice_id: str, status: str, reason: str) -> None: ...
    def close_open(
        self, membership_id: int, status: str, reason: str, kind: str | None = None
    ) -> int: ...
    def mark_paid(
        self, invoice_id: str, at: datetime, reference: str | None, note: str | None = None
    ) -> Invoice: ...
    def expire_due(self, at: datetime) -> int: ...
    def of_membership(self, membership_id: int) -> list[Invoice]: ...
    def listing(self, status: str | None) -> list[Invoice]: ...


class QuoteRepository(Protocol):
    def add(self, quote: QuoteRecord) -> None: ...
    def get(self, quote_id: str) -> QuoteRecord | None: ...
    def mark_committed(self, quote_id: str, at: datetime) -> None: ...


class LedgerRepository(Protocol):
    def add(
        self,
        membership_id: int,
        kind: str,
        amount_minor: int,
        currency: str,
        balance_after_minor: int,
        reason: str,
        actor: str,
        at: datetime,
        invoice_id: str | None = None,
    ) -> LedgerRecord: ...
    def of_membership(self, membership_id: int) -> list[LedgerRecord]: ...


class AuditRepository(Protocol):
    def add(
        self, actor: str, action: str, target: str, details: Mapping[str, Any], at: datetime
    ) -> None: ...


class LimitsRepository(Protocol):
    def get(self, site_id: int) -> LimitsState | None: ...
    def desire(
        self, site_id: int, document: Callable[[int], Mapping[str, Any]], at: datetime
    ) -> int:
        """Store the next version's document (built for that version number); the version."""
        ...

    def acknowledge(self, site_id: int, applied_version: int, at: datetime) -> LimitsState: ...
    def acknowledge_newer(self, site_id: int, version: int, at: datetime) -> bool:
        """`acknowledge` if `version` is newer than the applied one; whether the site has a
        limits document."""
        ...

    def record_failure(
        self,
        site_id: int,
        version: int,
        error: str,
        dead: bool,
        next_attempt_at: datetime | None,
        at: datetime,
    ) -> LimitsState: ...
    def behind(self, include_dead: bool) -> list[int]: ...
    def default_document(
        self, limits: Mapping[str, Any], document: Callable[[int], Mapping[str, Any]], at: datetime
    ) -> tuple[int, dict[str, Any]]:
        """The network's default limits document, a new version when `limits` changed."""
        ...

    def default_version(self) -> int | None: ...


class ReceiptRepository(Protocol):
    def claim(self, webhook_id: str, type: str, outcome: str, at: datetime) -> bool:
        """Record a receipt unless this id has one; whether it was recorded now."""
        ...

    def set_outcome(self, webhook_id: str, outcome: str) -> None: ...
    def add(self, webhook_id: str, type: str, outcome: str, at: datetime) -> None: ...


class TokenRepository(Protocol):
    def use(self, jti: str, exp: datetime, at: datetime) -> bool: ...
    def forget_expired(self, before: datetime) -> int: ...


class CatalogRepository(Protocol):
    def current_id(self) -> int | None: ...
    def get(self, version_id: int) -> CatalogVersionRecord | None: ...
    def add(
        self,
        document: Mapping[str, Any],
        actor: str,
        reason: str,
        source: str,
        diff: Sequence[Mapping[str, Any]],
        at: datetime,
    ) -> int: ...
    def listing(self, offset: int, limit: int) -> tuple[list[CatalogVersionRecord], int]: ...


class CatalogReader(Protocol):
    """Reads of the catalog versions outside any unit of work (the catalog source's)."""

    def current_id(self) -> int | None: ...
    def get(self, version_id: int) -> CatalogVersionRecord | None: ...


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


class UnitOfWork(Protocol):
    sites: SiteRepository
    customers: CustomerRepository
    memberships: MembershipRepository
    invoices: InvoiceRepository
    quotes: QuoteRepository
    ledger: LedgerRepository
    audit: AuditRepository
    limits: LimitsRepository
    receipts: ReceiptRepository
    tokens: TokenRepository
    catalogs: CatalogRepository
    console: ConsoleReads

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def push_after_commit(self, site_id: int, version: int) -> None: ...
    def push_defaults_after_commit(self) -> None: ...
    def forget_pushes(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
