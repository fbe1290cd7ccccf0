"""Payments (billing-rules.md §10): a valid payment is never refused or lost.

A change invoice applies the terms it was quoted on, whatever the catalog says today; money for
an invoice that no longer applies goes to the balance with a ledger entry and an audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.adapters.storage import make_engine
from bridge.adapters.storage.models import AuditEntry
from bridge.api.inputs import parse_selection
from bridge.config import Settings
from bridge.errors import DatabaseUnavailable
from bridge.services import events, operator, payments, quotes, sites
from bridge.services.context import OPERATOR, Context
from bridge.services.events import InvoicePaid
from tests.services.conftest import OWNER, adjust_balance, create_site, send_event
from tests.services.fakes import FakeClock


def _repriced(settings: Settings, product_id: str, price_minor: int) -> Settings:
    """The same settings with one product's price changed (the operator edited the catalog)."""
    catalog = settings.catalog
    products = dict(catalog.products)
    products[product_id] = replace(products[product_id], price_minor=price_minor)
    return replace(settings, catalog=replace(catalog, products=products, limits_memo={}))


def _pending_upgrade(ctx: Context) -> dict[str, object]:
    create_site(ctx)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    result = quotes.commit_quote(ctx, quote["id"], OWNER)
    assert result["status"] == "pending_payment"
    return dict(result["invoice"])


def _audit_actions(ctx: Context) -> list[str]:
    engine = make_engine(ctx.settings.database_url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    finally:
        engine.dispose()


def test_a_paid_event_after_a_price_change_applies_the_quoted_terms(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    invoice = _pending_upgrade(ctx)
    later = make_ctx(gateway="manual")
    later = replace(later, settings=_repriced(later.settings, "premium", 3900))
    paid = {"invoice_id": invoice["id"], "amount": "29.00", "currency": "USD"}
    assert send_event(later, "p-1", "invoice.paid", paid) == "processed"
    membership = sites.site_view(later, 2)["membership"]
    assert membership is not None
    assert (membership["plan"]["id"], membership["price"]) == ("premium", "29.00")
    assert payments.invoice(later, str(invoice["id"]))["status"] == "paid"


def test_the_operator_marks_an_invoice_paid_after_a_price_change(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    invoice = _pending_upgrade(ctx)
    later = make_ctx(gateway="manual")
    later = replace(later, settings=_repriced(later.settings, "premium", 3900))
    result = payments.pay_invoice(later, str(invoice["id"]), "bank-7", OPERATOR)
    assert result["status"] == "paid"
    membership = sites.site_view(later, 2)["membership"]
    assert membership is not None and membership["price"] == "29.00"
    assert membership["paid_value"] == "29.00"


def test_money_for_an_expired_invoice_goes_to_the_balance_with_a_ledger_entry(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual")
    invoice = _pending_upgrade(ctx)
    clock.advance(seconds=ctx.settings.change_invoice_ttl_s + 60)
    result = payments.pay_invoice(ctx, str(invoice["id"]), "bank-8", OPERATOR)
    assert result["status"] == "credited"
    view = sites.site_view(ctx, 2)["membership"]
    assert view is not None
    assert (view["plan"]["id"], view["balance"]) == ("free", "29.00")
    entry = operator.ledger_of(ctx, 2)["entries"][-1]
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == (
        "late_payment",
        "29.00",
        "29.00",
    )
    assert "credited to the balance" in entry["reason"]
    assert "invoice.credited" in _audit_actions(ctx)


def test_money_for_a_membership_that_moved_on_is_credited_not_applied(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    invoice = _pending_upgrade(ctx)
    adjust_balance(ctx, 2, "5.00", "goodwill", OPERATOR)  # the terms it was quoted on moved
    paid = {"invoice_id": invoice["id"], "amount": "29.00", "currency": "USD"}
    assert send_event(ctx, "p-2", "invoice.paid", paid) == "processed"
    view = sites.site_view(ctx, 2)["membership"]
    assert view is not None
    assert (view["plan"]["id"], view["balance"]) == ("free", "34.00")
    assert payments.invoice(ctx, str(invoice["id"]))["status"] != "open"
    assert send_event(ctx, "p-3", "invoice.paid", paid) == "processed"  # a retry: nothing twice
    assert sites.site_view(ctx, 2)["membership"]["balance"] == "34.00"  # type: ignore[index]


def test_a_second_payment_of_a_paid_invoice_changes_nothing(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(gateway="manual")
    invoice = _pending_upgrade(ctx)
    payments.pay_invoice(ctx, str(invoice["id"]), "bank-9", OPERATOR)
    before = sites.site_view(ctx, 2)
    again = payments.pay_invoice(ctx, str(invoice["id"]), "bank-9", OPERATOR)
    assert again["status"] == "already_paid"
    assert sites.site_view(ctx, 2) == before


def test_an_invoice_is_paid_normally_until_the_second_it_expires(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(gateway="manual", change_invoice_ttl_s=3600)
    invoice = _pending_upgrade(ctx)
    clock.advance(seconds=3599)
    assert payments.pay_invoice(ctx, str(invoice["id"]), "ok", OPERATOR)["status"] == "paid"


def test_a_payment_event_that_meets_a_database_outage_is_not_recorded_as_refused(
    make_ctx: Callable[..., Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database failing in the middle of an `invoice.paid` is no refusal: the webhook must
    answer 503 so the network sends it again, and the retry must pay the invoice (a refused
    receipt would answer 204 and lose the payment)."""
    ctx = make_ctx(gateway="manual")
    invoice = _pending_upgrade(ctx)
    paid = {"invoice_id": invoice["id"], "amount": "29.00", "currency": "USD"}
    real = events._HANDLERS[InvoicePaid]

    def outage(*args: Any) -> str:
        raise DatabaseUnavailable()

    monkeypatch.setitem(events._HANDLERS, InvoicePaid, outage)
    with pytest.raises(DatabaseUnavailable):
        send_event(ctx, "p-outage", "invoice.paid", paid)
    monkeypatch.setitem(events._HANDLERS, InvoicePaid, real)
    assert send_event(ctx, "p-outage", "invoice.paid", paid) == "processed"
    assert payments.invoice(ctx, str(invoice["id"]))["status"] == "paid"
