"""Operator calls: memberships, overrides, balance and refunds, each leaving a trace."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.api.inputs import parse_membership, parse_overrides, parse_selection
from bridge.errors import InvalidRequest, NotFound, Unprocessable
from bridge.services import access, limits, operator, pushes, quotes
from bridge.services.context import OPERATOR, Context
from tests.services.conftest import (
    OWNER,
    adjust_balance,
    create_site,
    owner_doc,
    record_refund,
)
from tests.services.fakes import FakeQueue


def test_the_operator_imports_an_existing_customer_with_their_dates(ctx: Context) -> None:
    doc = {
        "plan": "premium",
        "billing": {"every": 1, "unit": "year"},
        "anchor": "2026-01-15T00:00:00Z",
        "addons": {"extra-disk": 2},
        "site": {"url": "http://net.example/old/", "name": "Old blog", "owner": owner_doc(9)},
    }
    view = operator.put_membership(ctx, 7, parse_membership(doc, "USD"), OPERATOR)
    m = view["membership"]
    assert (m["plan"]["id"], m["price"], m["paid_value"]) == ("premium", "290.00", "410.00")
    assert (m["period_start"], m["period_end"]) == ("2026-01-15T00:00:00Z", "2027-01-15T00:00:00Z")
    assert view["limits"]["limits"]["disk_mb"] == 10240 + 2048


def test_putting_an_unknown_site_without_its_details_is_not_found(ctx: Context) -> None:
    with pytest.raises(NotFound):
        operator.put_membership(ctx, 7, parse_membership({"plan": "premium"}, "USD"), OPERATOR)


def test_overrides_replace_the_merged_limits_key_by_key(ctx: Context, queue: FakeQueue) -> None:
    create_site(ctx)
    view = operator.put_overrides(ctx, 2, parse_overrides({"posts": {"post": 50}}), OPERATOR)
    assert view["limits"]["limits"]["posts"] == {"page": 3, "post": 50}
    site_only = operator.put_overrides(
        ctx, 2, parse_overrides({"users": 4}), OPERATOR, scope="site"
    )
    assert site_only["limits"]["limits"]["users"] == 4
    assert site_only["limits"]["desired_version"] == 3
    assert queue.pushes[-1] == (2, 3)


def test_bad_overrides_are_refused(ctx: Context) -> None:
    create_site(ctx)
    with pytest.raises(InvalidRequest):
        operator.put_overrides(ctx, 2, parse_overrides({"bandwidth": 5}), OPERATOR)


def test_balance_adjustments_and_refunds_are_ledger_entries_with_a_reason(ctx: Context) -> None:
    create_site(ctx)
    added = adjust_balance(ctx, 2, "25.00", "service outage", OPERATOR)
    assert added["balance"] == "25.00"
    refunded = record_refund(ctx, 2, "10.00", "paid back by bank", OPERATOR)
    assert refunded["balance"] == "15.00"
    entries = operator.ledger_of(ctx, 2)["entries"]
    assert [(e["kind"], e["amount"], e["reason"]) for e in entries] == [
        ("adjustment", "25.00", "service outage"),
        ("refund", "-10.00", "paid back by bank"),
    ]


def test_the_balance_never_goes_below_zero(ctx: Context) -> None:
    create_site(ctx)
    with pytest.raises(Unprocessable):
        record_refund(ctx, 2, "1.00", "too much", OPERATOR)
    with pytest.raises(InvalidRequest):
        adjust_balance(ctx, 2, "1.00", "", OPERATOR)


def test_the_ledger_adds_up_after_changes_credits_and_renewals(ctx: Context) -> None:
    create_site(ctx)
    adjust_balance(ctx, 2, "5.00", "welcome", OPERATOR)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    quotes.commit_quote(
        ctx,
        quotes.create_quote(
            ctx, 2, parse_selection({"plan": "premium", "addons": {"extra-disk": 1}}), OWNER
        )["id"],
        OWNER,
    )
    ledger = operator.ledger_of(ctx, 2)
    total = sum(Decimal(e["amount"]) for e in ledger["entries"])
    assert Decimal(ledger["balance"]) == total
    for invoice in ledger["invoices"]:
        lines = sum(Decimal(line["amount"]) for line in invoice["lines"])
        assert Decimal(invoice["total"]) == lines
        assert Decimal(invoice["amount_due"]) == max(lines, 0) - Decimal(invoice["balance_applied"])


def test_a_checkout_token_id_is_accepted_once(ctx: Context) -> None:
    assert access.use_checkout_token(ctx, "a" * 32, 2_000_000_000) is True
    assert access.use_checkout_token(ctx, "a" * 32, 2_000_000_000) is False


def test_the_default_limits_document_follows_the_default_plan(ctx: Context) -> None:
    version, doc = limits.default_limits_document(ctx)
    assert (version, doc["limits"]["posts"]) == (1, {"page": 3, "post": 5})
    assert limits.default_limits_document(ctx)[0] == 1


def test_a_failed_push_is_recorded_and_a_dead_one_leaves_the_reconcile_list(
    ctx: Context,
) -> None:
    create_site(ctx)
    state = pushes.record_push_result(ctx, 2, 1, error="timeout")
    assert (state["attempts"], state["last_error"]) == (1, "timeout")
    assert pushes.sites_behind(ctx) == [2]
    pushes.record_push_result(ctx, 2, 1, error="gone", dead=True)
    assert pushes.sites_behind(ctx) == []
    assert pushes.sites_behind(ctx, include_dead=True) == [2]
    url, version, document = limits.limits_document(ctx, 2)
    assert (url, version, document["site_id"]) == ("http://net.example/site2/", 1, 2)
    assert document["membership"]["plan"] == {"id": "free", "name": "Free"}
