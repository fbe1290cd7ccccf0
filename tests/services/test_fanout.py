"""Fan-out: many sites' documents in batches under the rate cap, failures to the single chain.

Real SQLite unit of work; fakes only for the pusher, the clock and the queue (house style).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from bridge.adapters.storage import make_engine
from bridge.adapters.storage.catalogs import SqlCatalogReader
from bridge.config_sections import PushSettings
from bridge.domain.catalog_data import catalog_data
from bridge.errors import PushRejected, WordPressUnavailable
from bridge.services import backoffice, sites
from bridge.services import catalog as catalogs
from bridge.services.catalog_source import CatalogSource
from bridge.services.context import OPERATOR, SYSTEM, Context
from bridge.services.fanout import FanoutRunner, Throttle, queue_pushes
from bridge.services.ports import BatchItem, PushResult
from tests.services.conftest import create_site, send_event
from tests.services.fakes import FakeQueue


class FakeBatchPusher:
    """Answers batches like the plugin (version rule per site) unless told otherwise."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.held: dict[int, int] = {}
        self.errors: set[int] = set()  # sites answered with the plugin's per-site error
        self.fail_whole: list[Exception] = []  # raised by the next batches, in order

    def push_batch(
        self, network_url: str, documents: Sequence[tuple[int, str]], at: datetime, msg_id: str
    ) -> list[BatchItem]:
        self.batches.append([site_id for site_id, _ in documents])
        if self.fail_whole:
            raise self.fail_whole.pop(0)
        items = []
        for site_id, text in documents:
            doc = json.loads(text)
            assert doc["site_id"] == site_id
            version = int(doc["version"])
            if site_id in self.errors:
                items.append(
                    BatchItem(site_id, "error", code="bridge_unknown_site", http_status=404)
                )
                continue
            fresh = version > self.held.get(site_id, 0)
            self.held[site_id] = max(self.held.get(site_id, 0), version)
            items.append(BatchItem(site_id, "applied" if fresh else "stale", self.held[site_id]))
        return items

    def push_site(self, *args: Any) -> PushResult:
        raise AssertionError("a fan-out sends batches only")

    push_defaults = push_site


def push(**changes: Any) -> PushSettings:
    return replace(PushSettings(), **{"max_docs_per_s": 0, **changes})


@pytest.fixture
def fan_ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx(push=push(batch_size=2, max_concurrent_batches=1, fanout_from=3))


def with_sites(ctx: Context, count: int) -> list[int]:
    ids = list(range(2, 2 + count))
    for site_id in ids:
        create_site(ctx, site_id, user_id=100 + site_id)
    return ids


def limits(ctx: Context, site_id: int) -> dict[str, Any]:
    state = sites.site_view(ctx, site_id)["limits"]
    assert isinstance(state, dict)
    return state


def test_the_behind_sites_go_in_batches_of_the_configured_size_and_are_acknowledged(
    fan_ctx: Context,
) -> None:
    ids = with_sites(fan_ctx, 5)
    pusher = FakeBatchPusher()

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert sorted(pusher.batches) == [[2, 3], [4, 5], [6]]
    assert (report.acknowledged, report.batches, report.failed, report.left) == (5, 3, [], [])
    for site_id in ids:
        state = limits(fan_ctx, site_id)
        assert state["applied_version"] == state["desired_version"] == pusher.held[site_id]


def test_sites_already_up_to_date_are_not_sent_again(fan_ctx: Context) -> None:
    ids = with_sites(fan_ctx, 3)
    pusher = FakeBatchPusher()
    FanoutRunner(fan_ctx, pusher).run(ids[:2])
    pusher.batches.clear()

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert pusher.batches == [[4]]
    assert (report.acknowledged, report.skipped) == (1, 2)


def test_a_stale_answer_acknowledges_the_version_the_site_already_holds(
    fan_ctx: Context,
) -> None:
    ids = with_sites(fan_ctx, 2)
    pusher = FakeBatchPusher()
    pusher.held = {2: limits(fan_ctx, 2)["desired_version"]}  # site 2 got it some other way

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert report.acknowledged == 2
    assert limits(fan_ctx, 2)["applied_version"] == limits(fan_ctx, 2)["desired_version"]


def test_a_site_answered_with_an_error_goes_to_the_single_push_chain_alone(
    fan_ctx: Context,
) -> None:
    ids = with_sites(fan_ctx, 4)
    pusher = FakeBatchPusher()
    pusher.errors = {3}

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert report.failed == [3]
    assert report.acknowledged == 3
    assert limits(fan_ctx, 3)["applied_version"] < limits(fan_ctx, 3)["desired_version"]
    assert limits(fan_ctx, 2)["applied_version"] == limits(fan_ctx, 2)["desired_version"]


