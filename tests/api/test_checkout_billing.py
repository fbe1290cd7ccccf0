"""The owner's billing address for receipts: asked once beside Confirm, then editable."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.test_checkout_pages import (
    CATALOG,
    FakeBridge,
    _app,
    _csrf,
    _field,
    _membership,
    _page,
    _text,
)


@pytest.fixture
def fake() -> FakeBridge:
    bridge = FakeBridge(CATALOG)
    bridge.memberships[2] = _membership("free", "0.00", 3, 2)
    return bridge


@pytest.fixture
def client(fake: FakeBridge) -> FlaskClient:
    return _app(fake).test_client()


def _shown(client: FlaskClient, locale: str = "en_US") -> str:
    html = _page(client, locale=locale)
    return client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text


def _confirm(client: FlaskClient, shown: str, **buyer: str) -> TestResponse:
    return client.post(
        "/checkout/sites/2",
        data={
            "csrf": _csrf(shown),
            "choice": "premium:1-month",
            "addons-for": "premium",
            "addon-extra-disk": "0",
            "quote": _field(shown, "quote"),
            "shown": _field(shown, "shown"),
            "do": "confirm",
            **{f"buyer_{k}": v for k, v in buyer.items()},
        },
    )


def test_the_first_confirmation_asks_for_the_billing_address_and_keeps_it(
    client: FlaskClient, fake: FakeBridge
) -> None:
    shown = _shown(client)
    assert "Billing address for your receipts" in _text(shown)
    response = _confirm(client, shown, name="Kari Nordmann", address="Lillegata 2", tax_number="")
    assert response.status_code == 303
    assert fake.commits == ["q2"]
    assert fake.billing[2] == {
        "name": "Kari Nordmann",
        "address": "Lillegata 2",
        "tax_number": None,
    }


def test_confirming_without_a_billing_address_is_allowed_and_asks_again_next_time(
    client: FlaskClient, fake: FakeBridge
) -> None:
    response = _confirm(client, _shown(client))
    assert response.status_code == 303
    assert fake.commits == ["q2"] and 2 not in fake.billing


def test_an_address_without_a_name_is_refused_and_nothing_is_committed(
    client: FlaskClient, fake: FakeBridge
) -> None:
    response = _confirm(client, _shown(client), name="", address="Lillegata 2")
    assert response.status_code == 400
    assert "a name is needed" in _text(response.text)
    assert fake.commits == [] and 2 not in fake.billing


def test_a_stored_billing_address_is_shown_and_can_be_edited(
    client: FlaskClient, fake: FakeBridge
) -> None:
    fake.billing[2] = {"name": "Kari Nordmann", "address": "Lillegata 2", "tax_number": None}
    shown = _text(_shown(client, locale="nb_NO"))
    assert "Kvitteringene utstedes til Kari Nordmann." in shown
    assert "Fakturaadresse for kvitteringene dine" not in shown
    form = client.get("/checkout/sites/2/billing")
    assert form.status_code == 200 and 'value="Kari Nordmann"' in form.text
    empty = client.post(
        "/checkout/sites/2/billing", data={"csrf": _csrf(form.text), "buyer_name": ""}
    )
    assert empty.status_code == 400
    saved = client.post(
        "/checkout/sites/2/billing",
        data={
            "csrf": _csrf(form.text),
            "buyer_name": "Nordmann AS",
            "buyer_address": "Storgata 1",
            "buyer_tax_number": "NO 123 MVA",
        },
    )
    assert saved.status_code == 303
    assert fake.billing[2] == {
        "name": "Nordmann AS",
        "address": "Storgata 1",
        "tax_number": "NO 123 MVA",
    }
    page = client.get(saved.headers["Location"])
    assert "Fakturaadressen din er lagret." in _text(page.text)
