"""The ports the use cases talk to (typing.Protocol) and the small records they exchange.

A unit of work opens one transaction and hands out repositories; `commit()` is explicit and
anything else rolls back. Repositories return domain values or the frozen records below, never
storage rows. Pushes noted on the unit of work are queued only after its commit, so a worker
never reads a document that was rolled back. The storage adapter
(`bridge.adapters.storage.unit_of_work`) implements all of this on SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bridge.domain.invoice import Invoice
from bridge.domain.limits import Limits
from bridge.domain.membership import Membership, Selection, Site, Usage
from bridge.domain.quote import QuoteLine, Totals
from bridge.domain.tax import TaxTotal
from bridge.services.import_ports import ImportRepository
from bridge.services.receipt_ports import SalesReceiptRepository

if TYPE_CHECKING:  # console_ports imports this module's records
    from bridge.services.console_ports import ConsoleReads
from bridge.services.card_ports import CardRepository
from bridge.services.notice_ports import NoticeRepository


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

    def enqueue_fanout(self, site_ids: Sequence[int]) -> None: ...  # services/fanout.py


@dataclass(frozen=True)
class PushResult:
    applied_version: int
    ignored: bool


@dataclass(frozen=True)
class BatchItem:
    """One document's answer in a batch: `applied`, `stale` (equal or older: unchanged), `error`."""

    site_id: int | None
    status: str
    applied_version: int | None = None
    code: str | None = None
    http_status: int | None = None


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

    def push_notice(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> None:
        """Push one notice to the network; the plugin mails it once per id."""
        ...

    def push_batch(
        self, network_url: str, documents: Sequence[tuple[int, str]], at: datetime, msg_id: str
    ) -> list[BatchItem]:
        """(site id, stored document JSON) pairs in one request; one answer each, in order."""
        ...


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
    tax: TaxTotal | None = None  # the tax the lines carry (§12); None without a tax


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
    def of_quote(self, quote_id: str) -> Invoice | None:
        """The invoice a committed quote made (one at most: the column is unique)."""
        ...

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
    def tax_modes(self) -> set[str]: ...


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

    def rewrite(
        self, site_id: int, document: Callable[[int], Mapping[str, Any]], at: datetime
    ) -> int:
        """The desired version's document again, same number (desired in this transaction)."""
        ...

    def acknowledge(self, site_id: int, applied_version: int, at: datetime) -> LimitsState: ...
    def acknowledge_many(self, acks: Sequence[tuple[int, int]], at: datetime) -> None: ...
    def pending(self, site_ids: Sequence[int]) -> list[tuple[int, int, int, str | None]]: ...
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
    def behind(self, include_dead: bool, dead_due_at: datetime | None = None) -> list[int]:
        """Sites whose applied version is behind: dead ones too with `include_dead`, or only
        the dead ones whose slow retry is due at `dead_due_at`."""
        ...

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
    def seen(self, webhook_id: str) -> bool: ...  # Stripe's events (services/card_events.py)
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
    sales_receipts: SalesReceiptRepository
    tokens: TokenRepository
    catalogs: CatalogRepository
    console: ConsoleReads
    imports: ImportRepository
    cards: CardRepository
    notices: NoticeRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def push_after_commit(self, site_id: int, version: int) -> None: ...
    def push_defaults_after_commit(self) -> None: ...
    def forget_pushes(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
