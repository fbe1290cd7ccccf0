"""The checkout's order summary with a tax (billing-rules.md §12), in the owner's language."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from bridge.domain.tax import Tax
from tests.api.test_checkout_pages import (
    CATALOG,
    FakeBridge,
    _app,
    _csrf,
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


def _premium(client: FlaskClient, locale: str = "en_US") -> str:
    html = _page(client, locale=locale)
    response = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    )
    return _text(response.text)


def test_an_exclusive_tax_is_a_line_of_the_summary_and_part_of_the_next_amount(
    fake: FakeBridge,
) -> None:
    fake.tax = Tax("MVA", "25", "exclusive")
    text = _premium(_app(fake).test_client())
    assert "MVA 25% $15.00" in text
    assert "Due now $75.00" in text
    assert "Amount on that date $75.00 (of which MVA 25%: $15.00)" in text


def test_an_inclusive_tax_is_shown_as_the_part_of_the_total_that_is_tax(
    fake: FakeBridge,
) -> None:
    fake.tax = Tax("PPN", "11", "inclusive")
    text = _premium(_app(fake).test_client())
    assert "Due now $60.00 Including PPN 11% $5.95" in text
    assert "PPN 11% $" not in text.replace("Including PPN 11% $5.95", "").replace(
        "(of which PPN 11%: $5.95)", ""
    )
    assert "Amount on that date $60.00 (of which PPN 11%: $5.95)" in text


def test_the_tax_speaks_norwegian_with_its_own_name(fake: FakeBridge) -> None:
    fake.tax = Tax("MVA", "25", "exclusive")
    text = _premium(_app(fake).test_client(), locale="nb_NO")
    assert "MVA 25 %" in text
    assert "(herav MVA 25 %: " in text


def test_without_a_tax_the_summary_says_nothing_of_tax(client: FlaskClient) -> None:
    text = _premium(client)
    assert "of which" not in text and "Including" not in text
