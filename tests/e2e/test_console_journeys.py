"""The operator's console in Chromium, against the real WordPress network and `bridge serve`.

The bridge starts from examples/catalog-console-journey.yaml: Free, Basic and Premium, no plan
groups (so a Free owner is first offered Basic and Premium). One browser for the module: the
super admin's page stays signed into the console; owners share a second page (cookies cleared
between owners). The journeys run in file order and tell one story, but each one makes the state
it starts from itself (grouping, prices read from the console) so it also runs alone.

Screenshots land in <artifacts>/e2e/console/; with PLAN_BRIDGE_UPDATE_SCREENSHOTS=1 the products
page and the plan-groups picture are also copied to docs/screenshots/ for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.console import OperatorConsole, Shots, price_plus
from tests.e2e.journey import WAIT_S, BridgeServer, Journey, new_site
from tests.wordpress.harness import Site, WordPressNetwork

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

ROOT = Path(__file__).resolve().parents[2]
BRIDGE_CATALOG = ROOT / "examples" / "catalog-console-journey.yaml"
HIGH_END = {"free": ("High End", 1), "premium": ("High End", 2)}
README_SHOTS = {
    "products-grouped": "console-products.png",
    "groups-saved": "console-plan-groups.png",
}


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Iterator[Shots]:
    folder = artifacts_dir / "e2e" / "console"
    folder.mkdir(parents=True, exist_ok=True)
    taken = Shots(folder)
    started = time.perf_counter()
    yield taken
    (folder / "timings.txt").write_text(f"console journeys {time.perf_counter() - started:.2f} s\n")
    if os.environ.get("PLAN_BRIDGE_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for name, file_name in README_SHOTS.items():
            if name in taken.taken:
                shutil.copyfile(taken.taken[name], target / file_name)


@pytest.fixture(scope="module")
def operator(
    wp_network: WordPressNetwork, bridge_server: BridgeServer, browser: Any
) -> Iterator[OperatorConsole]:
    """The super admin, signed into the console through the plugin's Network Admin button."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    console = OperatorConsole(wp_network, bridge_server.url, page)
    console.open_from_network_admin()
    try:
        yield console
    finally:
        context.close()


@pytest.fixture(scope="module")
def owners(browser: Any) -> Iterator[Any]:
    """One browser context for every owner of the module (cookies cleared between owners)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def owner(
    wp_network: WordPressNetwork, bridge_server: BridgeServer, owners: Any, shots: Shots
) -> Any:
    """Make a new Free site and its owner, logged into wp-admin in the owners' context (a new
    tab: nothing of the previous owner's pages, their cookies gone)."""

    def make(hint: str) -> Journey:
        for old in owners.pages:
            old.close()
        owners.clear_cookies()
        page = owners.new_page()
        page.set_default_timeout(WAIT_S * 1000)
        site = new_site(wp_network, bridge_server, hint, "en_US")
        trip = Journey(wp_network, bridge_server, site, page, shots.folder)
        trip.log_in()
        return trip

    return make


def offered(journey: Journey) -> set[str]:
    """The plans the Change page offers (any billing option), the current one included."""
    values = journey.page.locator("input[name=choice]").evaluate_all("els => els.map(e => e.value)")
    return {str(v).split(":", 1)[0] for v in values}


