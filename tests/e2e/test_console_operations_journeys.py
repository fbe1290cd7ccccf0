"""The console's operations pages in Chromium, against the real WordPress network and `bridge serve`.

One browser for the module: the super admin signs into the console once through the plugin's
Network Admin button and keeps that page; a viewer gets a second context. Set-up that is not under
test goes through the operator API (sites, quotes, invoices paid by API) or, for the dead push,
through the use case layer in this process on the bridge's own database (see that journey).

The bridge runs on the `manual` gateway (BRIDGE_GATEWAY below): an owner's or operator's change to
a paid plan waits for an invoice that the operator marks paid.

axe-core runs on every page of these journeys: no serious or critical violation, and a moderate or
minor one only when ALLOWED lists its rule with the reason. Screenshots land in
<artifacts>/e2e/console-operations/; with PLAN_BRIDGE_UPDATE_SCREENSHOTS=1 the dashboard and a
membership's page are also copied to docs/screenshots/ for the README.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.console import OperatorConsole, Shots
from tests.e2e.journey import WAIT_S, BridgeServer, new_site
from tests.wordpress.harness import Site, WordPressNetwork

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]

ROOT = Path(__file__).resolve().parents[2]
BRIDGE_GATEWAY = "manual"
README_SHOTS = {
    "dashboard": "console-dashboard.png",
    "membership-adjusted": "console-membership.png",
}
# Moderate or minor axe rules accepted on these pages, with the reason (none so far).
ALLOWED: dict[str, str] = {}
MONTHS = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52)}


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Iterator[Shots]:
    folder = artifacts_dir / "e2e" / "console-operations"
    folder.mkdir(parents=True, exist_ok=True)
    taken = Shots(folder)
    started = time.perf_counter()
    yield taken
    (folder / "timings.txt").write_text(
        f"console operations journeys {time.perf_counter() - started:.2f} s\n"
    )
    if os.environ.get("PLAN_BRIDGE_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for name, file_name in README_SHOTS.items():
            if name in taken.taken:
                shutil.copyfile(taken.taken[name], target / file_name)


@pytest.fixture(scope="module")
def axe_log(shots: Shots) -> Iterator[list[str]]:
    """Every axe finding of the module, written next to the screenshots."""
    found: list[str] = []
    yield found
    (shots.folder / "axe.txt").write_text("\n".join(found) + "\n")


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
def runtime(bridge_server: BridgeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The bridge's use cases in this process, on the served bridge's database, with a queue of
    their own (nothing queued here is ever pushed: the served bridge's worker does not see it)."""
    from bridge.bootstrap import bootstrap
    from bridge.config import load_settings

    env = {**bridge_server.env}
    env["BRIDGE_QUEUE_PATH"] = str(tmp_path_factory.mktemp("test-queue") / "queue.db")
    built = bootstrap(load_settings(env, env["BRIDGE_CONFIG"]))
    try:
        yield built
    finally:
        built.close()


def check_axe(page: Any, state: str, log: list[str]) -> None:
    """axe-core on the page as it is: no serious or critical violation; a moderate or minor one
    only when ALLOWED lists its rule."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    log.append(f"{state}: {len(results.response['passes'])} rules passed, {len(violations)} failed")
    for violation in violations:
        rule, impact = violation["id"], violation.get("impact")
        targets = [n.get("target") for n in violation.get("nodes", [])][:3]
        log.append(f"{state}: {rule} ({impact}) {targets}")
        assert impact not in ("serious", "critical"), f"{state}: {rule} {impact} {targets}"
        assert rule in ALLOWED, f"{state}: {rule} ({impact}) is not listed: {targets}"


def text(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def wait_for(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    value = check()
    while not value:
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.2)
        value = check()
    return value


def pending_change(bridge: BridgeServer, site_id: int, plan: str) -> dict[str, Any]:
    """An operator's change to `plan` through the API, waiting for its manual invoice."""
    quote = bridge.api(
        "POST",
        f"/sites/{site_id}/quotes",
        json={"plan": plan, "billing": {"every": 1, "unit": "month"}},
    )
    outcome: dict[str, Any] = bridge.api("POST", f"/quotes/{quote['id']}/commit")
    assert outcome["status"] == "pending_payment", outcome
    return outcome


