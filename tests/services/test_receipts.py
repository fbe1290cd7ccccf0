"""Receipts and credit notes (issue 17) through the use cases, on real SQLite."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bridge.api.inputs import parse_selection
from bridge.domain.catalog import Policy
from bridge.domain.receipt import Party
from bridge.domain.tax import Tax
from bridge.errors import NotFound, Unprocessable
from bridge.services import payments, quotes, receipts, renewals
from bridge.services.context import OPERATOR, Context
from tests.services.conftest import OWNER, adjust_balance, create_site, send_event
from tests.services.fakes import FakeClock, FakeQueue

SELLER = Party("Nettverket AS", "Storgata 1, 0155 Oslo", "NO 999 999 999 MVA")
MVA = Tax("MVA", "25", "exclusive")


def _commit(ctx: Context, selection: dict[str, object], site_id: int = 2) -> dict[str, object]:
    quote = quotes.create_quote(ctx, site_id, parse_selection(selection), OWNER)
    return dict(quotes.commit_quote(ctx, quote["id"], OWNER)["invoice"])


def _membership_id(ctx: Context, site_id: int = 2) -> int:
    from bridge.services import sites

    membership = sites.site_view(ctx, site_id)["membership"]
    assert membership is not None
    return int(membership["id"])


def test_a_paid_invoice_gets_a_numbered_receipt_with_seller_buyer_lines_and_tax(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(tax=MVA, seller=SELLER)
    create_site(ctx)
    mid = _membership_id(ctx)
    receipts.set_buyer(ctx, mid, Party(" Kari Nordmann ", "Lillegata 2\n5003 Bergen", ""))
    invoice = _commit(ctx, {"plan": "premium"})
    [receipt] = receipts.receipts_of_membership(ctx, mid)
    assert (receipt.kind, receipt.number, receipt.invoice_number) == (
        "receipt",
        1,
        invoice["number"],
    )
    assert receipt.seller == SELLER
    assert receipt.buyer == Party("Kari Nordmann", "Lillegata 2\n5003 Bergen", None)
    assert [(x.type, x.amount_minor, x.tax_minor) for x in receipt.lines] == [
        ("plan", 2900, 725),
        ("tax", 725, None),
    ]
    assert (receipt.total_minor, receipt.tax_minor, receipt.net_minor) == (3625, 725, 2900)
    assert (receipt.paid_minor, receipt.reference, receipt.paid_from_balance) == (
        3625,
        "test",
        False,
    )


def test_receipt_numbers_are_gapless_and_only_for_paid_invoices_above_zero(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    manual = make_ctx(gateway="manual")
    create_site(manual)
    create_site(manual, 3, 6)
    late = _commit(manual, {"plan": "premium"})  # waits for payment: no receipt yet
    paid = _commit(manual, {"plan": "premium"}, site_id=3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert receipts.receipts_between(manual, start, clock.advance(hours=1)) == []
    payments.pay_invoice(manual, str(paid["id"]), "BANK-1", OPERATOR)
    clock.advance(days=2)  # the other change invoice expired unpaid
    outcome = payments.pay_invoice(manual, str(late["id"]), "BANK-2", OPERATOR)
    assert outcome["status"] == "credited"  # money to the balance: a ledger entry, no receipt
    issued = receipts.receipts_between(manual, start, clock.advance(hours=1))
    assert [(r.number, r.reference) for r in issued] == [(1, "BANK-1")]


def test_a_renewal_paid_from_the_balance_says_so(ctx: Context, clock: FakeClock) -> None:
    create_site(ctx)
    _commit(ctx, {"plan": "premium"})
    adjust_balance(ctx, 2, "40.00", "goodwill", OPERATOR)
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    renewals.roll_over(ctx)
    renewal = receipts.receipts_of_membership(ctx, _membership_id(ctx))[0]
    assert (renewal.number, renewal.total_minor, renewal.balance_applied_minor) == (2, 2900, 2900)
    assert renewal.paid_minor == 0 and renewal.paid_from_balance


def test_a_change_that_only_adds_to_the_balance_gets_no_receipt(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(policy=Policy(downgrade="immediate"))
    create_site(ctx)
    _commit(ctx, {"plan": "premium"})
    clock.advance(days=10)
    _commit(ctx, {"plan": "free"})  # immediate: the unused Premium goes to the balance
    issued = receipts.receipts_of_membership(ctx, _membership_id(ctx))
    assert [r.total_minor for r in issued] == [2900]


def test_a_refund_makes_a_credit_note_split_at_the_receipts_rate(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx(tax=MVA, seller=SELLER)
    create_site(ctx)
    invoice = _commit(ctx, {"plan": "premium"})
    note = receipts.refund_invoice(ctx, str(invoice["id"]), 1000, "goodwill", "re_1", OPERATOR)
    assert (note.kind, note.number, note.receipt_number) == ("credit_note", 1, 1)
    # 10.00 of money holds 10.00 × 25 / 125 = 2.00 of tax
    assert (note.total_minor, note.tax_minor, note.net_minor) == (1000, 200, 800)
    second = receipts.refund_invoice(ctx, str(invoice["id"]), 2625, "rest", None, OPERATOR)
    assert (second.number, second.tax_minor) == (2, 525)
    with pytest.raises(Unprocessable) as too_much:
        receipts.refund_invoice(ctx, str(invoice["id"]), 1, "again", None, OPERATOR)
    assert too_much.value.code == "refund_too_large"
    with pytest.raises(NotFound):
        receipts.refund_invoice(ctx, "no-such-invoice", 100, "x", None, OPERATOR)


def test_receipts_outlive_their_site(ctx: Context) -> None:
    create_site(ctx)
    mid = _membership_id(ctx)
    _commit(ctx, {"plan": "premium"})
    send_event(ctx, "deleted-2", "site.deleted", {"site_id": 2})
    assert [r.number for r in receipts.receipts_of_membership(ctx, mid)] == [1]
    assert receipts.find_receipt(ctx, "receipt", 1).site_id == 2


def test_the_csv_export_escapes_cells_a_spreadsheet_would_run(
    make_ctx: Callable[..., Context], clock: FakeClock
) -> None:
    ctx = make_ctx(tax=MVA)
    create_site(ctx)
    receipts.set_buyer(ctx, _membership_id(ctx), Party("=HYPERLINK(1)", "", "+47 123"))
    invoice = _commit(ctx, {"plan": "premium"})
    receipts.refund_invoice(ctx, str(invoice["id"]), 500, "@refund", "-x", OPERATOR)
    text = receipts.receipts_csv(
        receipts.receipts_between(ctx, datetime(2026, 4, 1, tzinfo=UTC), clock.advance(days=1))
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["kind"], r["number"], r["total"], r["tax"], r["net"]) for r in rows] == [
        ("receipt", "1", "36.25", "7.25", "29.00"),
        ("credit_note", "1", "5.00", "1.00", "4.00"),
    ]
    assert rows[0]["buyer_name"] == "'=HYPERLINK(1)"
    assert rows[0]["buyer_tax_number"] == "'+47 123"
    assert (rows[1]["reason"], rows[1]["reference"]) == ("'@refund", "'-x")


def test_the_pushed_document_lists_receipts_without_a_second_version(
    ctx: Context, queue: FakeQueue
) -> None:
    create_site(ctx)
    invoice = _commit(ctx, {"plan": "premium"})
    with ctx.uow() as uow:
        state = uow.limits.get(2)
    assert state is not None and state.document is not None
    assert state.desired_version == 2 and queue.pushes[-1] == (2, 2)
    listed = state.document["membership"]["receipts"]
    assert [(r["kind"], r["number"], r["total"]) for r in listed] == [("receipt", 1, "29.00")]
    receipts.refund_invoice(ctx, str(invoice["id"]), 900, "goodwill", None, OPERATOR)
    with ctx.uow() as uow:
        state = uow.limits.get(2)
    assert state is not None and state.document is not None and state.desired_version == 3
    listed = state.document["membership"]["receipts"]
    assert [(r["kind"], r["number"]) for r in listed] == [("credit_note", 1), ("receipt", 1)]


def test_the_owner_gives_the_billing_address_of_their_sites_membership(ctx: Context) -> None:
    create_site(ctx)
    assert receipts.buyer_of_site(ctx, 2) is None
    receipts.set_buyer_of_site(ctx, 2, Party("Ola AS", "Kirkegata 3", "NO 987"))
    assert receipts.buyer_of_site(ctx, 2) == Party("Ola AS", "Kirkegata 3", "NO 987")
    _commit(ctx, {"plan": "premium"})
    [receipt] = receipts.receipts_of_membership(ctx, _membership_id(ctx))
    assert receipt.buyer == Party("Ola AS", "Kirkegata 3", "NO 987")
    with pytest.raises(NotFound):
        receipts.set_buyer_of_site(ctx, 99, Party("x"))


def test_a_receipt_issued_without_a_change_in_its_transaction_gets_a_new_version(
    make_ctx: Callable[..., Context],
) -> None:
    """How a payment path that applies nothing in the same transaction (a gateway's) calls it."""
    ctx = make_ctx(gateway="manual")
    create_site(ctx)
    invoice = _commit(ctx, {"plan": "premium"})
    with ctx.uow() as uow:
        before = uow.limits.get(2)
        paid = uow.invoices.mark_paid(str(invoice["id"]), ctx.now(), "gw-1")
        receipts.issue_receipt(ctx, uow, paid)
        uow.commit()
    with ctx.uow() as uow:
        after = uow.limits.get(2)
    assert before is not None and after is not None and after.document is not None
    assert after.desired_version == before.desired_version + 1
    assert [r["number"] for r in after.document["membership"]["receipts"]] == [1]