def text(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def group_high_end(operator: OperatorConsole) -> None:
    """Set-up for the journeys after the first: Free and Premium in High End, Basic in none."""
    operator.goto("/groups")
    if operator.page.input_value("#group-free") == "High End":
        return
    operator.preview_groups(HIGH_END)
    operator.save_with_reason("console journeys: High End")


def member_on(bridge: BridgeServer, network: WordPressNetwork, plan: str, hint: str) -> Site:
    """A site the operator put on `plan` through the API (set-up, not under test)."""
    site = new_site(network, bridge, hint, "en_US")
    bridge.change_plan(site.blog_id, plan)
    return site


def wait_for(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    value = check()
    while not value:
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.2)
        value = check()
    return value


def test_operator_groups_free_and_premium_and_the_picture_offers_premium_not_basic(
    operator: OperatorConsole, shots: Shots
) -> None:
    page = operator.page
    # Signed in from Network Admin as the network's super admin, with the operator role.
    assert f"{operator.network.admin_user} (operator)" in text(page, "header")
    shots(page, "signed-in-catalog")

    operator.goto("/products")
    rows = text(page, "main table")
    for name in ("Free", "Basic", "Premium", "Extra disk"):
        assert name in rows
    shots(page, "products")

    operator.goto("/groups")
    # No plan groups yet: Free is offered both Basic and Premium.
    assert operator.offered_in_picture("free") == {"basic", "premium"}

    operator.preview_groups(HIGH_END)
    assert text(page, "main h2:has-text('Upgrade paths')").endswith("(preview)")
    assert operator.offered_in_picture("free") == {"premium"}
    shots(page, "groups-preview")
    operator.save_with_reason("Free and Premium form High End; Basic stays apart")

    assert page.url == f"{operator.bridge_url}/admin/groups"
    assert page.input_value("#group-free") == "High End"
    assert page.input_value("#group-basic") == ""
    assert operator.offered_in_picture("free") == {"premium"}
    assert operator.offered_in_picture("basic") == set()
    panels = page.locator("#picture svg > title").evaluate_all("els => els.map(e => e.textContent)")
    assert any(t.startswith("High End") for t in panels)
    assert any(t.startswith("Plans in no group") for t in panels)
    shots(page, "groups-saved")
    operator.goto("/products")
    assert "High End" in text(page, "main tr:has-text('Premium')")
    assert "High End" not in text(page, "main tr:has-text('Basic')")
    shots(page, "products-grouped")


def test_a_free_owner_is_offered_premium_and_never_basic(
    operator: OperatorConsole, owner: Any, shots: Shots
) -> None:
    group_high_end(operator)
    journey = owner("freeowner")
    journey.open_account()
    journey.click_change()
    assert offered(journey) == {"free", "premium"}
    assert "Basic" not in text(journey.page, "main")
    shots(journey.page, "owner-change-page-high-end")


def test_a_price_rise_keeps_members_price_and_new_upgrades_pay_the_new_one(
    operator: OperatorConsole,
    owner: Any,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    shots: Shots,
) -> None:
    group_high_end(operator)
    member = member_on(bridge_server, wp_network, "premium", "premiummember")
    agreed = bridge_server.api("GET", f"/sites/{member.blog_id}")["membership"]
    old = operator.field("premium", "price")
    new = price_plus(old, 5)
    assert agreed["price"] == old

    operator.preview_product("premium", {"price": new})
    changes = text(operator.page, "table:has(caption:has-text('Changes'))")
    assert old in changes and new in changes
    shots(operator.page, "price-rise-impact")
    operator.save_with_reason("Premium costs more from today")

    after = bridge_server.api("GET", f"/sites/{member.blog_id}")["membership"]
    assert after["price"] == old
    assert after["next_billing"]["amount"] == old

    journey = owner("upgrader")
    journey.open_account()
    journey.click_change()
    journey.pick("premium")
    assert text(journey.page, "#due-now") == f"${new}"
    assert text(journey.page, "#next-billing-amount") == f"${new}"
    journey.page.click("#confirm")
    journey.page.wait_for_url(re.compile(r".*/checkout/sites/\d+/done.*"))  # the confirmation
    upgraded = bridge_server.api("GET", f"/sites/{journey.site.blog_id}")["membership"]
    assert (upgraded["plan"]["id"], upgraded["price"]) == ("premium", new)


def test_a_commit_on_the_old_catalog_version_is_re_quoted(
    operator: OperatorConsole, owner: Any, bridge_server: BridgeServer, shots: Shots
) -> None:
    journey = owner("requoted")
    journey.open_account()
    journey.click_change()
    journey.pick("premium")
    quoted = text(journey.page, "#due-now")

    # While the owner looks at the summary, the operator raises Premium's price.
    new = price_plus(operator.field("premium", "price"), 5)
    operator.edit_product("premium", {"price": new}, "Premium costs more again")

    journey.page.click("#confirm")
    notice = text(journey.page, "#notice")
    assert notice == "The prices changed while you were looking. Check the new amounts."
    # Re-quoted: the owner's choice kept, at the new price, to confirm again.
    assert quoted != f"${new}"
    assert journey.page.is_checked("input[name=choice][value='premium:1-month']")
    assert text(journey.page, "#due-now") == f"${new}"
    shots(journey.page, "owner-re-quoted")
    journey.page.click("#confirm")
    journey.page.wait_for_url(re.compile(r".*/checkout/sites/\d+/done.*"))  # the confirmation
    membership = bridge_server.api("GET", f"/sites/{journey.site.blog_id}")["membership"]
    assert (membership["plan"]["id"], membership["price"]) == ("premium", new)


def disk_allowed(network: WordPressNetwork, site: Site) -> int:
    """The disk space WordPress itself allows the site (MB), as its upload quota checks it."""
    return int(network.eval_php("echo (int) get_space_allowed();", site.url).strip())


def test_raising_a_package_disk_limit_reaches_a_member_site(
    operator: OperatorConsole,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    shots: Shots,
) -> None:
    site = new_site(wp_network, bridge_server, "extradisk", "en_US")
    quote = bridge_server.api(
        "POST",
        f"/sites/{site.blog_id}/quotes",
        json={
            "plan": "free",
            "billing": {"every": 1, "unit": "month"},
            "addons": {"extra-disk": 1},
        },
    )
    assert bridge_server.api("POST", f"/quotes/{quote['id']}/commit")["status"] == "applied"
    view = bridge_server.wait_settled(site.blog_id, "free")
    before = disk_allowed(wp_network, site)
    assert before == view["membership"]["limits"]["disk_mb"]

    package = int(operator.field("extra-disk", "limit_disk_mb"))
    operator.preview_product("extra-disk", {"limit_disk_mb": str(package + 512)})
    rising = text(operator.page, "p:has-text('Sites whose limits rise now')")
    assert str(site.blog_id) in rising.split(":", 1)[1].replace(",", " ").split()
    shots(operator.page, "disk-raise-impact")
    operator.save_with_reason("Extra disk grows by 512 MB")

    wait_for(
        f"site {site.blog_id}'s disk limit rising to {before + 512} MB",
        lambda: disk_allowed(wp_network, site) == before + 512,
    )


def test_a_retired_plan_leaves_the_change_page_and_stays_with_its_members(
    operator: OperatorConsole,
    owner: Any,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    shots: Shots,
) -> None:
    group_high_end(operator)
    member = member_on(bridge_server, wp_network, "premium", "keepspremium")
    operator.retire("premium", "Premium is no longer sold")
    assert "retired" in text(operator.page, "main tr:has-text('Premium')")
    shots(operator.page, "products-premium-retired")

    journey = owner("afterretire")
    journey.open_account()
    journey.click_change()
    assert "premium" not in offered(journey)
    assert "Premium" not in text(journey.page, "main")
    shots(journey.page, "owner-change-page-premium-retired")

    kept = bridge_server.api("GET", f"/sites/{member.blog_id}")["membership"]
    assert kept["plan"]["id"] == "premium"
    assert kept["status"] == "active"
    assert kept["next_billing"] is not None


# -- accessibility: axe-core on every console page ----------------------------------------------

BLOCKING = {"serious", "critical"}
# Violations below "serious" that may stay, by rule id, with the reason. Anything else fails.
# (None so far: axe-core 4.x reported no violation of any impact on these pages.)
ACCEPTED_MINOR: dict[str, str] = {}
# Checks axe could not finish ("incomplete"), by page and rule id, with why they are fine.
ACCEPTED_INCOMPLETE = {
    ("groups", "color-contrast"): "text inside the SVG picture: axe cannot find the colour behind "
    "text in an <svg role=img>; tests/unit/test_console_picture_colours.py checks every colour "
    "the picture writes text in against the colours it is drawn on",
}


def axe_findings(page: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """axe-core's violations and incomplete checks on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    return list(response["violations"]), list(response["incomplete"])


def test_every_console_page_passes_axe(
    operator: OperatorConsole, owners: Any, shots: Shots
) -> None:
    page = operator.page
    problems: list[str] = []

    def check(name: str, on: Any = None) -> None:
        violations, incomplete = axe_findings(on or page)
        for v in violations:
            if v["impact"] in BLOCKING or v["id"] not in ACCEPTED_MINOR:
                targets = [n["target"] for n in v["nodes"]]
                problems.append(f"{name}: {v['id']} ({v['impact']}) {v['help']} at {targets}")
        for v in incomplete:
            if v["impact"] in BLOCKING and (name.split("-")[0], v["id"]) not in ACCEPTED_INCOMPLETE:
                targets = [n["target"] for n in v["nodes"]]
                problems.append(f"{name}: could not check {v['id']} ({v['impact']}) at {targets}")

    # The sign-in landing: the catalog and its versions, with config.yaml's catalog on offer
    # (grouping made the catalog differ from config.yaml's).
    group_high_end(operator)
    operator.goto("/")
    assert page.locator("form[action$='/catalog/import-config']").count() == 1
    check("catalog")
    operator.goto("/products")
    check("products")
    operator.goto("/products/new")
    check("new-product")
    operator.preview_product("basic", {"price": "thirty", "limit_disk_mb": "-1"})
    assert page.locator("[aria-invalid=true]").count() >= 2
    check("product-with-errors")
    shots(page, "product-with-errors")
    operator.preview_product("basic", {"price": "31.00"})
    assert page.locator("#reason").count() == 1
    check("product-impact")
    operator.goto("/groups")
    check("groups")
    operator.preview_groups({"free": ("High End", 1), "basic": ("High End", 2)})
    check("groups-preview")
    page.fill("#order-basic", "second")
    with page.expect_navigation():
        page.click("button[name=confirm][value=preview]")
    assert page.locator(".error").count() >= 1
    check("groups-with-errors")
    operator.goto("/")
    with page.expect_navigation():
        page.click("form[action$='/catalog/import-config'] button")
    check("import-config-impact")
    owners.clear_cookies()
    stranger = owners.new_page()
    stranger.goto(f"{operator.bridge_url}/admin/")
    assert stranger.locator("h1").inner_text() == "Sign in first"
    check("sign-in-first", stranger)
    assert not problems, "\n".join(problems)
