"""Tax through the use cases (billing-rules.md §12) on real SQLite: quotes, commits, invoices,
renewals, the membership's `tax_rate_paid`, and the mode fixed once an invoice was taxed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bridge.api.inputs import parse_membership, parse_selection
from bridge.domain.tax import Tax
from bridge.errors import ConfigError, InvalidRequest
from bridge.services import operator, quotes, renewals, sites
from bridge.services.context import OPERATOR, Context
from bridge.services.taxes import check_tax_mode
from tests.services.conftest import OWNER, create_site
from tests.services.fakes import FakeClock

MVA = Tax("MVA", "25", "exclusive")
PPN = Tax("PPN", "11", "inclusive")


def test_an_exclusive_tax_is_added_on_the_quote_and_stored_on_the_invoice(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(tax=MVA)
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    assert [(x["type"], x["amount"], x.get("tax")) for x in quote["lines"]] == [
        ("plan", "29.00", "7.25"),
        ("tax", "7.25", None),
    ]
    assert quote["tax"] == {"name": "MVA", "rate": "25", "mode": "exclusive", "amount": "7.25"}
    assert quote["due_now"] == "36.25"
    invoice = quotes.commit_quote(ctx, quote["id"], OWNER)["invoice"]
    assert invoice["amount_due"] == "36.25" and invoice["total"] == "36.25"
    assert invoice["tax"] == quote["tax"]
    assert [x.get("tax") for x in invoice["lines"]] == ["7.25", None]
    membership = sites.site_view(ctx, 2)["membership"]
    assert membership["tax_rate_paid"] == "25"
    assert membership["tax"] == {"name": "MVA", "rate": "25", "mode": "exclusive"}
    assert membership["next_billing"] == {
        "date": "2026-05-01T00:00:00Z",
        "amount": "36.25",
        "covered_by_balance": "0.00",
        "tax": "7.25",
    }


def test_without_a_tax_every_document_says_tax_null(ctx: Context) -> None:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    assert quote["tax"] is None and all("tax" not in x for x in quote["lines"])
    invoice = quotes.commit_quote(ctx, quote["id"], OWNER)["invoice"]
    assert invoice["tax"] is None and all("tax" not in x for x in invoice["lines"])
    membership = sites.site_view(ctx, 2)["membership"]
    assert (membership["tax"], membership["tax_rate_paid"]) == (None, None)
    assert membership["next_billing"] is not None and "tax" not in membership["next_billing"]


def test_a_quote_keeps_the_tax_it_was_made_with_until_it_expires(
    make_ctx: Callable[..., Context],
) -> None:
    before = make_ctx(tax=MVA)
    create_site(before)
    quote = quotes.create_quote(before, 2, parse_selection({"plan": "premium"}), OWNER)
    after = make_ctx(tax=Tax("MVA", "20", "exclusive"))  # the rate changed (a restart)
    invoice = quotes.commit_quote(after, quote["id"], OWNER)["invoice"]
    assert (invoice["amount_due"], invoice["tax"]["rate"]) == ("36.25", "25")
    assert sites.site_view(after, 2)["membership"]["tax_rate_paid"] == "25"
    fresh = quotes.create_quote(after, 2, parse_selection({"plan": "premium", "addons": {}}), OWNER)
    assert fresh["kind"] == "no_change" and fresh["tax"]["rate"] == "20"


def test_the_credit_of_an_upgrade_carries_the_tax_its_period_was_paid_at(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(tax=MVA)
    create_site(ctx)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    clock.set(datetime(2026, 4, 16, tzinfo=UTC))  # half of April left (30 days)
    yearly = {"plan": "premium", "billing": {"every": 1, "unit": "year"}}
    quote = quotes.create_quote(ctx, 2, parse_selection(yearly), OWNER)
    credit = next(x for x in quote["lines"] if x["type"] == "credit")
    assert (credit["amount"], credit["tax"]) == ("-14.50", "-3.63")
    assert quote["lines"][-1]["amount"] == "68.87"  # 290.00 × 25 % = 72.50, less 3.63


def test_a_renewal_is_taxed_and_sets_the_rate_paid(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(tax=PPN)
    create_site(ctx)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    renewals.roll_over(make_ctx(tax=Tax("PPN", "12", "inclusive")))
    renewal = operator.ledger_of(ctx, 2)["invoices"][-1]
    assert renewal["kind"] == "renewal"
    assert (renewal["total"], renewal["tax"]["amount"], renewal["tax"]["rate"]) == (
        "29.00",
        "3.11",
        "12",
    )
    assert [x["type"] for x in renewal["lines"]] == ["plan"]  # inclusive: no tax line
    assert sites.site_view(ctx, 2)["membership"]["tax_rate_paid"] == "12"


def test_the_mode_is_fixed_once_an_invoice_was_taxed(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx(tax=MVA)
    check_tax_mode(make_ctx(tax=PPN))  # nothing taxed yet: any mode may start
    create_site(ctx)
    quotes.commit_quote(
        ctx, quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)["id"], OWNER
    )
    with pytest.raises(ConfigError) as refused:
        check_tax_mode(make_ctx(tax=PPN))
    assert "tax.mode" in refused.value.message and "'exclusive'" in refused.value.message
    check_tax_mode(make_ctx(tax=Tax("MVA", "20", "exclusive")))  # the rate may change
    check_tax_mode(make_ctx(tax=None))


def test_an_import_sets_the_rate_its_period_was_paid_at(ctx: Context) -> None:
    doc = {
        "plan": "premium",
        "paid": True,
        "tax_rate_paid": "25.0",
        "site": {"url": "http://127.0.0.1/s7/", "name": "S7", "owner": {"user_id": 9}},
    }
    view = operator.put_membership(ctx, 7, parse_membership(doc, "USD"), OPERATOR)
    assert view["membership"]["tax_rate_paid"] == "25"
    with pytest.raises(InvalidRequest) as bad:
        parse_membership({"plan": "premium", "tax_rate_paid": "25%"}, "USD")
    assert "tax_rate_paid" in bad.value.message
