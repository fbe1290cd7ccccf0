"""What every use case is given: settings, a unit-of-work factory and the clock; and who acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from bridge.config import Settings
from bridge.domain.catalog import Catalog, Policy
from bridge.domain.tax import Tax
from bridge.services.card_ports import CardGateway
from bridge.services.catalog_source import CatalogSnapshot, CatalogSupply, PinnedCatalog
from bridge.services.ports import Clock, LimitsQueue, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")


class Committer(Protocol):
    """Runs `work(uow)` in a transaction and returns its result once that transaction
    committed (on SQLite, possibly one shared with other threads' short writes: see
    `bridge.adapters.storage.group_commit`); `work` must not commit itself."""

    def __call__(self, work: Callable[[UnitOfWork], T]) -> T: ...


ActorKind = Literal["operator", "owner", "network", "system"]


@dataclass(frozen=True)
class Actor:
    """Who acts: the operator, a site's owner (through the checkout), the network, the bridge."""

    kind: ActorKind
    site_id: int | None = None
    user_id: int | None = None
    name: str | None = None  # the operator's WordPress user when known (the console)

    @property
    def label(self) -> str:
        """A short, stable text for the audit log and the ledger."""
        if self.kind == "owner":
            return f"owner:user:{self.user_id}@site:{self.site_id}"
        if self.name:
            return f"{self.kind}:{self.name}"
        return self.kind

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"


OPERATOR = Actor("operator")
NETWORK = Actor("network")
SYSTEM = Actor("system")


def operator_named(who: str) -> Actor:
    """The operator as a WordPress user ("wp:login#id"), as the console signs them in."""
    return Actor("operator", name=who)


def owner(site_id: int, user_id: int | None) -> Actor:
    return Actor("owner", site_id, user_id)


@dataclass(frozen=True)
class Context:
    """The use cases' dependencies, built once by `bridge.bootstrap`."""

    settings: Settings
    uow: UnitOfWorkFactory
    clock: Clock
    queue: LimitsQueue
    # The database's catalog versions; None: config.yaml's catalog (tools, some tests).
    catalogs: CatalogSupply | None = None
    # The card gateway (Stripe) when `gateway: stripe`; None for the test and manual gateways.
    cards: CardGateway | None = None
    # Short writes of many threads (webhooks); None: each in a unit of work of its own.
    committer: Committer | None = None

    @property
    def catalog(self) -> Catalog:
        return self.snapshot().catalog

    def snapshot(self) -> CatalogSnapshot:
        """The current catalog with its version id; read it once per use case."""
        if self.catalogs is None:
            return CatalogSnapshot(0, self.settings.catalog)
        return self.catalogs.current()

    def pinned(self, snapshot: CatalogSnapshot | None = None) -> Context:
        """This context on one fixed catalog (the current one unless given)."""
        return replace(self, catalogs=PinnedCatalog(snapshot or self.snapshot()))

    @property
    def policy(self) -> Policy:
        return self.settings.policy

    @property
    def tax(self) -> Tax | None:
        """The network's one tax, or None (billing-rules.md §12)."""
        return self.settings.tax

    def transact(self, work: Callable[[UnitOfWork], T]) -> T:
        """`work(uow)` committed, through the committer when there is one."""
        if self.committer is not None:
            return self.committer(work)
        with self.uow() as uow:
            result = work(uow)
            uow.commit()
        return result

    def now(self) -> datetime:
        """The clock's instant to the second (stored instants carry no microseconds)."""
        return self.clock.now().replace(microsecond=0)
