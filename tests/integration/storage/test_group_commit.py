"""Webhook events from many threads: group commits on SQLite, a transaction each on PostgreSQL.

The group tests hold a group's leader inside its transaction until the other threads have
queued, so the next group is known to hold them all; then they check that every thread gets
its own answer, that an event failing inside a group is refused (or fails) alone, and that a
thread's answer comes only after the commit of the transaction that holds its event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bridge.adapters.storage import make_engine, migrate
from bridge.adapters.storage.group_commit import GroupCommitter, make_committer
from bridge.adapters.storage.limits import RECEIPTS
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.api.inputs import parse_selection
from bridge.config import load_settings
from bridge.services import payments, quotes, sites
from bridge.services.context import OPERATOR, Context
from bridge.services.ports import UnitOfWork
from tests.integration.storage.conftest import ROOT, create_site
from tests.services.conftest import send_event
from tests.services.fakes import FakeClock, FakeQueue


def _threads(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[threading.Thread]]:
    """Start each call in a thread; results (or exceptions) land in the returned list."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    return results, threads


def _join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive()


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the threads never queued"
        time.sleep(0.005)


def _one_group(committer: GroupCommitter, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run `calls` (each going through `committer`) so that they form one group: a first unit
    holds the leader's transaction open until all of them wait. Returns their results."""
    release = threading.Event()

    def hold(uow: UnitOfWork) -> None:
        release.wait(timeout=30)

    _, holder = _threads([lambda: committer(hold)])
    _until(lambda: committer.waiting() == 0)  # the holder leads and holds its transaction
    results, threads = _threads(calls)
    _until(lambda: committer.waiting() == len(calls))
    release.set()
    _join(holder + threads)
    return results


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite database (group commits are SQLite's; the last test runs on both)."""
    url = f"sqlite:///{tmp_path}/bridge.db"
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_ctx(lite: Engine, clock: FakeClock) -> Context:
    settings = load_settings({}, ROOT / "config.yaml", require_secrets=False)
    settings = replace(settings, database_url=str(lite.url), gateway="manual")
    queue = FakeQueue()
    uow = unit_of_work_factory(lite, queue)
    ctx = Context(settings, uow, clock, queue, committer=make_committer(lite, uow))
    assert isinstance(ctx.committer, GroupCommitter)
    return ctx


def _receipts(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(RECEIPTS.c.webhook_id, RECEIPTS.c.outcome)).all()
    return {r.webhook_id: r.outcome for r in rows}


def _usage(n: int) -> dict[str, Any]:
    return {"site_id": 2 + n % 3, "usage": {"disk_mb": n, "posts": {"post": n}}}


def test_events_queued_together_commit_in_one_transaction_and_each_gets_its_answer(
    sqlite_ctx: Context, lite: Engine
) -> None:
    ctx = sqlite_ctx
    for site_id in (2, 3, 4):
        create_site(ctx, site_id, site_id)
    seen: list[int] = []
    committer = ctx.committer
    assert isinstance(committer, GroupCommitter)

    def send(n: int) -> str:
        return send_event(ctx, f"u-{n}", "usage.reported", _usage(n))

    original = committer._make_uow

    def spying() -> Any:
        uow = original()
        seen.append(id(uow))
        return uow

    committer._make_uow = spying
    results = _one_group(committer, [lambda n=n: send(n) for n in range(8)])
    assert results == ["processed"] * 8
    assert len(seen) == 2  # the holder's transaction, then one for all eight events
    receipts = _receipts(lite)
    assert all(receipts[f"u-{n}"] == "processed" for n in range(8))
    # Site 4's stored usage is one of its two reports (the one that queued last).
    assert sites.site_view(ctx, 4)["site"]["usage"]["disk_mb"] in (2, 5)


def test_the_same_event_twice_in_one_group_is_applied_once(
    sqlite_ctx: Context, lite: Engine
) -> None:
    ctx = sqlite_ctx
    create_site(ctx, 2, 5)
    assert isinstance(ctx.committer, GroupCommitter)
    data = {"site_id": 2, "usage": {"disk_mb": 7}}
    results = _one_group(
        ctx.committer,
        [lambda: send_event(ctx, "twice", "usage.reported", data) for _ in range(3)],
    )
    assert sorted(results) == ["duplicate", "duplicate", "processed"]
    assert list(_receipts(lite).values()).count("processed") == 2  # site.created + this one


def test_a_refused_payment_in_a_group_is_refused_alone_and_the_others_are_applied(
    sqlite_ctx: Context, lite: Engine
) -> None:
    ctx = sqlite_ctx
    for site_id in (2, 3, 4):
        create_site(ctx, site_id, site_id)
    invoice = quotes.commit_quote(
        ctx,
        quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OPERATOR)["id"],
        OPERATOR,
    )["invoice"]
    wrong = {"invoice_id": invoice["id"], "amount": "1.00", "currency": "USD", "reference": "x"}
    calls: list[Callable[[], Any]] = [
        lambda: send_event(ctx, "u-0", "usage.reported", _usage(0)),
        lambda: send_event(ctx, "pay-wrong", "invoice.paid", wrong),
        lambda: send_event(ctx, "u-1", "usage.reported", _usage(1)),
    ]
    assert isinstance(ctx.committer, GroupCommitter)
    results = _one_group(ctx.committer, calls)
    assert results == ["processed", "refused:amount_mismatch", "processed"]
    receipts = _receipts(lite)
    assert receipts["pay-wrong"] == "refused:amount_mismatch"
    assert receipts["u-0"] == receipts["u-1"] == "processed"
    assert payments.invoice(ctx, invoice["id"])["status"] == "open"
    # A right payment sent later still applies: the refusal changed nothing but its receipt.
    right = {**wrong, "amount": "29.00"}
    assert send_event(ctx, "pay-right", "invoice.paid", right) == "processed"
    assert sites.site_view(ctx, 2)["membership"]["plan"]["id"] == "premium"


def test_a_unit_that_fails_has_only_its_own_writes_and_pushes_undone(
    lite: Engine, clock: FakeClock
) -> None:
    queue = FakeQueue()
    committer = GroupCommitter(unit_of_work_factory(lite, queue))

    def good(name: str, site_id: int) -> Callable[[UnitOfWork], str]:
        def work(uow: UnitOfWork) -> str:
            uow.receipts.claim(name, "test", "processed", clock.now())
            uow.push_after_commit(site_id, 1)
            return name

        return work

    def bad(uow: UnitOfWork) -> str:
        uow.receipts.claim("bad", "test", "processed", clock.now())
        uow.push_after_commit(99, 1)
        raise RuntimeError("this unit breaks")

    results = _one_group(
        committer,
        [lambda: committer(good("a", 2)), lambda: committer(bad), lambda: committer(good("b", 3))],
    )
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], RuntimeError)
    assert set(_receipts(lite)) == {"a", "b"}
    assert sorted(queue.pushes) == [(2, 1), (3, 1)]


