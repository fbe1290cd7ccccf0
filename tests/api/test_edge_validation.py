"""Input the database or the parser cannot take is refused at the edge with a code and a sentence.

Every case here answered 500 before (issue 10): ids beyond 64 bits, JSON nested 100,000 deep,
amounts like 1e309, strings longer than their columns, a token's `exp` out of range, made-up
checkout form values, a 400-digit `until`. The app is the real one on SQLite with a recording
pusher; tests/integration/storage/test_edge_lengths.py runs the column cases on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.bridge_app import (
    AUTH,
    bridge_app,
    checkout_token,
    json_error,
    post_event,
    post_raw_event,
    seed_site,
    site_created_data,
    start_checkout,
)

BEYOND_64_BITS = 2**63
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    with bridge_app(tmp_path) as (app, _pusher, _clock):
        test_client = app.test_client()
        seed_site(test_client, 2)
        yield test_client


def refused(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.data
    error = json_error(response)
    assert error["code"] == code, error
    return str(error["message"])


def test_metrics_label_a_made_up_method_as_other(client: FlaskClient) -> None:
    for n in range(3):
        client.open("/healthz", method=f"BOGUS{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'method="BOGUS' not in text
    assert 'bridge_http_requests_total{method="other",route="unmatched",status="405"} 3.0' in text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/sites/{BEYOND_64_BITS}"),
        ("GET", f"/api/v1/sites/{BEYOND_64_BITS}/options"),
        ("GET", f"/api/v1/sites/{'9' * 5000}/ledger"),
        ("PUT", f"/api/v1/sites/{BEYOND_64_BITS}/membership"),
        ("POST", f"/api/v1/sites/{BEYOND_64_BITS}/quotes"),
        ("GET", "/api/v1/invoices/" + "x" * 1000),
        ("POST", "/api/v1/quotes/a%00b/commit"),
    ],
)
def test_an_id_the_database_cannot_hold_is_not_found(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method, headers=AUTH, json={"plan": "premium"})
    refused(response, 404, "not_found")


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [
        ("site.created", site_created_data(BEYOND_64_BITS), "'site_id'"),
        ("site.created", site_created_data(3, owner={"user_id": BEYOND_64_BITS}), "owner.user_id"),
        ("site.deleted", {"site_id": BEYOND_64_BITS}, "'site_id'"),
        ("usage.reported", {"site_id": BEYOND_64_BITS, "usage": {}}, "'site_id'"),
        ("limits.applied", {"site_id": 2, "version": 2**31}, "'version'"),
        ("site.created", site_created_data(-1), "'site_id'"),
    ],
)
def test_webhook_ids_beyond_their_columns_are_malformed_events(
    client: FlaskClient, event_type: str, data: Any, field: str
) -> None:
    message = refused(post_event(client, event_type, data), 400, "malformed_event")
    assert field in message


def test_json_nested_100000_deep_is_refused_not_a_recursion_error(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/sites/2/quotes", headers=AUTH, data=DEEP, content_type="application/json"
    )
    assert "deeper than 32" in refused(response, 400, "invalid_json")
    webhook = post_raw_event(client, '{"type": "site.deleted", "data": ' + DEEP + "}")
    refused(webhook, 400, "malformed_json")


def test_json_33_levels_deep_is_refused_and_strings_must_be_unicode(client: FlaskClient) -> None:
    body = '{"plan": ' + "[" * 33 + "]" * 33 + "}"
    response = client.post(
        "/api/v1/sites/2/quotes", headers=AUTH, data=body, content_type="application/json"
    )
    refused(response, 400, "invalid_json")
    for text in ('"\\ud800"', '"a\\u0000b"'):
        response = client.post(
            "/api/v1/sites/2/balance-adjustments",
            headers=AUTH,
            data='{"amount": "1.00", "reason": ' + text + "}",
            content_type="application/json",
        )
        refused(response, 400, "invalid_json")


@pytest.mark.parametrize("amount", ["1e309", "9" * 30, 1e308, "1e999999999999", "1" * 40])
@pytest.mark.parametrize("path", ["balance-adjustments", "refunds"])
def test_absurd_amounts_are_invalid_amounts(client: FlaskClient, path: str, amount: Any) -> None:
    response = client.post(
        f"/api/v1/sites/2/{path}", headers=AUTH, json={"amount": amount, "reason": "fuzz"}
    )
    assert "amount" in refused(response, 400, "invalid_amount")


@pytest.mark.parametrize("field", ["price", "balance"])
def test_absurd_membership_amounts_are_invalid_amounts(client: FlaskClient, field: str) -> None:
    body = {"plan": "premium", field: "9" * 30}
    response = client.put("/api/v1/sites/2/membership", headers=AUTH, json=body)
    assert field in refused(response, 400, "invalid_amount")


def test_an_anchor_at_the_end_of_time_is_refused(client: FlaskClient) -> None:
    body = {"plan": "premium", "anchor": "9999-12-31T23:59:59Z"}
    response = client.put("/api/v1/sites/2/membership", headers=AUTH, json=body)
    assert "anchor" in refused(response, 400, "invalid_request")


def test_an_invoice_paid_for_an_absurd_amount_is_malformed(client: FlaskClient) -> None:
    data = {"invoice_id": "x", "amount": "1e309", "currency": "USD"}
    assert "amount" in refused(post_event(client, "invoice.paid", data), 400, "malformed_event")
    data = {"invoice_id": "x", "amount": "1.00", "currency": "USD", "reference": "r" * 201}
    assert "reference" in refused(post_event(client, "invoice.paid", data), 400, "malformed_event")


def test_a_blog_name_longer_than_its_column_is_kept_cut_to_500(client: FlaskClient) -> None:
    response = post_event(client, "site.created", site_created_data(3, name="N" * 600))
    assert response.status_code == 204, response.data
    site = client.get("/api/v1/sites/3", headers=AUTH).get_json()
    assert site["site"]["name"] == "N" * 500
    assert site["membership"] is not None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "http://127.0.0.1/" + "u" * 2048}, "'url'"),
        ({"url": "javascript:alert(1)"}, "'url'"),
        ({"timezone": "Not/AZone"}, "'timezone'"),
        ({"timezone": "Europe/" + "x" * 100}, "'timezone'"),
        ({"timezone": "../../etc/passwd"}, "'timezone'"),
        ({"owner": {"user_id": 7, "locale": "x" * 40}}, "'owner.locale'"),
        ({"owner": {"user_id": 7, "locale": "en US; DROP"}}, "'owner.locale'"),
        ({"owner": {"user_id": 7, "email": "e" * 321}}, "'owner.email'"),
    ],
)
def test_site_fields_that_cannot_be_stored_whole_are_refused_naming_the_field(
    client: FlaskClient, overrides: dict[str, Any], field: str
) -> None:
    response = post_event(client, "site.created", site_created_data(4, **overrides))
    assert field in refused(response, 400, "malformed_event")
    body = {"plan": "premium", "site": site_created_data(4, **overrides)}
    response = client.put("/api/v1/sites/4/membership", headers=AUTH, json=body)
    assert field in refused(response, 400, "malformed_event")


@pytest.mark.parametrize("timezone", ["UTC", "UTC+2", "UTC-5.5", "Asia/Kolkata"])
def test_wordpress_time_zones_are_accepted(client: FlaskClient, timezone: str) -> None:
    response = post_event(client, "site.created", site_created_data(5, timezone=timezone))
    assert response.status_code == 204, response.data


def test_an_event_type_longer_than_its_column_is_malformed(client: FlaskClient) -> None:
    assert "'type'" in refused(post_event(client, "x" * 101, {}), 400, "malformed_event")


def test_a_payment_reference_longer_than_its_column_is_refused(client: FlaskClient) -> None:
    response = client.post("/api/v1/invoices/abc/pay", headers=AUTH, json={"reference": "r" * 201})
    assert "reference" in refused(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "payload",
    [
        {"exp": 10**30},
        {"exp": -1},
        {"site_id": BEYOND_64_BITS},
        {"user_id": BEYOND_64_BITS},
        {"jti": "j" * 65},
    ],
)
def test_a_token_field_out_of_range_is_an_invalid_token(
    client: FlaskClient, payload: dict[str, Any]
) -> None:
    token = checkout_token(**{"site_id": 2, "user_id": 102, **payload})
    page = client.get("/checkout/start", query_string={"token": token})
    assert page.status_code == 401
    assert page.mimetype == "text/html"
    assert "This checkout link is not valid." in page.get_data(as_text=True)
    api = client.get("/api/v1/sites/2", headers={"Authorization": f"Bearer {token}"})
    refused(api, 401, "invalid_token")


def _html_problem(response: Any, status: int) -> str:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "text/html"
    return str(response.get_data(as_text=True))


def test_a_made_up_billing_choice_is_a_page_saying_so(client: FlaskClient) -> None:
    csrf = start_checkout(client, 2)
    for path in ("/checkout/sites/2", "/checkout/sites/2/summary"):
        response = client.post(path, data={"csrf": csrf, "choice": "premium:bogus"})
        assert "This choice is not available." in _html_problem(response, 400)


@pytest.mark.parametrize("quantity", ["1e309", "-2", "1.5", "9" * 400, "1000", "x"])
def test_a_quantity_no_page_offers_is_shown_back_with_a_message(
    client: FlaskClient, quantity: str
) -> None:
    csrf = start_checkout(client, 2)
    form = {
        "csrf": csrf,
        "choice": "premium:1-month",
        "addons-for": "premium",
        "addon-extra-disk": quantity,
    }
    response = client.post("/checkout/sites/2", data=form)
    assert response.status_code < 500 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Enter a whole number from 0 to 999." in html
    assert 'aria-invalid="true"' in html
