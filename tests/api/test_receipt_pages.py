"""Receipts for owners and the operator (issue 17): the receipt page opened with a single-use
receipt token of its own key, in the owner's language; the console's list and its CSV export."""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bridge.app import build_app, runtime_of
from bridge.config import load_settings
from bridge.contract import mint_checkout_token, mint_receipt_token
from bridge.domain.membership import Selection
from bridge.domain.receipt import Party
from bridge.domain.tax import Tax
from bridge.services import catalog as catalogs
from bridge.services import quotes, receipts
from bridge.services.context import OPERATOR, SYSTEM, owner
from tests.api.conftest import ADMIN_TOKEN, SECRET
from tests.api.test_console_pages import signed_in
from tests.services.conftest import create_site

ROOT = Path(__file__).resolve().parents[2]
SELLER = Party("Nettverket AS", "Storgata 1\n0155 Oslo", "NO 999 999 999 MVA")


@pytest.fixture
def app(tmp_path: Path, api_template_db: Path) -> Iterator[Flask]:
    db = tmp_path / "bridge.db"
    shutil.copy(api_template_db, db)
    settings = load_settings(
        {"BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN, "BRIDGE_WEBHOOK_SECRET": SECRET}, ROOT / "config.yaml"
    )
    settings = replace(
        settings,
        database_url=f"sqlite:///{db}",
        queue=replace(settings.queue, path=str(tmp_path / "queue.db")),
        tax=Tax("MVA", "25", "exclusive"),
        seller=SELLER,
    )
    built = build_app(settings)
    ctx = runtime_of(built).ctx
    catalogs.start_up(ctx, SYSTEM)
    create_site(ctx)
    create_site(ctx, 3, 6)
    for site_id in (2, 3):
        quote = quotes.create_quote(ctx, site_id, Selection("premium"), owner(site_id, 5))
        quotes.commit_quote(ctx, quote["id"], owner(site_id, 5))
    yield built
    runtime_of(built).close()


def token(site_id: int = 2, number: int = 1, locale: str = "en_US", **extra: Any) -> str:
    payload = {
        "site_id": site_id,
        "user_id": 5,
        "locale": locale,
        "kind": "receipt",
        "number": number,
        "exp": int(time.time()) + 600,
        "jti": f"{site_id}-{number}-{locale}-{time.monotonic_ns()}",
        **extra,
    }
    return mint_receipt_token(SECRET, payload)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_receipt_token_opens_the_receipt_once(app: Flask) -> None:
    client = app.test_client()
    link = f"/checkout/receipts/open?token={token()}"
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = text_of(page.get_data(as_text=True))
    for words in (
        "Receipt 1",
        "For invoice 1",
        "Nettverket AS",
        "Tax number: NO 999 999 999 MVA",
        "Premium",
        "Total without tax $29.00",
        "MVA 25% $7.25",
        "Total $36.25",
        "Paid $36.25",
        "Payment reference: test",
    ):
        assert words in text, words
    again = client.get(link)
    assert again.status_code == 409
    assert "expired or was used already" in again.get_data(as_text=True)


def test_the_receipt_speaks_the_owners_language(app: Flask) -> None:
    page = app.test_client().get(f"/checkout/receipts/open?token={token(locale='nb_NO')}")
    text = text_of(page.get_data(as_text=True))
    assert "Kvittering 1" in text and "Sum uten avgift" in text and "MVA 25 %" in text
    assert "36,25" in text


def test_a_receipt_of_another_membership_or_a_checkout_token_opens_nothing(app: Flask) -> None:
    client = app.test_client()
    # site 3's own receipt is number 2: site 2 cannot open it
    assert client.get(f"/checkout/receipts/open?token={token(2, 2)}").status_code == 404
    checkout = mint_checkout_token(SECRET, {"site_id": 2, "user_id": 5, "exp": 1, "jti": "x"})
    assert client.get(f"/checkout/receipts/open?token={checkout}").status_code == 401
    other_key = token(2, 1, exp=int(time.time()) + 3600)  # lives longer than ten minutes
    assert client.get(f"/checkout/receipts/open?token={other_key}").status_code == 401


def test_a_credit_note_points_to_its_receipt(app: Flask) -> None:
    ctx = runtime_of(app).ctx
    invoice_id = receipts.find_receipt(ctx, "receipt", 1).invoice_id
    receipts.refund_invoice(ctx, invoice_id, 1000, "goodwill", "BANK-9", OPERATOR)
    page = app.test_client().get(
        f"/checkout/receipts/open?token={token(kind='credit_note', number=1)}"
    )
    text = text_of(page.get_data(as_text=True))
    for words in ("Credit note 1", "Refund of receipt 1", "Refunded $10.00", "$2.00"):
        assert words in text, words


def test_the_console_lists_a_periods_receipts_and_exports_them_as_csv(app: Flask) -> None:
    ctx = runtime_of(app).ctx
    invoice_id = receipts.find_receipt(ctx, "receipt", 1).invoice_id
    receipts.refund_invoice(ctx, invoice_id, 500, "=cmd|' /C calc'!A0", None, OPERATOR)
    client = signed_in(app)
    today = ctx.now().strftime("%Y-%m-%d")
    html = client.get(f"/admin/receipts?from={today}&to={today}").get_data(as_text=True)
    assert "Receipt 1" in html and "Receipt 2" in html and "Credit note 1" in html
    export = client.get(f"/admin/receipts.csv?from={today}&to={today}")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["kind"], r["number"], r["total"]) for r in rows] == [
        ("receipt", "1", "36.25"),
        ("receipt", "2", "36.25"),
        ("credit_note", "1", "5.00"),
    ]
    assert rows[2]["reason"] == "'=cmd|' /C calc'!A0"
    shown = client.get("/admin/receipts/receipt/1").get_data(as_text=True)
    assert "Receipt 1" in shown and "Nettverket AS" in shown
    detail = client.get("/admin/memberships/1").get_data(as_text=True)
    assert "/admin/receipts/credit_note/1" in detail and "/admin/receipts/receipt/1" in detail


def test_the_console_lists_the_notices_and_switches_them_on_and_off(app: Flask) -> None:
    from tests.api.test_console_pages import csrf

    client = signed_in(app)
    html = client.get("/admin/notices").get_data(as_text=True)
    assert 'value="payment_received" checked' in html
    listed = html[html.index('id="notices"') :]
    assert "payment_received-m" in listed and "change_applied-m" in listed
    assert "waiting" in listed  # the test app's pusher never reached a plugin
    kept = ["change_applied", "refund_issued", "past_due"]
    answer = client.post(
        "/admin/notices",
        data={"csrf": csrf(client, "/admin/notices"), "on": kept, "reason": "too many mails"},
    )
    assert answer.status_code == 303
    html = client.get("/admin/notices?saved=1").get_data(as_text=True)
    assert 'value="payment_received">' in html and 'value="past_due" checked' in html
    assert "notices.switch" in client.get("/admin/audit").get_data(as_text=True)


def test_switching_notices_needs_a_reason(app: Flask) -> None:
    from tests.api.test_console_pages import csrf

    client = signed_in(app)
    answer = client.post(
        "/admin/notices", data={"csrf": csrf(client, "/admin/notices"), "on": ["past_due"]}
    )
    assert answer.status_code == 400