def member_on(bridge: BridgeServer, network: WordPressNetwork, plan: str, hint: str) -> Site:
    """A site put on `plan` and paid through the operator API (set-up, not under test)."""
    site = new_site(network, bridge, hint, "en_US")
    invoice = pending_change(bridge, site.blog_id, plan)["invoice"]
    bridge.api("POST", f"/invoices/{invoice['id']}/pay", json={"reference": "set-up"})
    bridge.wait_settled(site.blog_id, plan)
    return site


def test_operator_finds_a_membership_by_owner_email_and_adjusts_its_balance(
    operator: OperatorConsole,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    shots: Shots,
    axe_log: list[str],
) -> None:
    page = operator.page
    site = new_site(wp_network, bridge_server, "balance", "en_US")
    view = bridge_server.api("GET", f"/sites/{site.blog_id}")
    membership_id = view["membership"]["id"]
    assert view["membership"]["balance"] == "0.00"

    operator.goto("/memberships")
    check_axe(page, "memberships", axe_log)
    page.fill("#q", site.owner_email)
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1
    assert site.owner_email in text(page, "main table tbody")
    check_axe(page, "memberships-search", axe_log)
    shots(page, "memberships-search")
    with page.expect_navigation():
        rows.first.locator(f"a:has-text('#{membership_id}')").click()
    assert text(page, "h1") == f"Membership #{membership_id}"
    check_axe(page, "membership", axe_log)

    reason = "Goodwill credit for the outage of 30 November"
    page.fill("#amount-balance", "12.50")
    page.fill("#reason-balance", reason)
    with page.expect_navigation():
        page.click("form[action$='/balance'] button[type=submit]")
    # The confirmation step says what it will do; nothing has been done yet.
    assert "Add 12.50 USD to the balance" in text(page, "#what")
    assert "from 0.00 USD to 12.50 USD" in text(page, "#what")
    assert reason in text(page, "main")
    check_axe(page, "confirm-balance", axe_log)
    shots(page, "confirm-balance")
    assert bridge_server.api("GET", f"/sites/{site.blog_id}")["membership"]["balance"] == "0.00"
    with page.expect_navigation():
        page.click("button:has-text('Do it')")

    assert page.url.endswith(f"/admin/memberships/{membership_id}?done=balance")
    assert text(page, "#balance") == "12.50 USD"
    newest = text(page, "#ledger tbody tr:first-child")
    assert "12.50 USD" in newest and reason in newest
    assert bridge_server.api("GET", f"/sites/{site.blog_id}")["membership"]["balance"] == "12.50"
    check_axe(page, "membership-adjusted", axe_log)
    shots(page, "membership-adjusted")

    operator.goto("/audit")
    newest = text(page, "main table tbody tr:first-child")
    assert "balance.adjustment" in newest and reason in newest
    assert f"{wp_network.admin_user}" in newest
    check_axe(page, "audit-log", axe_log)
    shots(page, "audit-log")


def test_operator_marks_a_manual_invoice_paid_and_the_site_gets_the_new_limits(
    operator: OperatorConsole,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    shots: Shots,
    axe_log: list[str],
) -> None:
    page = operator.page
    site = new_site(wp_network, bridge_server, "manualpay", "en_US")
    before = bridge_server.api("GET", f"/sites/{site.blog_id}")
    invoice = pending_change(bridge_server, site.blog_id, "premium")["invoice"]
    # Still on Free until the money arrives.
    assert bridge_server.api("GET", f"/sites/{site.blog_id}")["membership"]["plan"]["id"] == "free"

    operator.goto("/invoices")
    row = page.locator(f"main tbody tr:has(#reference-{invoice['id']})")
    assert str(invoice["number"]) in str(row.inner_text())
    check_axe(page, "invoices-open", axe_log)
    shots(page, "invoices-open")
    page.fill(f"#reference-{invoice['id']}", "SEPA-2026-1130-7")
    page.fill(f"#reason-{invoice['id']}", "Bank transfer arrived")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert "status=paid" in page.url
    assert "Marked paid" in text(page, "main [role=status]")
    assert str(invoice["number"]) in text(page, "main table tbody")
    check_axe(page, "invoices-paid", axe_log)
    for status in ("void", "expired"):
        operator.goto(f"/invoices?status={status}")
        check_axe(page, f"invoices-{status}", axe_log)

    after = bridge_server.wait_settled(site.blog_id, "premium")
    assert after["limits"]["desired_version"] > before["limits"]["desired_version"]
    assert after["limits"]["applied_version"] == after["limits"]["desired_version"]
    assert after["limits"]["limits"]["users"] == 10  # Premium's, Free's is 1
    assert before["limits"]["limits"]["users"] == 1
    operator.goto("/audit")
    newest = text(page, "main table tbody tr:first-child")
    assert "invoice.pay" in newest and "Bank transfer arrived" in newest
    assert "SEPA-2026-1130-7" in newest


