"""The invariants a crash must never break, read straight from the database (SQLite or PostgreSQL).

Each invariant is a function of an `AuditScope` (a connection, and optionally what the network
received) returning its violations as sentences; `@invariant` registers it. The crash tests
(tests/integration/faults/) run `audit(...)` after every round and fail on any sentence. Later
money paths (card payments, receipts, notices) add their own with the same decorator in a module
that imports this one, e.g.

    from tests.support.audits import AuditScope, invariant

    @invariant("every captured charge has one paid invoice")
    def _charges(scope: AuditScope) -> list[str]: ...

and import that module before calling `audit` (or pass `only=` to pick invariants by name).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, select

from bridge.adapters.storage.models import (
    AuditEntry,
    InvoiceRow,
    LedgerEntry,
    LimitsDocumentRow,
    MembershipRow,
    QuoteRow,
    SiteRow,
)

MEMBERSHIPS = cast(Table, MembershipRow.__table__)
LEDGER = cast(Table, LedgerEntry.__table__)
INVOICES = cast(Table, InvoiceRow.__table__)
QUOTES = cast(Table, QuoteRow.__table__)
AUDIT = cast(Table, AuditEntry.__table__)
DOCS = cast(Table, LimitsDocumentRow.__table__)
SITES = cast(Table, SiteRow.__table__)


@dataclass
class AuditScope:
    """What an invariant may look at. `received` is the network's view (site id -> the last
    limits document it applied), when the test has one; `expected_limits` maps a site id to the
    limits its membership gives it now (computed by the bridge's own services)."""

    conn: Connection
    received: Mapping[int, Mapping[str, Any]] | None = None
    expected_limits: Mapping[int, Any] | None = None
    # The sites the network's view speaks for (None: every site of the database).
    sites: Collection[int] | None = None
    notes: dict[str, Any] = field(default_factory=dict)


Invariant = Callable[[AuditScope], list[str]]
REGISTRY: dict[str, Invariant] = {}


def invariant(name: str) -> Callable[[Invariant], Invariant]:
    """Register an invariant under a sentence that names what must hold."""

    def register(fn: Invariant) -> Invariant:
        REGISTRY[name] = fn
        return fn

    return register


def audit(
    engine: Engine,
    *,
    received: Mapping[int, Mapping[str, Any]] | None = None,
    expected_limits: Mapping[int, Any] | None = None,
    only: Iterable[str] | None = None,
    sites: Collection[int] | None = None,
) -> dict[str, list[str]]:
    """Run the invariants in one read transaction; {name: violations} for those that fail."""
    names = list(only) if only is not None else list(REGISTRY)
    failures: dict[str, list[str]] = {}
    with engine.connect() as conn, conn.begin():
        scope = AuditScope(conn, received, expected_limits, sites)
        for name in names:
            problems = REGISTRY[name](scope)
            if problems:
                failures[name] = problems
    return failures


def expected_limits(runtime: Any, engine: Engine) -> dict[int, Any]:
    """Each live site's limits as its membership gives them now, by the bridge's own rules
    (`runtime` is a `bridge.bootstrap.Runtime` on the same database)."""
    from bridge.services.views import site_limits

    ctx = runtime.ctx
    with engine.connect() as conn:
        site_ids = [int(s) for s in conn.execute(select(SITES.c.id)).scalars()]
    out: dict[int, Any] = {}
    with ctx.uow() as uow:
        for site_id in site_ids:
            site = uow.sites.get(site_id)
            if site is None or site.deleted_at is not None:
                continue
            m = None if site.membership_id is None else uow.memberships.get(site.membership_id)
            out[site_id] = site_limits(
                ctx.catalog, m, site.domain(), ctx.settings.default_plan
            ).to_json()
    return out


def _rows(scope: AuditScope, stmt: Any) -> list[Any]:
    return list(scope.conn.execute(stmt).mappings())


@invariant("every membership's ledger sums to its balance")
def ledger_sums_to_balance(scope: AuditScope) -> list[str]:
    sums: dict[int, int] = defaultdict(int)
    last: dict[int, tuple[int, int]] = {}
    for row in _rows(scope, select(LEDGER).order_by(LEDGER.c.id)):
        sums[row["membership_id"]] += row["amount_minor"]
        last[row["membership_id"]] = (row["id"], row["balance_after_minor"])
    problems = []
    for m in _rows(scope, select(MEMBERSHIPS.c.id, MEMBERSHIPS.c.balance_minor)):
        if sums.get(m["id"], 0) != m["balance_minor"]:
            problems.append(
                f"membership {m['id']}: balance {m['balance_minor']}, ledger sums to "
                f"{sums.get(m['id'], 0)}"
            )
        elif m["id"] in last and last[m["id"]][1] != m["balance_minor"]:
            problems.append(
                f"membership {m['id']}: balance {m['balance_minor']}, last ledger entry "
                f"{last[m['id']][0]} says {last[m['id']][1]}"
            )
    return problems


def _applications(scope: AuditScope) -> Counter[str]:
    """How many times each invoice (by id) was applied or credited, from the audit log."""
    numbers = {r["number"]: r["id"] for r in _rows(scope, select(INVOICES.c.id, INVOICES.c.number))}
    applied: Counter[str] = Counter()
    for row in _rows(scope, select(AUDIT.c.action, AUDIT.c.target, AUDIT.c.details)):
        if row["action"] in ("invoice.pay", "invoice.credited"):
            applied[row["target"].removeprefix("invoice:")] += 1
        elif row["action"] == "quote.commit":
            details = row["details"] or {}
            if details.get("status") in ("applied", "scheduled"):
                applied[numbers.get(details.get("invoice"), f"#{details.get('invoice')}")] += 1
    return applied


@invariant("no invoice is paid or applied twice")
def invoice_applied_at_most_once(scope: AuditScope) -> list[str]:
    problems = [
        f"invoice {invoice_id} applied or credited {n} times"
        for invoice_id, n in _applications(scope).items()
        if n > 1
    ]
    per_invoice = Counter(
        r["invoice_id"]
        for r in _rows(scope, select(LEDGER.c.invoice_id, LEDGER.c.kind))
        if r["invoice_id"] is not None and r["kind"] in ("change", "late_payment")
    )
    problems += [
        f"invoice {invoice_id} moved the balance {n} times"
        for invoice_id, n in per_invoice.items()
        if n > 1
    ]
    return problems


@invariant("every paid change invoice is applied exactly once")
def paid_change_applied_once(scope: AuditScope) -> list[str]:
    applied = _applications(scope)
    paid = _rows(
        scope,
        select(INVOICES.c.id, INVOICES.c.number).where(
            INVOICES.c.kind == "change", INVOICES.c.status == "paid"
        ),
    )
    return [
        f"paid change invoice {r['number']} applied {applied.get(r['id'], 0)} times"
        for r in paid
        if applied.get(r["id"], 0) != 1
    ]


@invariant("no renewal is made twice for a period")
def renewal_once_per_period(scope: AuditScope) -> list[str]:
    periods = Counter(
        (r["membership_id"], (r["apply"] or {}).get("period_start"))
        for r in _rows(
            scope,
            select(INVOICES.c.membership_id, INVOICES.c.apply).where(INVOICES.c.kind == "renewal"),
        )
    )
    return [
        f"membership {m}: {n} renewal invoices for the period from {start}"
        for (m, start), n in periods.items()
        if n > 1
    ]


@invariant("no quote is committed twice, and every committed quote has its one invoice")
def quote_committed_once(scope: AuditScope) -> list[str]:
    by_quote = Counter(
        r["quote_id"]
        for r in _rows(scope, select(INVOICES.c.quote_id).where(INVOICES.c.quote_id.isnot(None)))
    )
    committed = {
        r["id"] for r in _rows(scope, select(QUOTES.c.id).where(QUOTES.c.committed.is_(True)))
    }
    problems = [f"quote {q} has {n} invoices" for q, n in by_quote.items() if n > 1]
    problems += [f"quote {q} is committed without an invoice" for q in committed - set(by_quote)]
    problems += [
        f"quote {q} has an invoice but is not committed" for q in set(by_quote) - committed
    ]
    return problems


@invariant("invoice numbers are unique and without gaps")
def invoice_numbers_gapless(scope: AuditScope) -> list[str]:
    numbers = sorted(r["number"] for r in _rows(scope, select(INVOICES.c.number)))
    if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        return [f"invoice numbers skip {missing[:10]} (or repeat)"]
    return []


@invariant("every site converges to its membership's limits")
def sites_converge(scope: AuditScope) -> list[str]:
    """Only with the network's view (`received`): applied == desired, the network holds the
    desired document, and that document's limits are the membership's limits now."""
    if scope.received is None:
        return []
    rows = _rows(
        scope,
        select(DOCS.c.site_id, DOCS.c.desired_version, DOCS.c.applied_version, DOCS.c.document)
        .join(SITES, SITES.c.id == DOCS.c.site_id)
        .where(SITES.c.deleted_at.is_(None)),
    )
    problems = []
    for r in rows:
        site = r["site_id"]
        if scope.sites is not None and site not in scope.sites:
            continue
        got = scope.received.get(site)
        if r["applied_version"] != r["desired_version"]:
            problems.append(
                f"site {site}: applied {r['applied_version']}, desired {r['desired_version']}"
            )
        if got is None or got.get("version") != r["desired_version"]:
            problems.append(
                f"site {site}: the network holds version "
                f"{None if got is None else got.get('version')}, desired {r['desired_version']}"
            )
        elif got.get("limits") != (r["document"] or {}).get("limits"):
            problems.append(f"site {site}: the network's limits differ from the stored document")
        expected = (scope.expected_limits or {}).get(site)
        if expected is not None and (r["document"] or {}).get("limits") != expected:
            problems.append(
                f"site {site}: stored limits {(r['document'] or {}).get('limits')} are not its "
                f"membership's {expected}"
            )
    return problems
