"""A site owner changes their plan from wp-admin → Account → Change, in a real browser.

Debian's Chromium drives the real WordPress network (the plugin network-activated) and the
real bridge (`bridge serve`, test gateway). Screenshots of every step land in the run's
artifacts under e2e/<journey>/.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

FREE_POSTS = 5  # config.yaml: Free allows 5 published posts


def _text(journey: Journey, selector: str) -> str:
    return str(journey.page.locator(selector).inner_text()).strip()


def _back_on_account(journey: Journey, result: str) -> None:
    journey.page.wait_for_url(
        re.compile(rf".*page=plan-bridge-account.*plan_bridge_result={result}")
    )
    journey.page.wait_for_selector("#plan-bridge-membership")


def test_free_owner_upgrades_to_premium_and_can_publish_more(journey: Journey) -> None:
    # Free allows 5 posts; the new site has WordPress's "Hello world!" already.
    statuses = [journey.publish_post(f"Post {n}") for n in range(2, FREE_POSTS + 2)]
    assert statuses[:-1] == ["publish"] * (FREE_POSTS - 1)
    assert statuses[-1] != "publish", "Free's post limit should hold before the upgrade"

    journey.log_in()
    journey.open_account()
    assert "Free" in _text(journey, "#plan-bridge-membership")
    journey.shot("account-on-free")

    journey.click_change()
    journey.note(f"checkout page response {journey.response_ms():.0f} ms")
    offered = journey.page.locator("input[name=choice]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert "premium:1-month" in offered
    assert not [value for value in offered if value.startswith("basic:")]
    assert "Basic" not in journey.page.locator("main").inner_text()
    journey.shot("checkout-offers-premium-not-basic")

    journey.pick("premium")
    assert _text(journey, "#due-now") == "$29.00"
    assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", _text(journey, "#next-billing-date"))
    assert _text(journey, "#next-billing-amount") == "$29.00"
    journey.shot("premium-picked-summary")
    journey.page.set_viewport_size({"width": 390, "height": 844})
    journey.shot("premium-picked-on-a-phone")
    journey.page.set_viewport_size({"width": 1280, "height": 900})

    started = time.perf_counter()
    journey.page.click("#confirm")
    _back_on_account(journey, "applied")
    confirm_to_account_s = time.perf_counter() - started
    journey.note(f"confirm → Account with new limits applied {confirm_to_account_s:.2f} s")
    membership = _text(journey, "#plan-bridge-membership")
    assert "Premium" in membership
    journey.shot("account-on-premium")

    assert journey.publish_post("Past Free's limit") == "publish"
    assert confirm_to_account_s < 15


def test_premium_owner_over_free_limits_sees_what_blocks_the_downgrade(journey: Journey) -> None:
    journey.bridge.change_plan(journey.site.blog_id, "premium")
    for n in range(2, FREE_POSTS + 3):  # 7 published posts with Hello world
        assert journey.publish_post(f"Post {n}") == "publish"
    journey.report_usage(posts=FREE_POSTS + 2)

    journey.log_in()
    journey.open_account()
    journey.click_change()
    journey.pick("free")
    blocked = _text(journey, "#blocked")
    site_name = f"Site {journey.site.slug}"
    assert (
        f"{site_name} has 7 published posts; Free allows 5. Move 2 posts to the trash to downgrade."
    ) in blocked
    assert journey.page.locator("#confirm").count() == 0
    journey.shot("free-blocked")


def test_picking_the_current_plan_says_nothing_changes(journey: Journey) -> None:
    journey.log_in()
    journey.open_account()
    journey.click_change()
    page = journey.page
    # By keyboard only: the radio group moves with the arrow keys, the summary follows.
    page.focus("input[name=choice][value='free:1-month']")
    for _ in range(2):
        with page.expect_response(re.compile(r".*/summary$")):
            page.keyboard.press("ArrowDown")
    assert page.is_checked("input[name=choice][value='premium:1-month']")
    page.wait_for_selector("#confirm")
    journey.shot("premium-picked-by-keyboard")
    for _ in range(2):
        with page.expect_response(re.compile(r".*/summary$")):
            page.keyboard.press("ArrowUp")
    page.wait_for_selector("#no-change")
    assert _text(journey, "#no-change") == "This change leaves your membership as it is."
    assert page.locator("#confirm").count() == 0
    assert page.get_attribute("#order-summary", "aria-live") == "polite"
    journey.shot("no-change")


@pytest.mark.javascript(False)
def test_the_checkout_works_without_javascript(journey: Journey) -> None:
    journey.log_in()
    journey.open_account()
    journey.click_change()
    page = journey.page
    page.check("input[name=choice][value='premium:1-month']")
    page.click("#update-summary")
    page.wait_for_selector("#confirm")
    assert _text(journey, "#due-now") == "$29.00"
    journey.shot("summary-without-javascript")
    page.click("#confirm")
    _back_on_account(journey, "applied")
    assert "Premium" in _text(journey, "#plan-bridge-membership")


def test_a_downgrade_is_scheduled_shown_on_account_and_cancelled(journey: Journey) -> None:
    journey.bridge.change_plan(journey.site.blog_id, "premium")
    journey.log_in()
    journey.open_account()
    journey.shot("account-on-premium")
    journey.click_change()
    journey.pick("free")
    note = _text(journey, "#scheduled-note")
    assert re.fullmatch(r"Your plan changes to Free on [A-Z][a-z]+ \d{1,2}, \d{4}\.", note), note
    assert _text(journey, "#due-now") == "$0.00"
    journey.shot("downgrade-summary")

    journey.page.click("#confirm")
    _back_on_account(journey, "scheduled")
    scheduled = _text(journey, "#plan-bridge-scheduled-change")
    assert "Your plan changes to Free on" in scheduled
    assert "Premium" in _text(journey, "#plan-bridge-membership")
    journey.shot("account-shows-scheduled-change")

    journey.page.locator("#plan-bridge-scheduled-change button[type=submit]").click()
    journey.page.wait_for_url(re.compile(r".*/checkout/sites/\d+/scheduled$"))
    assert "Your plan changes to Free on" in _text(journey, "#scheduled-change")
    journey.shot("cancel-page")
    journey.page.click("#cancel-scheduled")
    _back_on_account(journey, "cancelled")
    assert journey.page.locator("#plan-bridge-scheduled-change").count() == 0
    assert "Premium" in _text(journey, "#plan-bridge-membership")
    journey.shot("account-after-cancel")


@pytest.mark.owner_locale("nb_NO")
def test_a_norwegian_owner_upgrades_in_norwegian(journey: Journey) -> None:
    journey.log_in()
    journey.open_account()
    journey.shot("account-nb")
    journey.click_change()
    assert journey.page.locator("html").get_attribute("lang") == "nb-NO"
    assert _text(journey, "h1") == "Endre planen din"
    journey.pick("premium", "1-year")
    assert _text(journey, "#due-now") == "290,00\xa0USD"
    assert re.fullmatch(r"\d{1,2}\. [a-zæøå]+ \d{4}", _text(journey, "#next-billing-date"))
    summary = _text(journey, "#order-summary")
    assert "Å betale nå" in summary
    assert "Neste faktureringsdato" in summary
    assert _text(journey, "#confirm") == "Bekreft og betal"
    journey.shot("summary-nb")
    journey.page.click("#confirm")
    _back_on_account(journey, "applied")
    assert "Premium" in _text(journey, "#plan-bridge-membership")
    journey.shot("account-nb-on-premium")