def test_operator_repushes_a_dead_push_once_the_site_is_back(
    operator: OperatorConsole,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    runtime: Any,
    shots: Shots,
    axe_log: list[str],
) -> None:
    """A dead push, made in this process on the bridge's database through the use case layer:
    an operator's limits override (users = 7) raises the desired version, but its push goes to a
    queue of this process that nothing runs, and the push is then recorded dead with the error a
    stopped site gives. Stopping the real WordPress of the session long enough for the bridge's
    retries to give up would make every other journey wait; the repush under test is the console's
    and the served bridge's worker delivering to the real site, which is "back" throughout."""
    from bridge.api.inputs import parse_overrides
    from bridge.services import operator as operations
    from bridge.services.context import OPERATOR

    page = operator.page
    site = new_site(wp_network, bridge_server, "deadpush", "en_US")
    ctx = runtime.ctx
    operations.put_overrides(
        ctx, site.blog_id, parse_overrides({"users": 7}), OPERATOR, reason="journey set-up"
    )
    with ctx.uow() as uow:
        limits = uow.limits.get(site.blog_id)
        assert limits is not None
        uow.limits.record_failure(
            site.blog_id,
            limits.desired_version,
            "connection refused (the site was down)",
            True,
            None,
            ctx.now(),
        )
        uow.commit()
    behind = bridge_server.api("GET", f"/sites/{site.blog_id}")["limits"]
    assert behind["applied_version"] < behind["desired_version"]

    operator.goto("/sites?show=dead")
    row = page.locator(f"main tbody tr:has(#site-{site.blog_id})")
    assert "connection refused (the site was down)" in str(row.inner_text())
    assert "dead" in str(row.inner_text())
    check_axe(page, "sites-dead", axe_log)
    shots(page, "sites-dead")
    page.check(f"#site-{site.blog_id}")
    page.fill("#reason", "The site is back up")
    with page.expect_navigation():
        page.click("button[name=which][value=selected]")
    assert text(page, "#queued").startswith("1 push queued.")
    check_axe(page, "sites-queued", axe_log)

    def applied() -> dict[str, Any] | None:
        state = bridge_server.api("GET", f"/sites/{site.blog_id}")["limits"]
        done = state["applied_version"] == state["desired_version"]
        return state if done else None

    state = wait_for("the repush", applied)
    assert state["limits"]["users"] == 7
    operator.goto("/sites?show=dead")
    assert page.locator(f"#site-{site.blog_id}").count() == 0
    operator.goto("/sites")
    row = page.locator(f"main tbody tr:has(#site-{site.blog_id})")
    assert "connection refused" not in str(row.inner_text())
    check_axe(page, "sites-all", axe_log)
    operator.goto("/audit")
    newest = text(page, "main table tbody tr:first-child")
    assert "limits.repush" in newest and "The site is back up" in newest


