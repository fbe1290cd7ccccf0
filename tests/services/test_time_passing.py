"""Time passing (billing-rules.md §7) with an injected clock: nothing sleeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bridge.api.inputs import parse_selection
from bridge.services import operator, payments, quotes, renewals, sites
from bridge.services.context import OPERATOR, Context
from tests.services.conftest import OWNER, adjust_balance, create_site
from tests.services.fakes import FakeClock


def _premium(ctx: Context, site_id: int = 2) -> None:
    quote = quotes.create_quote(ctx, site_id, parse_selection({"plan": "premium"}), OWNER)
    result = quotes.commit_quote(ctx, quote["id"], OWNER)
    if result["status"] == "pending_payment":
        payments.pay_invoice(ctx, result["invoice"]["id"], "ref", OPERATOR)


def test_rolling_over_twice_changes_nothing_the_second_time(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    _premium(ctx)
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))
    first = renewals.roll_over(ctx)
    assert first["renewed"] == 1
    view = sites.site_view(ctx, 2)
    ledger = operator.ledger_of(ctx, 2)
    assert renewals.roll_over(ctx) == {k: 0 for k in first}
    assert sites.site_view(ctx, 2) == view
    assert operator.ledger_of(ctx, 2) == ledger


def test_the_renewal_is_paid_from_the_balance_first(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    _premium(ctx)
    adjust_balance(ctx, 2, "10.00", "goodwill", OPERATOR)
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    renewal = operator.ledger_of(ctx, 2)["invoices"][-1]
    assert (renewal["kind"], renewal["total"]) == ("renewal", "29.00")
    assert (renewal["balance_applied"], renewal["amount_due"]) == ("10.00", "19.00")
    assert sites.site_view(ctx, 2)["membership"]["balance"] == "0.00"
    assert sites.site_view(ctx, 2)["membership"]["period_end"] == "2026-06-01T00:00:00Z"


def test_an_unpaid_renewal_goes_past_due_then_to_the_fallback_plan_after_the_grace_period(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    _premium(ctx)
    clock.set(datetime(2026, 5, 1, 1, tzinfo=UTC))
    assert renewals.roll_over(ctx)["past_due"] == 1
    assert sites.site_view(ctx, 2)["membership"]["status"] == "past_due"
    clock.set(datetime(2026, 5, 7, tzinfo=UTC))
    assert renewals.roll_over(ctx)["fell_back"] == 0
    clock.set(datetime(2026, 5, 8, 1, tzinfo=UTC))
    assert renewals.roll_over(ctx)["fell_back"] == 1
    view = sites.site_view(ctx, 2)
    assert (view["membership"]["plan"]["id"], view["membership"]["status"]) == ("free", "active")
    assert operator.ledger_of(ctx, 2)["invoices"][-1]["status"] == "void"
    assert view["limits"]["limits"]["posts"] == {"page": 3, "post": 5}


def test_paying_a_past_due_renewal_makes_the_membership_active(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    _premium(ctx)
    clock.set(datetime(2026, 5, 1, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    renewal = operator.ledger_of(ctx, 2)["invoices"][-1]
    payments.pay_invoice(ctx, renewal["id"], "ref", OPERATOR)
    assert sites.site_view(ctx, 2)["membership"]["status"] == "active"
    clock.set(datetime(2026, 5, 20, tzinfo=UTC))
    assert renewals.roll_over(ctx)["fell_back"] == 0


def test_a_scheduled_downgrade_takes_effect_at_period_end(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    _premium(ctx)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "free"}), OWNER)["id"], OWNER
    )
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    view = sites.site_view(ctx, 2)
    assert view["membership"]["plan"]["id"] == "free"
    assert view["membership"]["scheduled_change"] is None


def test_several_missed_periods_roll_one_at_a_time(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    _premium(ctx)
    clock.set(datetime(2026, 7, 15, tzinfo=UTC))
    assert renewals.roll_over(ctx)["renewed"] == 3
    assert sites.site_view(ctx, 2)["membership"]["period_end"] == "2026-08-01T00:00:00Z"
    assert [i["number"] for i in operator.ledger_of(ctx, 2)["invoices"]] == [1, 2, 3, 4]


def test_an_unpaid_change_invoice_is_voided_at_period_end(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual", change_invoice_ttl_s=90 * 86400)
    create_site(ctx)
    invoice = quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )["invoice"]
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    assert payments.invoice(ctx, invoice["id"])["status"] == "void"


def test_cancelling_at_the_end_of_term_keeps_access_until_period_end(
    ctx: Context, clock: FakeClock
) -> None:
    create_site(ctx)
    _premium(ctx)
    view = operator.cancel_membership(ctx, 2, "end_of_term", OPERATOR)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["membership"]["scheduled_change"]["cancels"] is True
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    assert sites.site_view(ctx, 2)["membership"]["plan"]["id"] == "free"


def test_cancelling_now_credits_the_unused_value_to_the_balance(
    ctx: Context, clock: FakeClock
) -> None:
    create_site(ctx)
    _premium(ctx)
    clock.set(datetime(2026, 4, 16, tzinfo=UTC))
    view = operator.cancel_membership(ctx, 2, "immediate", OPERATOR)
    assert view["membership"]["plan"]["id"] == "free"
    assert view["membership"]["balance"] == "14.50"
    assert operator.ledger_of(ctx, 2)["entries"][-1]["kind"] == "cancellation_credit"


def test_the_roll_over_counts_the_change_invoices_it_voids(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual", change_invoice_ttl_s=90 * 86400)
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    quotes.commit_quote(ctx, quote["id"], OWNER)
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    counts = renewals.roll_over(ctx)
    assert counts["voided"] == 1
    assert renewals.roll_over(ctx)["voided"] == 0
