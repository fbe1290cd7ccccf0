"""Network events through Context.handle_event: idempotent by event id, a handler per type."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.api.inputs import parse_selection
from bridge.errors import InvalidRequest
from bridge.services import payments, pushes, quotes, sites
from bridge.services.context import Context
from tests.services.conftest import (
    OWNER,
    create_site,
    owner_doc,
    send_event,
)


def _created(site_id: int, user_id: int) -> dict[str, object]:
    return {
        "site_id": site_id,
        "url": f"http://net.example/site{site_id}/",
        "name": f"Blog {site_id}",
        "owner": owner_doc(user_id),
    }


def test_the_same_event_twice_changes_nothing_the_second_time(ctx: Context) -> None:
    assert send_event(ctx, "e-1", "site.created", _created(2, 5)) == "processed"
    before = sites.site_view(ctx, 2)
    assert send_event(ctx, "e-1", "site.created", _created(2, 5)) == "duplicate"
    assert sites.site_view(ctx, 2) == before


def test_a_second_site_joins_the_owners_membership_when_its_sites_limit_allows(
    ctx: Context,
) -> None:
    create_site(ctx, 2, user_id=5)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    create_site(ctx, 3, user_id=5)
    assert (
        sites.site_view(ctx, 3)["membership"]["id"] == sites.site_view(ctx, 2)["membership"]["id"]
    )
    assert sites.site_view(ctx, 3)["membership"]["plan"]["id"] == "premium"


def test_a_second_site_gets_its_own_membership_when_the_plan_allows_one_site(
    ctx: Context,
) -> None:
    create_site(ctx, 2, user_id=5)
    create_site(ctx, 3, user_id=5)
    assert (
        sites.site_view(ctx, 3)["membership"]["id"] != sites.site_view(ctx, 2)["membership"]["id"]
    )
    assert sites.site_view(ctx, 3)["membership"]["plan"]["id"] == "free"


def test_usage_reports_are_stored_for_the_pre_flight(ctx: Context) -> None:
    create_site(ctx)
    usage = {
        "posts": {"post": 4, "page": 1},
        "disk_mb": 40,
        "users": 1,
        "visits": 310,
        "custom_domains": 0,
    }
    assert send_event(ctx, "u-1", "usage.reported", {"site_id": 2, "usage": usage}) == "processed"
    assert sites.site_view(ctx, 2)["site"]["usage"] == {**usage, "posts": {"page": 1, "post": 4}}


def test_limits_applied_acknowledges_the_version(ctx: Context) -> None:
    create_site(ctx)
    assert pushes.sites_behind(ctx) == [2]
    send_event(ctx, "a-1", "limits.applied", {"site_id": 2, "version": 1})
    assert sites.site_view(ctx, 2)["limits"]["applied_version"] == 1
    assert pushes.sites_behind(ctx) == []


def test_a_deleted_site_leaves_its_membership_and_is_not_pushed(ctx: Context) -> None:
    create_site(ctx)
    send_event(ctx, "d-1", "site.deleted", {"site_id": 2})
    assert pushes.sites_behind(ctx) == []


def test_unknown_event_types_are_accepted_and_ignored(ctx: Context) -> None:
    assert send_event(ctx, "x-1", "site.renamed", {"site_id": 2}) == "ignored"


def test_malformed_event_data_is_refused(ctx: Context) -> None:
    with pytest.raises(InvalidRequest):
        send_event(ctx, "m-1", "usage.reported", {"site_id": "two", "usage": {}})
    with pytest.raises(InvalidRequest):
        send_event(ctx, "m-2", "usage.reported", {"site_id": 2, "usage": {"disk_mb": -1}})


def test_invoice_paid_applies_the_change_once(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    invoice = quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )["invoice"]
    paid = {"invoice_id": invoice["id"], "amount": "29.00", "currency": "USD", "reference": "ch_1"}
    assert send_event(ctx, "p-1", "invoice.paid", paid) == "processed"
    after = sites.site_view(ctx, 2)
    assert after["membership"]["plan"]["id"] == "premium"
    assert send_event(ctx, "p-2", "invoice.paid", paid) == "processed"
    assert sites.site_view(ctx, 2) == after
    assert payments.invoice(ctx, invoice["id"])["reference"] == "ch_1"


def test_invoice_paid_with_the_wrong_amount_or_currency_is_refused(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    invoice = quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )["invoice"]
    wrong = {"invoice_id": invoice["id"], "amount": "1.00", "currency": "USD", "reference": "x"}
    assert send_event(ctx, "p-1", "invoice.paid", wrong) == "refused:amount_mismatch"
    euro = {**wrong, "amount": "29.00", "currency": "EUR"}
    assert send_event(ctx, "p-2", "invoice.paid", euro) == "refused:currency_mismatch"
    assert payments.invoice(ctx, invoice["id"])["status"] == "open"
    assert sites.site_view(ctx, 2)["membership"]["plan"]["id"] == "free"
