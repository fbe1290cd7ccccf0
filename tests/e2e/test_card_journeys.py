"""Paying by card in Chromium: the real WordPress network, `bridge serve` on gateway `stripe`, and
localstripe standing in for Stripe (its fake Stripe.js draws the card element; it sends its
webhooks to the bridge). The real Stripe cannot be reached from this project's machines.

Journeys: Free → Premium paid by card and back on Account with the new limits; a declined card,
then a good one; a renewal charged off-session by the roll-over; a failing renewal going
`past_due`, the owner paying it with a new card from the Account page, `active` again; an
operator's refund in the console's ledger.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.console import OperatorConsole
from tests.e2e.journey import BridgeServer, Journey
from tests.support.localstripe import CARD_3DS, CARD_DECLINED_ON_CHARGE, CARD_OK

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

BRIDGE_GATEWAY = "stripe"


def _text(journey: Journey, selector: str) -> str:
    return str(journey.page.locator(selector).inner_text()).strip()


@pytest.fixture(scope="module")
def runtime(bridge_server: BridgeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The bridge's use cases in this process on the served bridge's database (and the same
    localstripe), so that the roll-over can run at the end of a period without waiting a month."""
    from bridge.bootstrap import bootstrap
    from bridge.config import load_settings

    env = {**bridge_server.env}
    env["BRIDGE_QUEUE_PATH"] = str(tmp_path_factory.mktemp("card-queue") / "queue.db")
    built = bootstrap(load_settings(env, env["BRIDGE_CONFIG"]))
    try:
        yield built
    finally:
        built.close()


def _to_premium_checkout(journey: Journey) -> None:
    journey.log_in()
    journey.open_account()
    journey.click_change()
    journey.pick("premium")
    assert _text(journey, "#payment-method") == "Payment: Paid by card on the next page"
    journey.page.click("#confirm")
    journey.page.wait_for_url(re.compile(r".*/checkout/sites/\d+/pay/[\w-]+$"))
    journey.page.wait_for_selector("#card-element input")


def _enter_card(journey: Journey, number: str) -> None:
    """Type into localstripe's card element (Stripe.js's iframe on the real Stripe)."""
    page = journey.page
    page.fill("#card-element input[placeholder=number]", number)
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "10115")
    page.click("#pay-new-button")


