"""The operator's JSON API for receipts and credit notes (issue 17)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import add_site, error_of, operator


def _paid_invoice(api_client: FlaskClient) -> dict[str, object]:
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=operator())
    commit = api_client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=operator())
    return dict(commit.get_json()["invoice"])


def test_a_paid_invoice_has_a_receipt_listed_by_period(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    invoice = _paid_invoice(api_client)
    listed = api_client.get(
        "/api/v1/receipts?from=2026-04-01&to=2026-04-30", headers=operator()
    ).get_json()["receipts"]
    assert [(r["kind"], r["number"], r["invoice_number"], r["total"]) for r in listed] == [
        ("receipt", 1, invoice["number"], "29.00")
    ]
    assert listed[0]["tax"] is None and listed[0]["paid"] == "29.00"
    one = api_client.get("/api/v1/receipts/receipt/1", headers=operator())
    assert one.status_code == 200 and one.get_json() == listed[0]
    assert api_client.get(
        "/api/v1/receipts?from=2026-05-01&to=2026-05-31", headers=operator()
    ).get_json() == {"receipts": []}


def test_a_credit_note_is_recorded_for_money_paid_back(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    invoice = _paid_invoice(api_client)
    path = f"/api/v1/invoices/{invoice['id']}/credit-notes"
    note = api_client.post(
        path,
        json={"amount": "9.00", "reason": "goodwill", "reference": "BANK-7"},
        headers=operator(),
    )
    assert note.status_code == 201
    body = note.get_json()
    assert (body["kind"], body["number"], body["receipt_number"], body["total"]) == (
        "credit_note",
        1,
        1,
        "9.00",
    )
    too_much = api_client.post(path, json={"amount": "20.01", "reason": "x"}, headers=operator())
    assert error_of(too_much) == (422, "refund_too_large")
    assert error_of(api_client.post(path, json={"amount": "1.00"}, headers=operator()))[0] == 400


def test_billing_details_and_bad_periods_and_documents(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    saved = api_client.put(
        "/api/v1/sites/2/billing-details",
        json={"name": "Siti Sdn Bhd", "address": "Jalan 1", "tax_number": None},
        headers=operator(),
    )
    assert saved.get_json() == {
        "name": "Siti Sdn Bhd",
        "address": "Jalan 1",
        "tax_number": None,
        "email": None,
    }
    _paid_invoice(api_client)
    receipt = api_client.get("/api/v1/receipts/receipt/1", headers=operator()).get_json()
    assert receipt["buyer"]["name"] == "Siti Sdn Bhd"
    for query in ("from=yesterday", "to=9999-12-31", "from=2026-05-02&to=2026-05-01"):
        assert error_of(api_client.get(f"/api/v1/receipts?{query}", headers=operator()))[0] == 400
    assert error_of(api_client.get("/api/v1/receipts/invoice/1", headers=operator()))[0] == 404
    assert error_of(api_client.get("/api/v1/receipts/receipt/9", headers=operator()))[0] == 404
    nameless = api_client.put(
        "/api/v1/sites/2/billing-details", json={"name": ""}, headers=operator()
    )
    assert error_of(nameless)[0] == 400
    assert error_of(api_client.get("/api/v1/receipts"))[0] == 401
