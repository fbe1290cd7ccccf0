"""Quotes and commits (billing-rules.md §9, §10) through the facade, on real SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.api.inputs import parse_selection
from bridge.errors import NotEligible, NotFound, PendingChange, StaleQuote, Unprocessable
from bridge.services import operator, payments, quotes, renewals, sites
from bridge.services.context import OPERATOR, Context
from tests.services.conftest import OWNER, create_site, send_event
from tests.services.fakes import FakeClock, FakeQueue


def test_a_new_site_starts_on_the_default_plan_with_a_limits_document(
    ctx: Context, queue: FakeQueue
) -> None:
    view = create_site(ctx)
    assert view["membership"]["plan"] == {"id": "free", "name": "Free"}
    assert view["limits"]["desired_version"] == 1
    assert view["limits"]["limits"]["posts"] == {"page": 3, "post": 5}
    assert queue.pushes == [(2, 1)]


def test_options_offer_the_plan_group_and_explain_why_basic_is_not_offered(ctx: Context) -> None:
    create_site(ctx)
    options = sites.options(ctx, 2, product="basic")
    assert [(p["id"], p["current"]) for p in options["plans"]] == [
        ("free", True),
        ("premium", False),
    ]
    premium = options["plans"][1]
    assert (premium["kind"], premium["timing"], premium["price"]) == (
        "upgrade",
        "immediate",
        "29.00",
    )
    assert [a["id"] for a in options["addons"]] == ["extra-disk", "site-migration"]
    assert options["explanation"]["code"] == "other_group"


def test_upgrade_with_the_test_gateway_applies_at_once_and_bumps_the_limits(
    ctx: Context, queue: FakeQueue
) -> None:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    assert (quote["kind"], quote["due_now"]) == ("upgrade", "29.00")
    result = quotes.commit_quote(ctx, quote["id"], OWNER)
    assert result["status"] == "applied"
    assert result["invoice"]["status"] == "paid"
    assert result["invoice"]["amount_due"] == quote["due_now"]
    assert [line["amount"] for line in result["invoice"]["lines"]] == [
        line["amount"] for line in quote["lines"]
    ]
    view = sites.site_view(ctx, 2)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["limits"]["desired_version"] == 2
    assert view["limits"]["limits"]["posts"]["post"] == "unlimited"
    assert queue.pushes[-1] == (2, 2)


def test_invoice_lines_keep_the_formula_inputs(ctx: Context) -> None:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    invoice = quotes.commit_quote(ctx, quote["id"], OWNER)["invoice"]
    assert invoice["lines"][0]["inputs"] == {"price": "29.00", "quantity": 1, "fraction": "1/1"}
    assert invoice["number"] == 1


def test_with_the_manual_gateway_the_change_waits_for_payment(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    result = quotes.commit_quote(ctx, quote["id"], OWNER)
    assert result["status"] == "pending_payment"
    assert sites.site_view(ctx, 2)["membership"]["plan"]["id"] == "free"
    paid = payments.pay_invoice(ctx, result["invoice"]["id"], "bank-42", OPERATOR)
    assert paid["status"] == "paid"
    view = sites.site_view(ctx, 2)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["membership"]["period_start"] == quote["at"]
    again = payments.pay_invoice(ctx, result["invoice"]["id"], "bank-42", OPERATOR)
    assert again["status"] == "already_paid"
    assert sites.site_view(ctx, 2)["membership"]["version"] == view["membership"]["version"]


def test_another_commit_is_refused_while_a_change_invoice_is_unpaid(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    first = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    quotes.commit_quote(ctx, first["id"], OWNER)
    second = quotes.create_quote(
        ctx, 2, parse_selection({"plan": "premium", "addons": {"extra-disk": 1}}), OWNER
    )
    with pytest.raises(PendingChange):
        quotes.commit_quote(ctx, second["id"], OWNER)


def test_a_commit_makes_every_other_open_quote_stale(ctx: Context) -> None:
    create_site(ctx)
    first = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    second = quotes.create_quote(
        ctx, 2, parse_selection({"plan": "free", "addons": {"extra-disk": 1}}), OWNER
    )
    quotes.commit_quote(ctx, first["id"], OWNER)
    with pytest.raises(StaleQuote):
        quotes.commit_quote(ctx, second["id"], OWNER)


def test_a_quote_is_used_once(ctx: Context) -> None:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    quotes.commit_quote(ctx, quote["id"], OWNER)
    with pytest.raises(StaleQuote):
        quotes.commit_quote(ctx, quote["id"], OWNER)


def test_an_expired_quote_is_refused_and_nothing_is_charged(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    clock.advance(seconds=901)
    with pytest.raises(StaleQuote) as error:
        quotes.commit_quote(ctx, quote["id"], OWNER)
    assert error.value.code == "quote_expired"
    assert operator.ledger_of(ctx, 2)["invoices"] == []


def test_no_change_is_quoted_with_a_message_and_cannot_be_committed(ctx: Context) -> None:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "free"}), OWNER)
    assert quote["kind"] == "no_change"
    assert quote["message"]
    with pytest.raises(Unprocessable) as error:
        quotes.commit_quote(ctx, quote["id"], OWNER)
    assert error.value.code == "no_change"


def test_a_blocked_downgrade_is_refused_at_commit(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    send_event(
        ctx,
        "usage-1",
        "usage.reported",
        {"site_id": 2, "usage": {"posts": {"post": 12}, "disk_mb": 10, "users": 1, "visits": 5}},
    )
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "free"}), OWNER)
    assert quote["blocked"][0]["limit"] == "posts.post"
    with pytest.raises(Unprocessable) as error:
        quotes.commit_quote(ctx, quote["id"], OWNER)
    assert error.value.code == "blocked"


def test_a_downgrade_is_scheduled_for_the_end_of_term_and_can_be_cancelled(
    ctx: Context,
) -> None:
    create_site(ctx)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "free"}), OWNER)
    result = quotes.commit_quote(ctx, quote["id"], OWNER)
    assert result["status"] == "scheduled"
    view = sites.site_view(ctx, 2)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["membership"]["scheduled_change"]["plan"]["id"] == "free"
    cancelled = quotes.cancel_scheduled_change(ctx, 2, OWNER)
    assert cancelled["cancelled"] is True
    assert cancelled["membership"]["scheduled_change"] is None


def test_an_ineligible_selection_is_refused_with_its_reason(ctx: Context) -> None:
    create_site(ctx)
    with pytest.raises(NotEligible) as error:
        quotes.create_quote(ctx, 2, parse_selection({"plan": "basic"}), OWNER)
    assert error.value.code == "other_group"


def test_unknown_sites_and_quotes_are_not_found(ctx: Context) -> None:
    with pytest.raises(NotFound):
        sites.site_view(ctx, 99)
    with pytest.raises(NotFound):
        quotes.commit_quote(ctx, "no-such-quote", OWNER)


def test_a_quote_of_another_site_is_not_found_for_its_owner(ctx: Context) -> None:
    create_site(ctx, 2, user_id=5)
    create_site(ctx, 3, user_id=6)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    with pytest.raises(NotFound):
        quotes.commit_quote(ctx, quote["id"], OWNER, site_id=3)


def test_invoice_numbers_are_sequential(ctx: Context) -> None:
    create_site(ctx, 2, user_id=5)
    create_site(ctx, 3, user_id=6)
    numbers = [
        quotes.commit_quote(
            ctx,
            quotes.create_quote(ctx, site, parse_selection({"plan": "premium"}), OWNER)["id"],
            OWNER,
        )["invoice"]["number"]
        for site in (2, 3)
    ]
    assert numbers == [1, 2]


def test_an_unpaid_change_invoice_expires_and_nothing_changes(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    result = quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    clock.advance(hours=25)
    assert renewals.roll_over(ctx)["expired"] == 1
    assert payments.invoice(ctx, result["invoice"]["id"])["status"] == "expired"
    assert sites.site_view(ctx, 2)["membership"]["plan"]["id"] == "free"
    # and a new change can be committed again
    again = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    assert quotes.commit_quote(ctx, again["id"], OWNER)["status"] == "pending_payment"