def _axe_outside_the_card_element(journey: Journey, state: str) -> None:
    """axe-core on the Pay page without localstripe's stand-in card element (on Stripe the
    element is Stripe's own iframe, with its own labels): no violation at all."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(journey.page, context={"exclude": [["#card-element"]]})
    violations = [(v["id"], v.get("impact")) for v in results.response["violations"]]
    journey.note(f"axe {state}: {len(results.response['passes'])} rules passed, {violations}")
    assert violations == [], violations


def _authenticate(journey: Journey) -> None:
    """localstripe's 3-D Secure dialog (the bank's page on the real Stripe): the owner agrees."""
    journey.page.get_by_role("button", name="Complete authentication").click()


def _paid(journey: Journey) -> None:
    page = journey.page
    page.wait_for_url(re.compile(r".*/checkout/sites/\d+/done\?.*"))
    page.wait_for_selector("#push-status[data-state='applied']")


def _back_on_account(journey: Journey) -> str:
    journey.page.click("#back-to-account")
    journey.page.wait_for_url(re.compile(r".*page=plan-bridge-account.*"))
    journey.page.wait_for_selector("#plan-bridge-membership")
    return _text(journey, "#plan-bridge-membership")


def _stripe_receipts(runtime: Any) -> list[tuple[str, str]]:
    with runtime.ctx.uow() as uow:
        rows, _total = uow.console.receipts(0, 200)
    return [(r.type, r.outcome) for r in rows if r.webhook_id.startswith("stripe:")]


def test_free_owner_pays_premium_by_card_and_gets_the_new_limits(
    journey: Journey, runtime: Any
) -> None:
    before = _stripe_receipts(runtime)
    _to_premium_checkout(journey)
    assert "$29.00" in _text(journey, "#pay-amount")
    _axe_outside_the_card_element(journey, "pay-page")
    journey.shot("pay-page")
    _enter_card(journey, CARD_OK)
    _paid(journey)
    assert _text(journey, "#done-heading") == "Done: you are now on Premium"
    journey.shot("paid")
    assert "Premium" in _back_on_account(journey)
    view = journey.bridge.wait_settled(journey.site.blog_id, "premium")
    assert view["membership"]["status"] == "active"
    assert journey.publish_post("More than Free allows") == "publish"
    # localstripe sent its payment_intent.succeeded to /webhooks/stripe, signed; the browser's
    # return had applied the invoice already, so the webhook found it paid.
    deadline = time.monotonic() + 30
    while ("payment_intent.succeeded", "already_paid") not in _stripe_receipts(runtime):
        assert time.monotonic() < deadline, (before, _stripe_receipts(runtime))
        time.sleep(0.2)


def test_a_declined_card_shows_stripes_reason_then_a_good_card_pays(journey: Journey) -> None:
    _to_premium_checkout(journey)
    _enter_card(journey, CARD_DECLINED_ON_CHARGE)
    journey.page.wait_for_selector("#pay-error:not([hidden])")
    assert _text(journey, "#pay-error") == "Your card was declined."
    journey.shot("declined")
    site = journey.bridge.site(journey.site.blog_id)
    assert site is not None and site["membership"]["plan"]["id"] == "free"
    _enter_card(journey, CARD_OK)
    _paid(journey)
    assert "Premium" in _back_on_account(journey)


def test_3ds_is_completed_in_the_browser(journey: Journey) -> None:
    _to_premium_checkout(journey)
    _enter_card(journey, CARD_3DS)
    _authenticate(journey)  # saving the card
    _authenticate(journey)  # paying with it
    _paid(journey)
    assert "Premium" in _back_on_account(journey)


def _period_end(bridge: BridgeServer, site_id: int) -> Any:
    from bridge.services.records import parse_instant

    site = bridge.site(site_id)
    assert site is not None
    return parse_instant(site["membership"]["period_end"])


def _renewal(bridge: BridgeServer, site_id: int) -> dict[str, Any]:
    ledger = bridge.api("GET", f"/sites/{site_id}/ledger")
    (renewal,) = [i for i in ledger["invoices"] if i["kind"] == "renewal"]
    return dict(renewal)


def test_the_roll_over_charges_the_renewal_on_the_saved_card(
    journey: Journey, runtime: Any
) -> None:
    from bridge.services import renewals

    _to_premium_checkout(journey)
    _enter_card(journey, CARD_OK)
    _paid(journey)
    blog = journey.site.blog_id
    renewals.roll_over(runtime.ctx, _period_end(journey.bridge, blog) + timedelta(minutes=1))
    assert _renewal(journey.bridge, blog)["status"] == "paid"
    site = journey.bridge.site(blog)
    assert site is not None and site["membership"]["status"] == "active"
    journey.open_account()
    assert "Premium" in _text(journey, "#plan-bridge-membership")


def test_a_failing_renewal_is_past_due_until_the_owner_pays_with_a_new_card(
    journey: Journey, runtime: Any
) -> None:
    from bridge.services import renewals

    # The upgrade's charge is declined; the operator records a bank transfer for it instead,
    # so the saved card is one that declines.
    _to_premium_checkout(journey)
    _enter_card(journey, CARD_DECLINED_ON_CHARGE)
    journey.page.wait_for_selector("#pay-error:not([hidden])")
    invoice_id = journey.page.url.rsplit("/", 1)[-1]
    journey.bridge.api("POST", f"/invoices/{invoice_id}/pay", json={"reference": "bank-1"})
    blog = journey.site.blog_id
    journey.bridge.wait_settled(blog, "premium")
    renewals.roll_over(runtime.ctx, _period_end(journey.bridge, blog) + timedelta(minutes=1))
    site = journey.bridge.site(blog)
    assert site is not None and site["membership"]["status"] == "past_due"
    runtime.runner.push_site(blog, 1)  # the served bridge's worker would push it shortly
    # From the Account page: Change leads to the open renewal invoice, paid with a new card.
    journey.open_account()
    assert "Your renewal invoice is not paid yet" in _text(journey, "#plan-bridge-payment-due")
    journey.shot("account-past-due")
    journey.page.locator(
        "#plan-bridge-membership .postbox-header button[type=submit]"
    ).first.click()
    journey.page.wait_for_url(re.compile(r".*/checkout/sites/\d+/pay/[\w-]+$"))
    assert journey.page.url.endswith(_renewal(journey.bridge, blog)["id"])
    assert "card ending in 0341" in _text(journey, "#pay-saved-button")
    journey.shot("pay-renewal")
    _enter_card(journey, CARD_OK)
    _paid(journey)
    site = journey.bridge.site(blog)
    assert site is not None and site["membership"]["status"] == "active"


def test_an_operator_refund_is_shown_in_the_ledger(
    journey: Journey, browser: Any, bridge_server: BridgeServer
) -> None:
    _to_premium_checkout(journey)
    _enter_card(journey, CARD_OK)
    _paid(journey)
    blog = journey.site.blog_id
    ledger = bridge_server.api("GET", f"/sites/{blog}/ledger")
    (paid,) = [i for i in ledger["invoices"] if i["kind"] == "change"]
    context = browser.new_context()
    try:
        console = OperatorConsole(journey.network, bridge_server.url, context.new_page())
        console.open_from_network_admin()
        console.goto("/invoices?status=paid")
        page = console.page
        page.fill(f"#refund-amount-{paid['id']}", "9.00")
        page.fill(f"#refund-reason-{paid['id']}", "goodwill for a slow start")
        with page.expect_navigation():
            page.locator(f"form[action$='/invoices/{paid['id']}/refund'] button").click()
        assert "Refunded to the card." in page.inner_text("main")
        console.goto(f"/memberships/{ledger['membership_id']}")
        rows = page.inner_text("#ledger")
        assert "card_refund" in rows and "-9.00" in rows
    finally:
        context.close()
    site = bridge_server.site(blog)
    assert site is not None and site["membership"]["plan"]["id"] == "premium"
