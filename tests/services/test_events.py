"""Network events through Bridge.handle_event: idempotent by event id, a handler per type."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.errors import InvalidRequest
from bridge.services.bridge import Bridge
from tests.services.conftest import create_site, owner


def _created(site_id: int, user_id: int) -> dict[str, object]:
    return {
        "site_id": site_id,
        "url": f"http://net.example/site{site_id}/",
        "name": f"Blog {site_id}",
        "owner": owner(user_id),
    }


def test_the_same_event_twice_changes_nothing_the_second_time(bridge: Bridge) -> None:
    assert bridge.handle_event("e-1", "site.created", _created(2, 5)) == "processed"
    before = bridge.site_view(2)
    assert bridge.handle_event("e-1", "site.created", _created(2, 5)) == "duplicate"
    assert bridge.site_view(2) == before


def test_a_second_site_joins_the_owners_membership_when_its_sites_limit_allows(
    bridge: Bridge,
) -> None:
    create_site(bridge, 2, user_id=5)
    bridge.commit_quote(bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner")
    create_site(bridge, 3, user_id=5)
    assert bridge.site_view(3)["membership"]["id"] == bridge.site_view(2)["membership"]["id"]
    assert bridge.site_view(3)["membership"]["plan"]["id"] == "premium"


def test_a_second_site_gets_its_own_membership_when_the_plan_allows_one_site(
    bridge: Bridge,
) -> None:
    create_site(bridge, 2, user_id=5)
    create_site(bridge, 3, user_id=5)
    assert bridge.site_view(3)["membership"]["id"] != bridge.site_view(2)["membership"]["id"]
    assert bridge.site_view(3)["membership"]["plan"]["id"] == "free"


def test_usage_reports_are_stored_for_the_pre_flight(bridge: Bridge) -> None:
    create_site(bridge)
    usage = {
        "posts": {"post": 4, "page": 1},
        "disk_mb": 40,
        "users": 1,
        "visits": 310,
        "custom_domains": 0,
    }
    assert (
        bridge.handle_event("u-1", "usage.reported", {"site_id": 2, "usage": usage}) == "processed"
    )
    assert bridge.site_view(2)["site"]["usage"] == {**usage, "posts": {"page": 1, "post": 4}}


def test_limits_applied_acknowledges_the_version(bridge: Bridge) -> None:
    create_site(bridge)
    assert bridge.sites_behind() == [2]
    bridge.handle_event("a-1", "limits.applied", {"site_id": 2, "version": 1})
    assert bridge.site_view(2)["limits"]["applied_version"] == 1
    assert bridge.sites_behind() == []


def test_a_deleted_site_leaves_its_membership_and_is_not_pushed(bridge: Bridge) -> None:
    create_site(bridge)
    bridge.handle_event("d-1", "site.deleted", {"site_id": 2})
    assert bridge.sites_behind() == []


def test_unknown_event_types_are_accepted_and_ignored(bridge: Bridge) -> None:
    assert bridge.handle_event("x-1", "site.renamed", {"site_id": 2}) == "ignored"


def test_malformed_event_data_is_refused(bridge: Bridge) -> None:
    with pytest.raises(InvalidRequest):
        bridge.handle_event("m-1", "usage.reported", {"site_id": "two", "usage": {}})
    with pytest.raises(InvalidRequest):
        bridge.handle_event("m-2", "usage.reported", {"site_id": 2, "usage": {"disk_mb": -1}})


def test_invoice_paid_applies_the_change_once(make_bridge: Callable[..., Bridge]) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    invoice = bridge.commit_quote(
        bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner"
    )["invoice"]
    paid = {"invoice_id": invoice["id"], "amount": "29.00", "currency": "USD", "reference": "ch_1"}
    assert bridge.handle_event("p-1", "invoice.paid", paid) == "processed"
    after = bridge.site_view(2)
    assert after["membership"]["plan"]["id"] == "premium"
    assert bridge.handle_event("p-2", "invoice.paid", paid) == "processed"
    assert bridge.site_view(2) == after
    assert bridge.invoice(invoice["id"])["reference"] == "ch_1"


def test_invoice_paid_with_the_wrong_amount_or_currency_is_refused(
    make_bridge: Callable[..., Bridge],
) -> None:
    bridge = make_bridge(gateway="manual")
    create_site(bridge)
    invoice = bridge.commit_quote(
        bridge.create_quote(2, {"plan": "premium"}, "owner")["id"], "owner"
    )["invoice"]
    wrong = {"invoice_id": invoice["id"], "amount": "1.00", "currency": "USD", "reference": "x"}
    assert bridge.handle_event("p-1", "invoice.paid", wrong) == "refused:amount_mismatch"
    euro = {**wrong, "amount": "29.00", "currency": "EUR"}
    assert bridge.handle_event("p-2", "invoice.paid", euro) == "refused:currency_mismatch"
    assert bridge.invoice(invoice["id"])["status"] == "open"
    assert bridge.site_view(2)["membership"]["plan"]["id"] == "free"