def test_when_the_commit_fails_every_unit_of_the_group_gets_the_error(
    lite: Engine, clock: FakeClock
) -> None:
    make = unit_of_work_factory(lite, FakeQueue())

    def failing_commit() -> Any:
        uow = make()

        def commit() -> None:
            raise OSError("disk full")

        uow.commit = commit  # type: ignore[method-assign]
        return uow

    committer = GroupCommitter(failing_commit)

    def write(name: str) -> Callable[[UnitOfWork], str]:
        return lambda uow: (uow.receipts.claim(name, "test", "processed", clock.now()), name)[1]

    results = _one_group(committer, [lambda n=n: committer(write(n)) for n in "abc"])
    assert all(isinstance(r, OSError) for r in results)
    assert _receipts(lite) == {}


def test_an_answer_comes_after_the_commit_that_holds_its_event(
    make_ctx: Callable[..., Context], engine: Engine
) -> None:
    ctx = make_ctx()
    for site_id in (2, 3, 4):
        create_site(ctx, site_id, site_id)
    committed_when_answered: list[bool] = []

    def send(n: int) -> str:
        outcome = send_event(ctx, f"u-{n}", "usage.reported", _usage(n))
        with engine.connect() as conn:  # another connection sees only committed rows
            found = conn.execute(
                select(func.count()).where(RECEIPTS.c.webhook_id == f"u-{n}")
            ).scalar()
        committed_when_answered.append(found == 1)
        return outcome

    results, threads = _threads([lambda n=n: send(n) for n in range(24)])
    _join(threads)
    assert results == ["processed"] * 24
    assert committed_when_answered == [True] * 24


def test_a_grouped_unit_that_asks_for_another_fails_instead_of_waiting_forever(
    lite: Engine,
) -> None:
    committer = GroupCommitter(unit_of_work_factory(lite, FakeQueue()))

    def nested(uow: UnitOfWork) -> str:
        return committer(lambda inner: "never")

    with pytest.raises(RuntimeError, match="cannot start another"):
        committer(nested)
    assert committer(lambda uow: "still works") == "still works"
