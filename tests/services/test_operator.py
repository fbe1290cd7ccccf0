"""Operator calls: memberships, overrides, balance and refunds, each leaving a trace."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.errors import InvalidRequest, NotFound, Unprocessable
from bridge.services.bridge import Bridge
from tests.services.conftest import create_site, owner
from tests.services.fakes import FakeQueue


def test_the_operator_imports_an_existing_customer_with_their_dates(bridge: Bridge) -> None:
    doc = {
        "plan": "premium",
        "billing": {"every": 1, "unit": "year"},
        "anchor": "2026-01-15T00:00:00Z",
        "addons": {"extra-disk": 2},
        "site": {"url": "http://net.example/old/", "name": "Old blog", "owner": owner(9)},
    }
    view = bridge.put_membership(7, doc, "operator")
    m = view["membership"]
    assert (m["plan"]["id"], m["price"], m["paid_value"]) == ("premium", "290.00", "410.00")
    assert (m["period_start"], m["period_end"]) == ("2026-01-15T00:00:00Z", "2027-01-15T00:00:00Z")
    assert view["limits"]["limits"]["disk_mb"] == 10240 + 2048


def test_putting_an_unknown_site_without_its_details_is_not_found(bridge: Bridge) -> None:
    with pytest.raises(NotFound):
        bridge.put_membership(7, {"plan": "premium"}, "operator")


def test_overrides_replace_the_merged_limits_key_by_key(bridge: Bridge, queue: FakeQueue) -> None:
    create_site(bridge)
    view = bridge.put_overrides(2, {"posts": {"post": 50}}, "operator")
    assert view["limits"]["limits"]["posts"] == {"page": 3, "post": 50}
    site_only = bridge.put_overrides(2, {"limits": {"users": 4}}, "operator", scope="site")
    assert site_only["limits"]["limits"]["users"] == 4
    assert site_only["limits"]["desired_version"] == 3
    assert queue.pushes[-1] == (2, 3)


def test_bad_overrides_are_refused(bridge: Bridge) -> None:
    create_site(bridge)
    with pytest.raises(InvalidRequest):
        bridge.put_overrides(2, {"bandwidth": 5}, "operator")


def test_balance_adjustments_and_refunds_are_ledger_entries_with_a_reason(bridge: Bridge) -> None:
    create_site(bridge)
    added = bridge.adjust_balance(2, "25.00", "service outage", "operator")
    assert added["balance"] == "25.00"
    refunded = bridge.record_refund(2, "10.00", "paid back by bank", "operator")
    assert refunded["balance"] == "15.00"
    entries = bridge.ledger(2)["entries"]
    assert [(e["kind"], e["amount"], e["reason"]) for e in entries] == [
        ("adjustment", "25.00", "service outage"),
        ("refund", "-10.00", "paid back by bank"),
    ]


def test_the_balance_never_goes_below_zero(bridge: Bridge) -> None:
    create_site(bridge)
    with pytest.raises(Unprocessable):
        bridge.record_refund(2, "1.00", "too much", "operator")
    with pytest.raises(InvalidRequest):
        bridge.adjust_balance(2, "1.00", "", "operator")


def test_the_ledger_adds_up_after_changes_credits_and_renewals(bridge: Bridge) -> None:
    create_site(bridge)
    bridge.adjust_balance(2, "5.00", "welcome", "operator")
    bridge.commit_quote(bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner")
    bridge.commit_quote(
        bridge.create_quote(2, {"plan": "premium", "addons": {"extra-disk": 1}}, "owner")["id"],
        "owner",
    )
    ledger = bridge.ledger(2)
    total = sum(Decimal(e["amount"]) for e in ledger["entries"])
    assert Decimal(ledger["balance"]) == total
    for invoice in ledger["invoices"]:
        lines = sum(Decimal(line["amount"]) for line in invoice["lines"])
        assert Decimal(invoice["total"]) == lines
        assert Decimal(invoice["amount_due"]) == max(lines, 0) - Decimal(invoice["balance_applied"])


def test_a_checkout_token_id_is_accepted_once(bridge: Bridge) -> None:
    assert bridge.use_checkout_token("a" * 32, 2_000_000_000) is True
    assert bridge.use_checkout_token("a" * 32, 2_000_000_000) is False


def test_the_default_limits_document_follows_the_default_plan(bridge: Bridge) -> None:
    version, doc = bridge.default_limits_document()
    assert (version, doc["limits"]["posts"]) == (1, {"page": 3, "post": 5})
    assert bridge.default_limits_document()[0] == 1


def test_a_failed_push_is_recorded_and_a_dead_one_leaves_the_reconcile_list(
    bridge: Bridge,
) -> None:
    create_site(bridge)
    state = bridge.record_push_result(2, 1, error="timeout")
    assert (state["attempts"], state["last_error"]) == (1, "timeout")
    assert bridge.sites_behind() == [2]
    bridge.record_push_result(2, 1, error="gone", dead=True)
    assert bridge.sites_behind() == []
    assert bridge.sites_behind(include_dead=True) == [2]
    url, version, document = bridge.limits_document(2)
    assert (url, version, document["site_id"]) == ("http://net.example/site2/", 1, 2)
    assert document["membership"]["plan"] == {"id": "free", "name": "Free"}