def test_the_dashboard_figures_match_the_api(
    operator: OperatorConsole,
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    runtime: Any,
    shots: Shots,
    axe_log: list[str],
) -> None:
    """Revenue and members per plan computed here from GET /api/v1/sites/{id} of every site the
    bridge knows (their ids read from its database), independently of the dashboard's code."""
    from sqlalchemy import select

    from bridge.adapters.storage.models import SiteRow
    from bridge.domain.money import parse_amount, round_minor

    page = operator.page
    member_on(bridge_server, wp_network, "premium", "dashprem")
    member_on(bridge_server, wp_network, "premium", "dashprem2")
    open_site = new_site(wp_network, bridge_server, "dashopen", "en_US")
    pending_change(bridge_server, open_site.blog_id, "premium")

    with runtime.engine.connect() as conn:
        site_ids = [int(i) for i in conn.execute(select(SiteRow.id)).scalars()]
    revenue: dict[str, Fraction] = {}
    plans: dict[str, int] = {}
    for site_id in site_ids:
        view = bridge_server.site(site_id)
        m = (view or {}).get("membership")
        if not m:
            continue
        plans[m["plan"]["id"]] = plans.get(m["plan"]["id"], 0) + 1
        if m["status"] not in ("active", "past_due"):
            continue
        cur, billing = m["currency"], m["billing"]
        value = Fraction(parse_amount(m["price"], cur)) / (
            MONTHS[billing["unit"]] * billing["every"]
        )
        for addon in m["addons"]:  # every add-on of config.yaml is billed monthly
            value += addon["quantity"] * parse_amount(addon["price"], cur)
        revenue[cur] = revenue.get(cur, Fraction(0)) + value
    assert plans.get("premium", 0) >= 3 and plans.get("free", 0) >= 1

    operator.goto("/dashboard")
    shown = {
        str(cur): str(minor)
        for cur, minor in page.locator("#mrr tbody tr").evaluate_all(
            "rows => rows.filter(r => r.cells[1] && r.cells[1].dataset.minor)"
            ".map(r => [r.cells[0].textContent, r.cells[1].dataset.minor])"
        )
    }
    assert shown == {cur: str(round_minor(v)) for cur, v in revenue.items()}
    members = {
        str(plan): int(n)
        for plan, n in page.locator("#members td[data-plan]").evaluate_all(
            "cells => cells.map(c => [c.dataset.plan, c.textContent])"
        )
    }
    assert members == plans
    assert "Before tax" in text(page, "main")
    # Only the invoice left open above; the dead push of the journey before was repushed.
    assert text(page, "#open-invoices") == "1"
    assert text(page, "#dead-pushes") == "0"
    check_axe(page, "dashboard", axe_log)
    shots(page, "dashboard")
    operator.goto("/events")
    assert re.search(r"site\.created", text(page, "main table"))
    check_axe(page, "events", axe_log)
    shots(page, "events")


def test_a_viewer_cannot_change_anything(
    bridge_server: BridgeServer,
    wp_network: WordPressNetwork,
    browser: Any,
    shots: Shots,
    axe_log: list[str],
) -> None:
    """Signed in with a viewer's link (what `bridge admin-link --role viewer` prints)."""
    from bridge.contract import ADMIN_LINK_TTL_S, mint_operator_token

    site = new_site(wp_network, bridge_server, "viewer", "en_US")
    membership_id = bridge_server.api("GET", f"/sites/{site.blog_id}")["membership"]["id"]
    invoice = pending_change(bridge_server, site.blog_id, "premium")["invoice"]
    token = mint_operator_token(
        bridge_server.secret,
        {
            "user_id": 0,
            "login": "cli-viewer",
            "role": "viewer",
            "exp": int(time.time()) + ADMIN_LINK_TTL_S,
            "jti": secrets.token_urlsafe(16),
        },
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_S * 1000)
        page.goto(f"{bridge_server.url}/admin/sign-in?{urlencode({'token': token})}")
        assert "cli-viewer (viewer)" in text(page, "header")
        console = f"{bridge_server.url}/admin"
        for path in (
            f"/memberships/{membership_id}",
            "/invoices",
            "/sites?show=all",
            "/dashboard",
        ):
            page.goto(f"{console}{path}")
            # The only form a viewer sees is the header's Sign out.
            assert page.locator("main form[method=post]").count() == 0, path
        page.goto(f"{console}/memberships/{membership_id}")
        check_axe(page, "membership-viewer", axe_log)
        csrf = page.input_value("header input[name=csrf]")
        before = bridge_server.api("GET", f"/sites/{site.blog_id}")
        for path, form in (
            (
                f"/memberships/{membership_id}/balance",
                {"amount": "5.00", "reason": "r", "confirm": "yes", "once": "x" * 24},
            ),
            (f"/invoices/{invoice['id']}/pay", {"reference": "x", "reason": "r"}),
            ("/sites/repush", {"which": "dead", "reason": "r"}),
        ):
            answer = page.request.post(f"{console}{path}", form={"csrf": csrf, **form})
            assert answer.status == 403, path
            assert "Your role (viewer) cannot change anything." in answer.text()
        after = bridge_server.api("GET", f"/sites/{site.blog_id}")
        assert after["membership"] == before["membership"]
        assert after["limits"]["desired_version"] == before["limits"]["desired_version"]
        assert bridge_server.api("GET", f"/invoices/{invoice['id']}")["status"] == "open"
    finally:
        context.close()
