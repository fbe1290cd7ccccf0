"""Card payments on SQLite and PostgreSQL against localstripe: requests racing to pay the same
invoice (a double click, two tabs, the roll-over) make one PaymentIntent and apply it once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bridge.adapters.stripe_gateway import StripeCardGateway
from bridge.api.inputs import parse_selection
from bridge.config_sections import StripeSettings
from bridge.services import cards, operator, payments, quotes
from bridge.services.context import Context, owner
from tests.integration.storage.conftest import create_site
from tests.support.card_invariants import check_card_invariants, intents_by_invoice
from tests.support.localstripe import (
    CARD_OK,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    running_localstripe,
)

OWNER = owner(2, 5)


@pytest.fixture(scope="module")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as server:
        yield server


def test_racing_payments_of_one_invoice_charge_it_once(
    make_ctx: Callable[..., Context], stripe_server: LocalStripe, tmp_path: Path
) -> None:
    ctx = make_ctx(
        gateway="stripe",
        stripe=StripeSettings(api_base=stripe_server.base, js_url=stripe_server.js_url),
        stripe_publishable_key=PUBLISHABLE_KEY,
    )
    ctx = replace(ctx, cards=StripeCardGateway(SECRET_KEY, WEBHOOK_SECRET, stripe_server.base))
    create_site(ctx, 2, 5)
    quote = quotes.create_quote(ctx, 2, parse_selection({"plan": "premium"}), OWNER)
    invoice_id = str(quotes.commit_quote(ctx, quote["id"], OWNER)["invoice"]["id"])
    setup = cards.start_card_setup(ctx, 2)
    stripe_server.confirmed_setup(setup["setup_id"], setup["client_secret"], CARD_OK)
    cards.save_card(ctx, 2, setup["setup_id"], OWNER)

    barrier = threading.Barrier(4)
    outcomes: list[Any] = []

    def pay() -> None:
        barrier.wait()
        try:
            outcomes.append(cards.pay_by_card(ctx, invoice_id, OWNER)["status"])
        except Exception as exc:  # a refused race is fine; a second charge is not
            outcomes.append(f"{type(exc).__name__}: {exc}"[:600])

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "paid" in outcomes, outcomes
    intents = intents_by_invoice(stripe_server)[invoice_id]
    assert [i["status"] for i in intents] == ["succeeded"]
    assert payments.invoice(ctx, invoice_id)["status"] == "paid"
    kinds = [e["kind"] for e in operator.ledger_of(ctx, 2)["entries"]]
    assert kinds.count("change") <= 1
    check_card_invariants(ctx, stripe_server)
