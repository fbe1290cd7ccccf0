"""The JSON API through the Flask test client: every endpoint and its errors."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.api.openapi import spec
from tests.api.conftest import add_site, as_owner, error_of, operator
from tests.services.fakes import FakeClock


def test_reading_a_site_needs_credentials(api_client: FlaskClient) -> None:
    assert error_of(api_client.get("/api/v1/sites/2")) == (401, "unauthorized")
    bad = {"Authorization": "Bearer nope"}
    assert error_of(api_client.get("/api/v1/sites/2", headers=bad)) == (401, "invalid_token")


def test_the_operator_reads_a_site_its_membership_and_limits_versions(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    body = api_client.get("/api/v1/sites/2", headers=operator()).get_json()
    assert body["site"]["id"] == 2
    assert body["membership"]["plan"]["id"] == "free"
    assert (body["limits"]["desired_version"], body["limits"]["applied_version"]) == (1, 0)


def test_an_unknown_site_is_404(api_client: FlaskClient) -> None:
    assert error_of(api_client.get("/api/v1/sites/99", headers=operator())) == (
        404,
        "site_not_found",
    )


def test_a_checkout_token_is_no_api_bearer_even_for_its_own_site(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app, 2, 5)
    for path in ("/api/v1/sites/2", "/api/v1/sites/2/options", "/api/v1/sites/2/ledger"):
        assert error_of(api_client.get(path, headers=as_owner(2))) == (401, "invalid_token")
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=as_owner(2))
    assert error_of(quote) == (401, "invalid_token")


def test_an_expired_checkout_token_is_refused(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    response = api_client.get("/api/v1/sites/2", headers=as_owner(2, exp=1_000))
    assert error_of(response) == (401, "invalid_token")


def test_options_list_the_family_and_explain_a_product(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    body = api_client.get("/api/v1/sites/2/options?product=basic", headers=operator()).get_json()
    assert [(p["id"], p["current"]) for p in body["plans"]] == [("free", True), ("premium", False)]
    assert all({"kind", "timing", "price"} <= set(a) for a in body["addons"])
    assert body["explanation"]["code"] == "other_group"


def test_quote_then_commit_applies_the_upgrade(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=operator())
    assert quote.status_code == 201
    body = quote.get_json()
    assert {"id", "expires_at", "due_now", "lines", "next_billing"} <= set(body)
    commit = api_client.post(f"/api/v1/quotes/{body['id']}/commit", headers=operator())
    assert commit.status_code == 200
    assert commit.get_json()["status"] == "applied"
    site = api_client.get("/api/v1/sites/2", headers=operator()).get_json()
    assert site["membership"]["plan"]["id"] == "premium"
    assert site["limits"]["desired_version"] == 2


def test_a_malformed_selection_is_400_and_an_ineligible_one_422(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    headers = operator()
    assert error_of(api_client.post("/api/v1/sites/2/quotes", data="{", headers=headers))[0] == 400
    assert error_of(
        api_client.post("/api/v1/sites/2/quotes", json={"plan": 5}, headers=headers)
    ) == (
        400,
        "invalid_selection",
    )
    refused = api_client.post("/api/v1/sites/2/quotes", json={"plan": "basic"}, headers=headers)
    assert error_of(refused) == (422, "other_group")


def test_committing_a_stale_or_expired_quote_is_409(
    api_app: Flask, api_client: FlaskClient, api_clock: FakeClock
) -> None:
    add_site(api_app)
    headers = operator()
    first = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=headers)
    second = api_client.post(
        "/api/v1/sites/2/quotes",
        json={"plan": "free", "addons": {"extra-disk": 1}},
        headers=headers,
    )
    api_client.post(f"/api/v1/quotes/{first.get_json()['id']}/commit", headers=headers)
    stale = api_client.post(f"/api/v1/quotes/{second.get_json()['id']}/commit", headers=headers)
    assert error_of(stale) == (409, "stale_quote")
    third = api_client.post("/api/v1/sites/2/quotes", json={"plan": "free"}, headers=headers)
    api_clock.advance(seconds=901)
    expired = api_client.post(f"/api/v1/quotes/{third.get_json()['id']}/commit", headers=headers)
    assert error_of(expired) == (409, "quote_expired")


def test_a_commit_sent_again_after_it_went_through_answers_already_committed_with_its_invoice(
    api_app: Flask, api_client: FlaskClient
) -> None:
    """A client that lost the answer to a commit retries it: 409 `already_committed` names the
    invoice the first commit made, and nothing is charged or applied a second time."""
    add_site(api_app)
    headers = operator()
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=headers)
    url = f"/api/v1/quotes/{quote.get_json()['id']}/commit"
    first = api_client.post(url, headers=headers)
    assert first.status_code == 200
    again = api_client.post(url, headers=headers)
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "already_committed"
    assert error["invoice_id"] == first.get_json()["invoice"]["id"]
    assert error["invoice_number"] == first.get_json()["invoice"]["number"]
    assert str(first.get_json()["invoice"]["number"]) in error["message"]
    ledger = api_client.get("/api/v1/sites/2/ledger", headers=headers).get_json()
    site = api_client.get("/api/v1/sites/2", headers=headers).get_json()
    assert site["membership"]["plan"]["id"] == "premium"
    assert len([e for e in ledger["entries"] if e["kind"] == "change"]) <= 1


def test_committing_no_change_is_422(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "free"}, headers=operator())
    commit = api_client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=operator())
    assert error_of(commit) == (422, "no_change")


def test_committing_an_unknown_quote_is_404(api_client: FlaskClient) -> None:
    assert error_of(api_client.post("/api/v1/quotes/nope/commit", headers=operator())) == (
        404,
        "quote_not_found",
    )


@pytest.mark.parametrize("api_gateway", ["manual"])
def test_with_the_manual_gateway_the_operator_pays_and_a_second_commit_waits(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    headers = operator()
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=headers)
    commit = api_client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=headers)
    assert commit.get_json()["status"] == "pending_payment"
    invoice_id = commit.get_json()["invoice"]["id"]
    other = api_client.post(
        "/api/v1/sites/2/quotes",
        json={"plan": "free", "addons": {"extra-disk": 1}},
        headers=headers,
    )
    blocked = api_client.post(f"/api/v1/quotes/{other.get_json()['id']}/commit", headers=headers)
    assert error_of(blocked)[0] == 409
    paid = api_client.post(
        f"/api/v1/invoices/{invoice_id}/pay", json={"reference": "bank-1"}, headers=operator()
    )
    assert paid.get_json()["status"] == "paid"
    assert (
        api_client.get(f"/api/v1/invoices/{invoice_id}", headers=headers).get_json()["status"]
        == "paid"
    )
    site = api_client.get("/api/v1/sites/2", headers=operator()).get_json()
    assert site["membership"]["plan"]["id"] == "premium"


def test_paying_an_unknown_invoice_is_404(api_client: FlaskClient) -> None:
    assert error_of(api_client.post("/api/v1/invoices/nope/pay", headers=operator())) == (
        404,
        "invoice_not_found",
    )


def test_the_operator_cancels_a_scheduled_change(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    headers = operator()
    for plan in ("premium", "free"):
        quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": plan}, headers=headers)
        api_client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=headers)
    response = api_client.delete("/api/v1/sites/2/scheduled-change", headers=headers)
    assert response.get_json()["cancelled"] is True
    assert response.get_json()["membership"]["scheduled_change"] is None


def test_the_operator_puts_a_site_on_a_plan(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    response = api_client.put(
        "/api/v1/sites/2/membership", json={"plan": "basic"}, headers=operator()
    )
    assert response.get_json()["membership"]["plan"]["id"] == "basic"
    assert error_of(
        api_client.put("/api/v1/sites/2/membership", json={"plan": "basic"}, headers=as_owner(2))
    ) == (401, "invalid_token")
    assert error_of(
        api_client.put("/api/v1/sites/2/membership", json={"plan": "gold"}, headers=operator())
    ) == (422, "unknown_product")


def test_the_operator_overrides_limits(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    response = api_client.put(
        "/api/v1/sites/2/overrides", json={"limits": {"posts": {"post": 20}}}, headers=operator()
    )
    assert response.get_json()["limits"]["limits"]["posts"]["post"] == 20
    bad = api_client.put("/api/v1/sites/2/overrides", json={"limits": {"x": 1}}, headers=operator())
    assert error_of(bad) == (400, "invalid_limits")


def test_cancellation_at_end_of_term_and_immediately_by_the_operator(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    owner = operator()
    quote = api_client.post("/api/v1/sites/2/quotes", json={"plan": "premium"}, headers=owner)
    api_client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=owner)
    later = api_client.post(
        "/api/v1/sites/2/cancellation", json={"mode": "end_of_term"}, headers=owner
    )
    assert later.get_json()["membership"]["scheduled_change"]["cancels"] is True
    done = api_client.post(
        "/api/v1/sites/2/cancellation", json={"mode": "immediate"}, headers=operator()
    )
    assert done.get_json()["membership"]["plan"]["id"] == "free"
    assert done.get_json()["membership"]["balance"] == "29.00"
    bad = api_client.post("/api/v1/sites/2/cancellation", json={"mode": "soon"}, headers=operator())
    assert error_of(bad)[0] == 400


def test_balance_adjustments_and_refunds_are_operator_ledger_entries(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    added = api_client.post(
        "/api/v1/sites/2/balance-adjustments",
        json={"amount": "12.50", "reason": "outage"},
        headers=operator(),
    )
    assert (added.status_code, added.get_json()["balance"]) == (201, "12.50")
    refund = api_client.post(
        "/api/v1/sites/2/refunds", json={"amount": "2.50", "reason": "bank"}, headers=operator()
    )
    assert refund.get_json()["balance"] == "10.00"
    too_much = api_client.post(
        "/api/v1/sites/2/refunds", json={"amount": "99.00", "reason": "x"}, headers=operator()
    )
    assert error_of(too_much) == (422, "insufficient_balance")
    no_reason = api_client.post(
        "/api/v1/sites/2/balance-adjustments", json={"amount": "1.00"}, headers=operator()
    )
    assert error_of(no_reason)[0] == 400
    as_site_owner = api_client.post(
        "/api/v1/sites/2/refunds", json={"amount": "1.00", "reason": "x"}, headers=as_owner(2)
    )
    assert error_of(as_site_owner) == (401, "invalid_token")
    ledger = api_client.get("/api/v1/sites/2/ledger", headers=operator()).get_json()
    assert [e["kind"] for e in ledger["entries"]] == ["adjustment", "refund"]


def test_the_limits_document_and_a_roll_over_for_the_operator(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    limits = api_client.get("/api/v1/sites/2/limits", headers=operator()).get_json()
    assert limits["document"]["limits"]["posts"] == {"page": 3, "post": 5}
    rolled = api_client.post("/api/v1/roll-over", headers=operator())
    assert rolled.status_code == 200
    assert error_of(api_client.post("/api/v1/roll-over", headers=as_owner(2))) == (
        401,
        "invalid_token",
    )


def test_unknown_paths_and_methods_answer_json(api_client: FlaskClient) -> None:
    assert error_of(api_client.get("/api/v1/nothing"))[0] == 404
    assert error_of(api_client.patch("/api/v1/sites/2", headers=operator()))[0] == 405


def test_an_oversized_body_is_413(api_app: Flask, api_client: FlaskClient) -> None:
    add_site(api_app)
    big = "x" * (300 * 1024)
    response = api_client.post(
        "/api/v1/sites/2/quotes", data=big, content_type="application/json", headers=operator()
    )
    assert error_of(response)[0] == 413


def test_every_api_route_is_in_the_openapi_document(
    api_app: Flask, api_client: FlaskClient
) -> None:
    document = api_client.get("/openapi.json").get_json()
    assert document == spec()
    assert document["openapi"].startswith("3.1")
    for rule in api_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (method, path)


def test_the_checkout_session_cookie_is_never_an_api_credential(
    api_app: Flask, api_client: FlaskClient
) -> None:
    from bridge.api.checkout import register
    from bridge.api.checkout.session import COOKIE_NAME
    from bridge.contract import mint_checkout_token
    from tests.api.conftest import SECRET

    register(api_app)
    add_site(api_app)
    token = mint_checkout_token(
        SECRET,
        {
            "site_id": 2,
            "user_id": 5,
            "exp": 1_900_000_000,
            "jti": "b" * 32,
            "intent": "change",
            "return_url": "http://net.example/site2/wp-admin/admin.php?page=plan-bridge",
        },
    )
    started = api_client.get("/checkout/start", query_string={"token": token})
    assert started.status_code in (302, 303)
    assert api_client.get_cookie(COOKIE_NAME) is not None
    # A form posted from a sibling subdomain carries the cookie and an empty body.
    cancel = api_client.post("/api/v1/sites/2/cancellation", data="")
    assert error_of(cancel) == (401, "unauthorized")
    assert error_of(api_client.get("/api/v1/sites/2")) == (401, "unauthorized")
    site = api_client.get("/api/v1/sites/2", headers=operator()).get_json()
    assert site["membership"]["scheduled_change"] is None


def test_a_checkout_token_is_exchanged_once_at_start(
    api_app: Flask, api_client: FlaskClient
) -> None:
    from bridge.api.checkout import register
    from bridge.contract import mint_checkout_token
    from tests.api.conftest import SECRET

    register(api_app)
    add_site(api_app)
    token = mint_checkout_token(
        SECRET,
        {
            "site_id": 2,
            "user_id": 5,
            "exp": 1_900_000_000,
            "jti": "c" * 32,
            "intent": "change",
            "return_url": "http://net.example/site2/wp-admin/admin.php?page=plan-bridge",
        },
    )
    query = {"token": token}
    assert api_client.get("/checkout/start", query_string=query).status_code in (302, 303)
    again = api_client.get("/checkout/start", query_string=query)
    assert again.status_code in (400, 401, 403, 409)


def test_putting_a_site_on_a_billing_its_plan_does_not_offer_is_a_clear_error_not_a_500(
    api_app: Flask, api_client: FlaskClient
) -> None:
    add_site(api_app)
    weekly = {"plan": "premium", "billing": {"every": 1, "unit": "week"}}
    assert error_of(
        api_client.put("/api/v1/sites/2/membership", json=weekly, headers=operator())
    ) == (400, "invalid_request")
    priced = {**weekly, "price": "7.00"}  # agreed terms the catalog does not list: an import
    response = api_client.put("/api/v1/sites/2/membership", json=priced, headers=operator())
    assert response.status_code == 200, response.get_json()
    membership = response.get_json()["membership"]
    assert (membership["billing"], membership["price"]) == ({"every": 1, "unit": "week"}, "7.00")
