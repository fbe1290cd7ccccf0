"""Time passing (billing-rules.md §7) with an injected clock: nothing sleeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bridge.services.bridge import Bridge
from tests.services.conftest import create_site
from tests.services.fakes import FakeClock


def _premium(bridge: Bridge, site_id: int = 2) -> None:
    quote = bridge.create_quote(site_id, {"plan": "premium"}, "owner")
    result = bridge.commit_quote(quote["id"], "owner")
    if result["status"] == "pending_payment":
        bridge.pay_invoice(result["invoice"]["id"], "ref", "operator")


def test_rolling_over_twice_changes_nothing_the_second_time(
    bridge: Bridge, clock: FakeClock
) -> None:
    create_site(bridge)
    _premium(bridge)
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))
    first = bridge.roll_over()
    assert first["renewed"] == 1
    view = bridge.site_view(2)
    ledger = bridge.ledger(2)
    assert bridge.roll_over() == {k: 0 for k in first}
    assert bridge.site_view(2) == view
    assert bridge.ledger(2) == ledger


def test_the_renewal_is_paid_from_the_balance_first(bridge: Bridge, clock: FakeClock) -> None:
    create_site(bridge)
    _premium(bridge)
    bridge.adjust_balance(2, "10.00", "goodwill", "operator")
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    bridge.roll_over()
    renewal = bridge.ledger(2)["invoices"][-1]
    assert (renewal["kind"], renewal["total"]) == ("renewal", "29.00")
    assert (renewal["balance_applied"], renewal["amount_due"]) == ("10.00", "19.00")
    assert bridge.site_view(2)["membership"]["balance"] == "0.00"
    assert bridge.site_view(2)["membership"]["period_end"] == "2026-06-01T00:00:00Z"


def test_an_unpaid_renewal_goes_past_due_then_to_the_fallback_plan_after_the_grace_period(
    make_bridge: Callable[..., Bridge], clock: FakeClock
) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    _premium(bridge)
    clock.set(datetime(2026, 5, 1, 1, tzinfo=UTC))
    assert bridge.roll_over()["past_due"] == 1
    assert bridge.site_view(2)["membership"]["status"] == "past_due"
    clock.set(datetime(2026, 5, 7, tzinfo=UTC))
    assert bridge.roll_over()["fell_back"] == 0
    clock.set(datetime(2026, 5, 8, 1, tzinfo=UTC))
    assert bridge.roll_over()["fell_back"] == 1
    view = bridge.site_view(2)
    assert (view["membership"]["plan"]["id"], view["membership"]["status"]) == ("free", "active")
    assert bridge.ledger(2)["invoices"][-1]["status"] == "void"
    assert view["limits"]["limits"]["posts"] == {"page": 3, "post": 5}


def test_paying_a_past_due_renewal_makes_the_membership_active(
    make_bridge: Callable[..., Bridge], clock: FakeClock
) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    _premium(bridge)
    clock.set(datetime(2026, 5, 1, 1, tzinfo=UTC))
    bridge.roll_over()
    renewal = bridge.ledger(2)["invoices"][-1]
    bridge.pay_invoice(renewal["id"], "ref", "operator")
    assert bridge.site_view(2)["membership"]["status"] == "active"
    clock.set(datetime(2026, 5, 20, tzinfo=UTC))
    assert bridge.roll_over()["fell_back"] == 0


def test_a_scheduled_downgrade_takes_effect_at_period_end(bridge: Bridge, clock: FakeClock) -> None:
    create_site(bridge)
    _premium(bridge)
    bridge.commit_quote(bridge.create_quote(2, {"plan": "free"}, "owner")["id"], "owner")
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    bridge.roll_over()
    view = bridge.site_view(2)
    assert view["membership"]["plan"]["id"] == "free"
    assert view["membership"]["scheduled_change"] is None


def test_several_missed_periods_roll_one_at_a_time(bridge: Bridge, clock: FakeClock) -> None:
    create_site(bridge)
    _premium(bridge)
    clock.set(datetime(2026, 7, 15, tzinfo=UTC))
    assert bridge.roll_over()["renewed"] == 3
    assert bridge.site_view(2)["membership"]["period_end"] == "2026-08-01T00:00:00Z"
    assert [i["number"] for i in bridge.ledger(2)["invoices"]] == [1, 2, 3, 4]


def test_an_unpaid_change_invoice_is_voided_at_period_end(
    make_bridge: Callable[..., Bridge], clock: FakeClock
) -> None:
    bridge = make_bridge(gateway="manual", change_invoice_ttl_s=90 * 86400)
    create_site(bridge)
    invoice = bridge.commit_quote(
        bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner"
    )["invoice"]
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    bridge.roll_over()
    assert bridge.invoice(invoice["id"])["status"] == "void"


def test_cancelling_at_the_end_of_term_keeps_access_until_period_end(
    bridge: Bridge, clock: FakeClock
) -> None:
    create_site(bridge)
    _premium(bridge)
    view = bridge.cancel_membership(2, "end_of_term", "operator")
    assert view["membership"]["plan"]["id"] == "premium"
    assert view["membership"]["scheduled_change"]["cancels"] is True
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    bridge.roll_over()
    assert bridge.site_view(2)["membership"]["plan"]["id"] == "free"


def test_cancelling_now_credits_the_unused_value_to_the_balance(
    bridge: Bridge, clock: FakeClock
) -> None:
    create_site(bridge)
    _premium(bridge)
    clock.set(datetime(2026, 4, 16, tzinfo=UTC))
    view = bridge.cancel_membership(2, "immediate", "operator")
    assert view["membership"]["plan"]["id"] == "free"
    assert view["membership"]["balance"] == "14.50"
    assert bridge.ledger(2)["entries"][-1]["kind"] == "cancellation_credit"
