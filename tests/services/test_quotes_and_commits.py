"""Quotes and commits (billing-rules.md §9, §10) through the facade, on real SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.errors import NotEligible, NotFound, PendingChange, StaleQuote, Unprocessable
from bridge.services.bridge import Bridge
from tests.services.conftest import create_site
from tests.services.fakes import FakeClock, FakeQueue


def test_a_new_site_starts_on_the_default_plan_with_a_limits_document(
    bridge: Bridge, queue: FakeQueue
) -> None:
    view = create_site(bridge)
    assert view["membership"]["plan"] == {"id": "free", "name": "Free"}
    assert view["limits"]["desired_version"] == 1
    assert view["limits"]["limits"]["posts"] == {"page": 3, "post": 5}
    assert queue.pushes == [(2, 1)]


def test_options_offer_the_plan_group_and_explain_why_basic_is_not_offered(bridge: Bridge) -> None:
    create_site(bridge)
    options = bridge.options(2, product="basic")
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
    bridge: Bridge, queue: FakeQueue
) -> None:
    create_site(bridge)
    quote = bridge.create_quote(2, {"plan": "premium"}, "owner")
    assert (quote["kind"], quote["due_now"]) == ("upgrade", "29.00")
    result = bridge.commit_quote(quote["id"], "owner")
    assert result["status"] == "applied"
    assert result["invoice"]["status"] == "paid"
    assert result["invoice"]["amount_due"] == quote["due_now"]
    assert [line["amount"] for line in result["invoice"]["lines"]] == [
        line["amount"] for line in quote["lines"]
    ]
    view = bridge.site_view(2)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["limits"]["desired_version"] == 2
    assert view["limits"]["limits"]["posts"]["post"] == "unlimited"
    assert queue.pushes[-1] == (2, 2)


def test_invoice_lines_keep_the_formula_inputs(bridge: Bridge) -> None:
    create_site(bridge)
    quote = bridge.create_quote(2, {"plan": "premium"}, "owner")
    invoice = bridge.commit_quote(quote["id"], "owner")["invoice"]
    assert invoice["lines"][0]["inputs"] == {"price": "29.00", "quantity": 1, "fraction": "1/1"}
    assert invoice["number"] == 1


def test_with_the_manual_gateway_the_change_waits_for_payment(
    make_bridge: Callable[..., Bridge],
) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    quote = bridge.create_quote(2, {"plan": "premium"}, "owner")
    result = bridge.commit_quote(quote["id"], "owner")
    assert result["status"] == "pending_payment"
    assert bridge.site_view(2)["membership"]["plan"]["id"] == "free"
    paid = bridge.pay_invoice(result["invoice"]["id"], "bank-42", "operator")
    assert paid["status"] == "paid"
    view = bridge.site_view(2)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["membership"]["period_start"] == quote["at"]
    again = bridge.pay_invoice(result["invoice"]["id"], "bank-42", "operator")
    assert again["status"] == "already_paid"
    assert bridge.site_view(2)["membership"]["version"] == view["membership"]["version"]


def test_another_commit_is_refused_while_a_change_invoice_is_unpaid(
    make_bridge: Callable[..., Bridge],
) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    first = bridge.create_quote(2, {"plan": "premium"}, "owner")
    bridge.commit_quote(first["id"], "owner")
    second = bridge.create_quote(2, {"plan": "premium", "addons": {"extra-disk": 1}}, "owner")
    with pytest.raises(PendingChange):
        bridge.commit_quote(second["id"], "owner")


def test_a_commit_makes_every_other_open_quote_stale(bridge: Bridge) -> None:
    create_site(bridge)
    first = bridge.create_quote(2, {"plan": "premium"}, "owner")
    second = bridge.create_quote(2, {"plan": "free", "addons": {"extra-disk": 1}}, "owner")
    bridge.commit_quote(first["id"], "owner")
    with pytest.raises(StaleQuote):
        bridge.commit_quote(second["id"], "owner")


def test_a_quote_is_used_once(bridge: Bridge) -> None:
    create_site(bridge)
    quote = bridge.create_quote(2, {"plan": "premium"}, "owner")
    bridge.commit_quote(quote["id"], "owner")
    with pytest.raises(StaleQuote):
        bridge.commit_quote(quote["id"], "owner")


def test_an_expired_quote_is_refused_and_nothing_is_charged(
    bridge: Bridge, clock: FakeClock
) -> None:
    create_site(bridge)
    quote = bridge.create_quote(2, {"plan": "premium"}, "owner")
    clock.advance(seconds=901)
    with pytest.raises(StaleQuote) as error:
        bridge.commit_quote(quote["id"], "owner")
    assert error.value.code == "quote_expired"
    assert bridge.ledger(2)["invoices"] == []


def test_no_change_is_quoted_with_a_message_and_cannot_be_committed(bridge: Bridge) -> None:
    create_site(bridge)
    quote = bridge.create_quote(2, {"plan": "free"}, "owner")
    assert quote["kind"] == "no_change"
    assert quote["message"]
    with pytest.raises(Unprocessable) as error:
        bridge.commit_quote(quote["id"], "owner")
    assert error.value.code == "no_change"


def test_a_blocked_downgrade_is_refused_at_commit(bridge: Bridge, clock: FakeClock) -> None:
    create_site(bridge)
    bridge.commit_quote(bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner")
    bridge.handle_event(
        "usage-1",
        "usage.reported",
        {"site_id": 2, "usage": {"posts": {"post": 12}, "disk_mb": 10, "users": 1, "visits": 5}},
    )
    quote = bridge.create_quote(2, {"plan": "free"}, "owner")
    assert quote["blocked"][0]["limit"] == "posts.post"
    with pytest.raises(Unprocessable) as error:
        bridge.commit_quote(quote["id"], "owner")
    assert error.value.code == "blocked"


def test_a_downgrade_is_scheduled_for_the_end_of_term_and_can_be_cancelled(
    bridge: Bridge,
) -> None:
    create_site(bridge)
    bridge.commit_quote(bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner")
    quote = bridge.create_quote(2, {"plan": "free"}, "owner")
    result = bridge.commit_quote(quote["id"], "owner")
    assert result["status"] == "scheduled"
    view = bridge.site_view(2)
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["membership"]["scheduled_change"]["plan"]["id"] == "free"
    cancelled = bridge.cancel_scheduled_change(2, "owner")
    assert cancelled["cancelled"] is True
    assert cancelled["membership"]["scheduled_change"] is None


def test_an_ineligible_selection_is_refused_with_its_reason(bridge: Bridge) -> None:
    create_site(bridge)
    with pytest.raises(NotEligible) as error:
        bridge.create_quote(2, {"plan": "basic"}, "owner")
    assert error.value.code == "other_group"


def test_unknown_sites_and_quotes_are_not_found(bridge: Bridge) -> None:
    with pytest.raises(NotFound):
        bridge.site_view(99)
    with pytest.raises(NotFound):
        bridge.commit_quote("no-such-quote", "owner")


def test_a_quote_of_another_site_is_not_found_for_its_owner(bridge: Bridge) -> None:
    create_site(bridge, 2, user_id=5)
    create_site(bridge, 3, user_id=6)
    quote = bridge.create_quote(2, {"plan": "premium"}, "owner")
    with pytest.raises(NotFound):
        bridge.commit_quote(quote["id"], "owner", site_id=3)


def test_invoice_numbers_are_sequential(bridge: Bridge) -> None:
    create_site(bridge, 2, user_id=5)
    create_site(bridge, 3, user_id=6)
    numbers = [
        bridge.commit_quote(bridge.create_quote(site, {"plan": "premium"}, "owner")["id"], "owner")[
            "invoice"
        ]["number"]
        for site in (2, 3)
    ]
    assert numbers == [1, 2]


def test_an_unpaid_change_invoice_expires_and_nothing_changes(
    make_bridge: Callable[..., Bridge], clock: FakeClock
) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    result = bridge.commit_quote(
        bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner"
    )
    clock.advance(hours=25)
    assert bridge.roll_over()["expired"] == 1
    assert bridge.invoice(result["invoice"]["id"])["status"] == "expired"
    assert bridge.site_view(2)["membership"]["plan"]["id"] == "free"
    # and a new change can be committed again
    again = bridge.create_quote(2, {"plan": "premium"}, "owner")
    assert bridge.commit_quote(again["id"], "owner")["status"] == "pending_payment"
