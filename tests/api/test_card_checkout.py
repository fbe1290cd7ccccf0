"""The card gateway through the real app: the Pay page and its calls, Stripe's webhook route, the
operator's refund endpoint; localstripe stands in for Stripe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.app import runtime_of
from tests.support.bridge_app import AUTH, bridge_app, json_error, seed_site, start_checkout
from tests.support.localstripe import (
    CARD_DECLINED_ON_CHARGE,
    CARD_OK,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    event_of,
    running_localstripe,
    signed_event,
)


@pytest.fixture(scope="module")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as server:
        yield server


@pytest.fixture
def client(tmp_path: Path, stripe_server: LocalStripe) -> Iterator[FlaskClient]:
    with bridge_app(
        tmp_path,
        BRIDGE_GATEWAY="stripe",
        BRIDGE_STRIPE_API_BASE=stripe_server.base,
        BRIDGE_STRIPE_JS_URL=stripe_server.js_url,
        BRIDGE_STRIPE_SECRET_KEY=SECRET_KEY,
        BRIDGE_STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
        BRIDGE_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    ) as (app, _pusher, _clock):
        yield app.test_client()


def _pending_premium(client: FlaskClient, site_id: int = 2) -> dict[str, Any]:
    seed_site(client, site_id)
    quote = client.post(f"/api/v1/sites/{site_id}/quotes", json={"plan": "premium"}, headers=AUTH)
    committed = client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=AUTH)
    assert committed.get_json()["status"] == "pending_payment"
    return dict(committed.get_json()["invoice"])


def _pay_with_new_card(
    client: FlaskClient, stripe: LocalStripe, csrf: str, invoice_id: str, number: str
) -> dict[str, Any]:
    base = f"/checkout/sites/2/pay/{invoice_id}"
    setup = client.post(
        f"{base}/setup", data={"csrf": csrf}, headers={"Accept": "application/json"}
    )
    assert setup.status_code == 200, setup.data
    secret = setup.get_json()["client_secret"]
    confirmed = stripe.confirmed_setup(setup.get_json()["setup_id"], secret, number)
    assert confirmed["status"] == "succeeded"
    paid = client.post(
        f"{base}/card",
        data={"csrf": csrf, "setup_id": confirmed["id"]},
        headers={"Accept": "application/json"},
    )
    return dict(paid.get_json())


def test_the_pay_page_loads_stripe_js_from_exactly_its_configured_origin(
    client: FlaskClient, stripe_server: LocalStripe
) -> None:
    invoice = _pending_premium(client)
    start_checkout(client, 2)
    page = client.get(f"/checkout/sites/2/pay/{invoice['id']}")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_server.base};" in csp
    assert f"frame-src {stripe_server.base};" in csp
    assert "frame-ancestors 'none'" in csp
    html = page.get_data(as_text=True)
    assert f'<script src="{stripe_server.js_url}"></script>' in html
    assert "$29.00" in html


def test_a_declined_card_then_a_good_one_pays_the_change_through_the_checkout(
    client: FlaskClient, stripe_server: LocalStripe
) -> None:
    invoice = _pending_premium(client)
    csrf = start_checkout(client, 2)
    declined = _pay_with_new_card(
        client, stripe_server, csrf, invoice["id"], CARD_DECLINED_ON_CHARGE
    )
    assert (declined["status"], declined["message"]) == ("declined", "Your card was declined.")
    page = client.get(f"/checkout/sites/2/pay/{invoice['id']}").get_data(as_text=True)
    assert "Your card was declined." in page  # the reason stays on the page for the retry
    paid = _pay_with_new_card(client, stripe_server, csrf, invoice["id"], CARD_OK)
    assert paid["status"] == "paid" and "/checkout/sites/2/done" in paid["next"]
    site = client.get("/api/v1/sites/2", headers=AUTH).get_json()
    assert site["membership"]["plan"]["id"] == "premium"


def test_a_payment_of_another_sites_invoice_is_not_found(
    client: FlaskClient, stripe_server: LocalStripe
) -> None:
    invoice = _pending_premium(client, site_id=3)
    seed_site(client, 2)
    csrf = start_checkout(client, 2)
    answer = client.post(
        f"/checkout/sites/2/pay/{invoice['id']}/charge",
        data={"csrf": csrf},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 404


def test_stripe_webhooks_are_checked_deduplicated_and_applied(
    client: FlaskClient, stripe_server: LocalStripe
) -> None:
    invoice = _pending_premium(client)
    csrf = start_checkout(client, 2)
    paid = _pay_with_new_card(client, stripe_server, csrf, invoice["id"], CARD_OK)
    assert paid["status"] == "paid"
    intent_id = client.get(f"/api/v1/invoices/{invoice['id']}", headers=AUTH).get_json()[
        "reference"
    ]
    event = event_of(
        "charge.dispute.created",
        {
            "id": "dp_api_1",
            "charge": "ch_x",
            "payment_intent": intent_id,
            "amount": 2900,
            "currency": "usd",
            "reason": "fraudulent",
            "status": "needs_response",
        },
        "evt_api_dispute",
    )
    body, signature = signed_event(event)
    bad = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": "t=1,v1=00"})
    assert bad.status_code == 401 and json_error(bad)["code"] == "invalid_signature"
    for _ in range(2):
        answer = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature})
        assert answer.status_code == 200
    ctx = runtime_of(client.application).ctx
    with ctx.uow() as uow:
        disputes, total = uow.cards.disputes(0, 10)
    assert total == 1 and disputes[0].invoice_id == invoice["id"]
    console = client.get("/api/v1/sites/2/ledger", headers=AUTH)
    assert console.status_code == 200


def test_the_operator_refunds_part_of_a_card_invoice_and_the_ledger_shows_it(
    client: FlaskClient, stripe_server: LocalStripe
) -> None:
    invoice = _pending_premium(client)
    csrf = start_checkout(client, 2)
    assert (
        _pay_with_new_card(client, stripe_server, csrf, invoice["id"], CARD_OK)["status"] == "paid"
    )
    refund = client.post(
        f"/api/v1/invoices/{invoice['id']}/refunds",
        data=json.dumps({"amount": "5.00", "reason": "goodwill"}),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert refund.status_code == 201, refund.data
    assert refund.get_json()["refunded_minor"] == 500
    ledger = client.get("/api/v1/sites/2/ledger", headers=AUTH).get_json()
    assert [e["amount"] for e in ledger["entries"] if e["kind"] == "card_refund"] == ["-5.00"]
    too_much = client.post(
        f"/api/v1/invoices/{invoice['id']}/refunds",
        data=json.dumps({"amount": "25.00"}),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert too_much.status_code == 422 and json_error(too_much)["code"] == "refund_too_large"


def test_with_stripes_own_stripe_js_the_policy_names_stripes_origins(tmp_path: Path) -> None:
    # Stripe itself is never called here: showing the Pay page reads the database only.
    with bridge_app(
        tmp_path,
        BRIDGE_GATEWAY="stripe",
        BRIDGE_STRIPE_SECRET_KEY=SECRET_KEY,
        BRIDGE_STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
        BRIDGE_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    ) as (app, _pusher, _clock):
        client = app.test_client()
        invoice = _pending_premium(client)
        start_checkout(client, 2)
        policy = client.get(f"/checkout/sites/2/pay/{invoice['id']}").headers[
            "Content-Security-Policy"
        ]
    assert "script-src 'self' https://js.stripe.com;" in policy
    assert "frame-src https://js.stripe.com https://hooks.stripe.com;" in policy
    assert "connect-src 'self' https://js.stripe.com https://api.stripe.com;" in policy
