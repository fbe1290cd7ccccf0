"""Tax in the browser, inclusive (billing-rules.md §12, issue 17): PPN 11 % is inside the
prices, so the summary shows the part of the total that is tax and adds no tax line."""

from __future__ import annotations

import re

import pytest

from tests.e2e.journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

BRIDGE_TAX = {"name": "PPN", "rate": "11", "mode": "inclusive"}
BRIDGE_SELLER = {
    "name": "PT Jaringan",
    "address": "Jl. Sudirman 1, Jakarta",
    "tax_number": "01.234.567.8-901.000",
}
AXE_ALLOWED: dict[str, str] = {}


def _text(journey: Journey, selector: str) -> str:
    return str(journey.page.locator(selector).inner_text()).strip()


def test_an_upgrade_with_ppn_shows_the_tax_inside_the_price(journey: Journey) -> None:
    page = journey.page
    journey.log_in()
    journey.open_account()
    journey.click_change()
    journey.pick("premium")
    assert _text(journey, "#due-now") == "$29.00"
    assert _text(journey, "#tax-included") == "$2.87"  # 29.00 × 11 / 111
    assert "PPN 11%" not in " ".join(
        page.locator("#order-summary table.lines tbody th").all_inner_texts()
    )
    journey.axe("ppn-summary", AXE_ALLOWED)
    journey.shot("ppn-summary")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/checkout/sites/\d+/done\?.*"))
    page.wait_for_selector("#push-status[data-state='applied']")  # the site has the new document
    page.click("#back-to-account")
    page.wait_for_url(re.compile(r".*page=plan-bridge-account.*plan_bridge_result=applied"))
    assert "PPN 11%, included in the prices" in _text(journey, "#plan-bridge-membership")
    page.locator("#plan-bridge-receipts button[type=submit]").first.click()
    page.wait_for_selector("#receipt-title")
    assert _text(journey, "#receipt-total") == "$29.00"
    assert _text(journey, "#receipt-tax") == "$2.87"
    assert _text(journey, "#receipt-net") == "$26.13"
    journey.shot("ppn-receipt")
