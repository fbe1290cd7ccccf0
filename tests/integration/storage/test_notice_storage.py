"""Notices on SQLite and PostgreSQL: recorded once per id, the switches, the unsent ones, the
renewal scan's query (issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bridge.api.inputs import parse_selection
from bridge.services import notices, quotes, renewals
from bridge.services.context import OPERATOR, Context
from bridge.services.pushes import sites_behind
from tests.integration.storage.conftest import create_site
from tests.services.conftest import OWNER
from tests.services.fakes import FakeClock


def test_notices_are_recorded_once_switched_and_found_unsent(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx()
    create_site(ctx, 2, 5)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    quotes.commit_quote(ctx, quote["id"], OWNER)
    kinds = sorted(n.kind for n in notices.latest_notices(ctx))
    assert kinds == ["change_applied", "payment_received"]
    with ctx.uow() as uow:
        first = uow.notices.latest(1)[0]
        assert not uow.notices.add(first.id, first.membership_id, 2, first.kind, {}, ctx.now())
        assert [n.id for n in uow.notices.unsent_of_site(2)] != []
        uow.notices.record_failure([first.id], "down", dead=True)
        uow.commit()
    assert 2 in sites_behind(ctx)  # the other one is still waiting
    notices.set_switches(ctx, {"past_due"}, OPERATOR, "quiet")
    assert notices.switches(ctx)["past_due"] and not notices.switches(ctx)["change_applied"]
    notices.set_switches(ctx, {"renewal_coming"}, OPERATOR, "renewals only")
    clock.set(datetime(2026, 4, 24, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    renewals.roll_over(ctx)
    coming = [n for n in notices.latest_notices(ctx) if n.kind == "renewal_coming"]
    assert len(coming) == 1
