"""Storage on SQLite and PostgreSQL: migrations, time zones, optimistic locking, concurrency."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bridge.adapters.storage import migrate
from bridge.adapters.storage.models import InvoiceRow, MembershipRow
from bridge.api.inputs import parse_selection
from bridge.errors import BridgeError, PendingChange, StaleQuote
from bridge.services import operator, quotes, renewals, sites
from bridge.services.context import OPERATOR, Context
from tests.integration.storage.conftest import create_site
from tests.services.conftest import OWNER, adjust_balance, send_event
from tests.services.fakes import FakeClock

TABLES = {
    "sites",
    "customers",
    "memberships",
    "invoices",
    "invoice_lines",
    "quotes",
    "limits_documents",
    "default_limits",
    "webhook_receipts",
    "ledger_entries",
    "audit_log",
    "checkout_token_uses",
    "counters",
}


def test_migrations_create_every_table_and_running_them_again_changes_nothing(
    database_url: str, engine: Engine
) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    migrate(database_url)
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_instants_come_back_as_aware_utc(make_ctx: Callable[..., Context], engine: Engine) -> None:
    ctx = make_ctx()
    create_site(ctx, 2, 5)
    with Session(engine) as s:
        row = s.scalars(select(MembershipRow)).one()
        assert row.period_start == datetime(2026, 4, 1, tzinfo=UTC)
        assert row.period_start.tzinfo is not None


def test_a_write_from_an_older_version_is_refused(
    make_ctx: Callable[..., Context], engine: Engine
) -> None:
    ctx = make_ctx()
    create_site(ctx, 2, 5)
    first, second = Session(engine), Session(engine, expire_on_commit=False)
    try:
        b = second.scalars(select(MembershipRow)).one()
        second.commit()  # ends its transaction (SQLite: frees the write lock); b keeps version 1
        a = first.scalars(select(MembershipRow)).one()
        a.balance_minor, a.version = 100, a.version + 1
        first.commit()
        b.balance_minor, b.version = 200, b.version + 1
        with pytest.raises(StaleDataError):
            second.commit()
    finally:
        first.close()
        second.close()


def _race(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[float]]:
    """Run the calls at once in threads; each result or error, and each duration in seconds."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    durations: list[float] = [0.0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            results[i] = calls[i]()
        except BridgeError as exc:
            results[i] = exc
        durations[i] = time.perf_counter() - start

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, durations


def _assert_ledger_adds_up(ctx: Context, site_id: int) -> None:
    ledger = operator.ledger_of(ctx, site_id)
    assert Decimal(ledger["balance"]) == sum(
        (Decimal(e["amount"]) for e in ledger["entries"]), Decimal(0)
    )
    for invoice in ledger["invoices"]:
        lines = sum((Decimal(line["amount"]) for line in invoice["lines"]), Decimal(0))
        assert Decimal(invoice["total"]) == lines
        assert Decimal(invoice["amount_due"]) == max(lines, Decimal(0)) - Decimal(
            invoice["balance_applied"]
        )


@pytest.mark.parametrize("gateway", ["test", "manual"])
def test_twenty_simultaneous_commits_for_one_membership_make_exactly_one_change(
    make_ctx: Callable[..., Context], gateway: str
) -> None:
    ctx = make_ctx(gateway=gateway)
    create_site(ctx, 2, 5)
    adjust_balance(ctx, 2, "3.00", "to exercise the balance", OPERATOR)
    selections = [{"plan": "premium"}, {"plan": "free", "addons": {"extra-disk": 1}}]
    quote_ids = [
        quotes.create_quote(ctx, 2, parse_selection(selections[i % 2]), OWNER)["id"]
        for i in range(20)
    ]
    results, durations = _race([lambda q=q: quotes.commit_quote(ctx, q, OWNER) for q in quote_ids])
    outcomes = Counter("ok" if isinstance(r, dict) else type(r).__name__ for r in results)
    assert outcomes["ok"] == 1, outcomes
    assert outcomes["StaleQuote"] + outcomes["PendingChange"] == 19, outcomes
    assert all(isinstance(r, dict | StaleQuote | PendingChange) for r in results)
    invoices = operator.ledger_of(ctx, 2)["invoices"]
    assert [i["number"] for i in invoices] == [1]
    _assert_ledger_adds_up(ctx, 2)
    print(f"\n{gateway}: outcomes {dict(outcomes)}, slowest commit {max(durations) * 1000:.0f} ms")


def test_invoice_numbers_stay_sequential_when_many_sites_commit_at_once(
    make_ctx: Callable[..., Context], engine: Engine
) -> None:
    ctx = make_ctx()
    for site_id in range(2, 14):
        create_site(ctx, site_id, 100 + site_id)
    quote_ids = [
        quotes.create_quote(ctx, site, parse_selection({"plan": "premium"}), OWNER)["id"]
        for site in range(2, 14)
    ]
    results, _ = _race([lambda q=q: quotes.commit_quote(ctx, q, OWNER) for q in quote_ids])
    assert all(isinstance(r, dict) for r in results), results
    with Session(engine) as s:
        numbers = sorted(s.scalars(select(InvoiceRow.number)))
    assert numbers == list(range(1, 13))


def test_two_roll_overs_at_once_renew_once(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx()
    for site_id in range(2, 6):
        create_site(ctx, site_id, 200 + site_id)
        quote = quotes.create_quote(ctx, site_id, parse_selection({"plan": "premium"}), OWNER)
        quotes.commit_quote(ctx, quote["id"], OWNER)
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))
    results, _ = _race([lambda: renewals.roll_over(ctx), lambda: renewals.roll_over(ctx)])
    assert sum(r["renewed"] for r in results) == 4
    assert renewals.roll_over(ctx)["renewed"] == 0
    for site_id in range(2, 6):
        renewal_invoices = [
            i for i in operator.ledger_of(ctx, site_id)["invoices"] if i["kind"] == "renewal"
        ]
        assert len(renewal_invoices) == 1
        _assert_ledger_adds_up(ctx, site_id)


def test_the_same_event_delivered_twice_at_once_is_processed_once(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    data = {
        "site_id": 2,
        "url": "http://net.example/site2/",
        "name": "Blog 2",
        "owner": {"user_id": 5, "email": "o@example.com", "locale": "nb_NO"},
    }
    results, _ = _race([lambda: send_event(ctx, "same-id", "site.created", data)] * 4)
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "processed"]
    assert sites.site_view(ctx, 2)["limits"]["desired_version"] == 1