@pytest.mark.parametrize(
    "error",
    [WordPressUnavailable("the site did not answer in time"), PushRejected("push refused", 404)],
)
def test_every_site_of_a_batch_that_failed_whole_goes_to_the_single_push_chain(
    fan_ctx: Context, error: Exception
) -> None:
    ids = with_sites(fan_ctx, 4)
    pusher = FakeBatchPusher()
    pusher.fail_whole = [error]

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert report.failed in ([2, 3], [4, 5])  # whichever batch went first
    assert report.acknowledged == 2 and report.left == []


def test_after_two_batches_in_a_row_fail_whole_the_rest_is_left_for_later(
    fan_ctx: Context,
) -> None:
    ids = with_sites(fan_ctx, 8)
    pusher = FakeBatchPusher()
    pusher.fail_whole = [WordPressUnavailable("503"), WordPressUnavailable("503")]

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert len(pusher.batches) == 2
    assert report.failed == sorted(s for batch in pusher.batches for s in batch)
    assert sorted(report.failed + report.left) == ids and len(report.left) == 4
    assert all(limits(fan_ctx, s)["applied_version"] == 0 for s in ids)


def test_a_deleted_site_is_handed_to_the_single_chain_which_knows_it_is_gone(
    fan_ctx: Context,
) -> None:
    ids = with_sites(fan_ctx, 3)
    send_event(fan_ctx, "deleted-3", "site.deleted", {"site_id": 3})
    pusher = FakeBatchPusher()

    report = FanoutRunner(fan_ctx, pusher).run(ids)

    assert sorted(s for batch in pusher.batches for s in batch) == [2, 4]
    assert report.failed == [3]


class Pacing:
    """A monotonic clock that only `sleep` moves, recording every sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_throttle_spaces_batches_so_documents_per_second_stay_under_the_cap() -> None:
    pacing = Pacing()
    throttle = Throttle(200, pacing.monotonic, pacing.sleep)

    for _ in range(4):
        throttle.take(100)

    assert pacing.slept == [0.5, 0.5, 0.5]  # 400 documents in 1.5 s + the last batch's turn
    assert 400 / (pacing.now - 100.0 + 0.5) == 200


def test_a_zero_cap_never_waits() -> None:
    pacing = Pacing()
    throttle = Throttle(0, pacing.monotonic, pacing.sleep)
    for _ in range(10):
        throttle.take(200)
    assert pacing.slept == []


def test_a_fanout_under_the_cap_sleeps_between_its_batches(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(push=push(batch_size=2, max_concurrent_batches=1, max_docs_per_s=4))
    ids = with_sites(ctx, 6)
    pacing = Pacing()
    runner = FanoutRunner(
        ctx, FakeBatchPusher(), throttle=Throttle(4, pacing.monotonic, pacing.sleep)
    )

    runner.run(ids)

    assert pacing.slept == [0.5, 0.5]  # 2 documents at 4/s: half a second per batch


def test_many_sites_queue_one_fanout_and_a_few_stay_single_pushes(
    fan_ctx: Context, queue: FakeQueue
) -> None:
    queue_pushes(fan_ctx, [2, 3])
    queue_pushes(fan_ctx, [4, 5, 6, 4])

    assert queue.pushes == [(2, 0), (3, 0)]
    assert queue.fanouts == [[4, 5, 6]]


def test_repushing_many_sites_is_one_fanout(fan_ctx: Context, queue: FakeQueue) -> None:
    ids = with_sites(fan_ctx, 4)
    queue.pushes.clear()

    assert backoffice.repush(fan_ctx, ids, OPERATOR, "after the outage") == 4

    assert queue.fanouts == [ids]
    assert queue.pushes == []


@pytest.fixture
def versioned(fan_ctx: Context) -> Iterator[Context]:
    engine = make_engine(fan_ctx.settings.database_url, reader=True)
    ctx = replace(
        fan_ctx,
        catalogs=CatalogSource(SqlCatalogReader(engine), fan_ctx.settings.catalog, check_every_s=0),
    )
    assert catalogs.start_up(ctx, SYSTEM) == "seeded"
    yield ctx
    engine.dispose()


def raise_free_disk(ctx: Context) -> catalogs.Imported:
    data = catalog_data(ctx.catalog)
    data["products"]["free"]["limits"]["disk_mb"] += 100  # type: ignore[index]
    return catalogs.import_catalog(ctx, data, OPERATOR, "wp:admin", "more disk for Free")


def test_raising_a_plans_limits_for_many_sites_queues_one_fanout_not_a_push_each(
    versioned: Context, queue: FakeQueue
) -> None:
    ids = with_sites(versioned, 4)
    queue.pushes.clear()

    done = raise_free_disk(versioned)

    assert sorted(done.impact.push_now) == ids
    assert queue.fanouts == [ids]
    assert queue.pushes == []
    assert all(limits(versioned, s)["desired_version"] == 2 for s in ids)


def test_raising_a_plans_limits_for_a_few_sites_stays_single_pushes(
    versioned: Context, queue: FakeQueue
) -> None:
    with_sites(versioned, 2)
    queue.pushes.clear()

    raise_free_disk(versioned)

    assert queue.fanouts == []
    assert queue.pushes == [(2, 2), (3, 2)]
