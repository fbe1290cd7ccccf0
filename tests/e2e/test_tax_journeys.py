"""Tax in the browser (billing-rules.md §12, issue 17): MVA 25 % exclusive on the order summary,
the billing address asked once beside Confirm, and the receipt opened from the Account page, in
English and in Norwegian. The bridge runs config.yaml's catalog with a `tax:` and a `seller:`."""

from __future__ import annotations

import re

import pytest

from tests.e2e.journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

BRIDGE_TAX = {"name": "MVA", "rate": "25", "mode": "exclusive"}
BRIDGE_SELLER = {
    "name": "Nettverket AS",
    "address": "Storgata 1\n0155 Oslo",
    "tax_number": "NO 999 999 999 MVA",
}
AXE_ALLOWED: dict[str, str] = {}


def _text(journey: Journey, selector: str) -> str:
    return str(journey.page.locator(selector).inner_text()).strip()


def _upgrade_with_billing_address(journey: Journey) -> None:
    page = journey.page
    journey.log_in()
    journey.open_account()
    journey.click_change()
    journey.pick("premium")
    page.fill("#buyer-name", "Kari Nordmann")
    page.fill("#buyer-address", "Lillegata 2\n5003 Bergen")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/checkout/sites/\d+/done\?.*"))
    page.wait_for_selector("#push-status[data-state='applied']")  # the site has the new document
    page.click("#back-to-account")
    page.wait_for_url(re.compile(r".*page=plan-bridge-account.*plan_bridge_result=applied"))
    page.wait_for_selector("#plan-bridge-receipts")


def _open_first_receipt(journey: Journey) -> None:
    page = journey.page
    page.locator("#plan-bridge-receipts button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/checkout/receipts/open\?token=.*"))
    page.wait_for_selector("#receipt-title")


def test_an_upgrade_with_mva_shows_the_tax_and_its_receipt(journey: Journey) -> None:
    page = journey.page
    journey.log_in()
    journey.open_account()
    journey.click_change()
    journey.pick("premium")
    summary = _text(journey, "#order-summary")
    assert "MVA 25% $7.25" in summary.replace("\t", " ").replace("\n", " ")
    assert _text(journey, "#due-now") == "$36.25"
    assert "(of which MVA 25%: $7.25)" in _text(journey, "#next-billing-amount")
    assert page.locator("#billing-fields").count() == 1
    journey.axe("tax-summary", AXE_ALLOWED)
    journey.shot("mva-summary")
    page.fill("#buyer-name", "Kari Nordmann")
    page.fill("#buyer-address", "Lillegata 2\n5003 Bergen")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/checkout/sites/\d+/done\?.*"))
    page.wait_for_selector("#push-status[data-state='applied']")  # the site has the new document
    page.click("#back-to-account")
    page.wait_for_url(re.compile(r".*page=plan-bridge-account.*plan_bridge_result=applied"))
    membership = _text(journey, "#plan-bridge-membership")
    assert "MVA 25%, added to the prices" in membership
    assert "$36.25 (of which MVA 25%: $7.25)" in membership
    assert "Receipt" in _text(journey, "#plan-bridge-receipts")
    journey.shot("account-with-receipts")
    _open_first_receipt(journey)
    receipt = _text(journey, "main")
    for words in (
        "Nettverket AS",
        "NO 999 999 999 MVA",
        "Kari Nordmann",
        "Lillegata 2",
        "Premium",
    ):
        assert words in receipt, words
    assert _text(journey, "#receipt-net") == "$29.00"
    assert _text(journey, "#receipt-tax") == "$7.25"
    assert _text(journey, "#receipt-total") == "$36.25"
    assert _text(journey, "#receipt-reference") == "Payment reference: test"
    journey.axe("receipt", AXE_ALLOWED)
    journey.shot("receipt")
    page.emulate_media(media="print")
    journey.shot("receipt-print")
    page.emulate_media(media="screen")
    # The link worked once: reloading it is refused, and the way back is WordPress.
    page.reload()
    assert "expired or was used already" in _text(journey, "main")


@pytest.mark.owner_locale("nb_NO")
def test_a_norwegian_owner_gets_a_norwegian_receipt(journey: Journey) -> None:
    _upgrade_with_billing_address(journey)
    assert "Kvitteringer" in _text(journey, "#plan-bridge-receipts")
    _open_first_receipt(journey)
    page = journey.page
    assert page.locator("html").get_attribute("lang") == "nb-NO"
    assert re.fullmatch(r"Kvittering \d+", _text(journey, "#receipt-title"))
    receipt = _text(journey, "main").lower()  # headings are shown in capitals
    for words in ("Selger", "Fakturert til", "Sum uten avgift", "MVA 25\xa0%", "Betalt"):
        assert words.lower() in receipt, words
    assert _text(journey, "#receipt-total") == "36,25\xa0USD"
    journey.axe("receipt-nb", AXE_ALLOWED)
    journey.shot("receipt-nb")
