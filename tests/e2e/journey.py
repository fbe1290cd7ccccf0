"""The parts of a browser journey: the bridge seen by an operator, and one owner's trip."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tests.wordpress.harness import Site, WordPressNetwork

WAIT_S = 30.0


@dataclass
class BridgeServer:
    """The running bridge and an operator's view of it (the admin token)."""

    url: str
    admin_token: str
    log_path: Path
    secret: str = ""
    # The BRIDGE_* environment it runs with (its database), for set-up in the test's own process.
    env: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
            **kwargs,
        )
        with response:
            assert response.status_code < 300, (
                f"{method} {path}: {response.status_code} {response.text}"
            )
            return response.json()

    def site(self, site_id: int) -> dict[str, Any] | None:
        response = requests.get(
            f"{self.url}/api/v1/sites/{site_id}",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        with response:
            if response.status_code == 404:
                return None
            assert response.status_code == 200, response.text
            doc: dict[str, Any] = response.json()
            return doc

    def wait_settled(self, site_id: int, plan: str | None = None) -> dict[str, Any]:
        """Wait until the site has a membership (on `plan`) whose limits the site applied."""
        deadline = time.monotonic() + WAIT_S
        view: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            view = self.site(site_id)
            if view and view.get("membership"):
                limits = view["limits"]
                on_plan = plan is None or view["membership"]["plan"]["id"] == plan
                if on_plan and 0 < limits["desired_version"] <= limits["applied_version"]:
                    return view
            time.sleep(0.1)
        raise AssertionError(f"site {site_id} did not settle on {plan or 'a plan'}: {view}")

    def report_usage(self, site_id: int, usage: dict[str, Any]) -> None:
        """A signed usage.reported event, as the plugin sends it (e.g. disk the lab cannot fill)."""
        from bridge.contract import events_webhook, sign_headers

        body = json.dumps({"type": "usage.reported", "data": {"site_id": site_id, "usage": usage}})
        headers = sign_headers(
            events_webhook(self.secret), uuid.uuid4().hex, datetime.now(UTC), body
        )
        with requests.post(
            f"{self.url}/webhooks/wordpress",
            data=body,
            headers={**headers, "Content-Type": "application/json"},
            timeout=30,
        ) as response:
            assert response.status_code < 300, response.text

    def change_plan(self, site_id: int, plan: str) -> None:
        """What an operator or an earlier checkout did: move the site to `plan` now."""
        quote = self.api(
            "POST",
            f"/sites/{site_id}/quotes",
            json={"plan": plan, "billing": {"every": 1, "unit": "month"}},
        )
        outcome = self.api("POST", f"/quotes/{quote['id']}/commit")
        assert outcome["status"] == "applied", outcome
        self.wait_settled(site_id, plan)


def make_events_due(network: WordPressNetwork, site_url: str | None = None) -> None:
    """Send the plugin's queued events now, and report the site's usage now (as WP-Cron would)."""
    network.eval_php(
        "foreach ( array( 'plan_bridge_report_usage', 'plan_bridge_send_events' ) as $hook ) {"
        " $t = wp_next_scheduled( $hook ); if ( $t ) { wp_unschedule_event( $t, $hook ); }"
        " wp_schedule_single_event( time() - 1, $hook ); }"
        " foreach ( Bridge_Events::queued( 1000 ) as $e ) { $e['next_at'] = 0;"
        " update_site_option( Bridge_Events::PREFIX . $e['id'], $e ); }",
        site_url,
    )


@dataclass
class Journey:
    """One owner's journey: their site, the bridge, a browser page and numbered screenshots."""

    network: WordPressNetwork
    bridge: BridgeServer
    site: Site
    page: Any
    shots_dir: Path
    started: float = field(default_factory=time.perf_counter)
    notes: list[str] = field(default_factory=list)
    _count: int = 0

    def note(self, text: str) -> None:
        """A measurement for this journey's timings.txt."""
        self.notes.append(text)

    def response_ms(self) -> float:
        """How long the current page took from request to last byte (Navigation Timing)."""
        return float(
            self.page.evaluate(
                "() => { const n = performance.getEntriesByType('navigation')[0];"
                " return n.responseEnd - n.requestStart; }"
            )
        )

    @property
    def account_url(self) -> str:
        return f"{self.site.url}wp-admin/admin.php?page=plan-bridge-account"

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        self._count += 1
        path = self.shots_dir / f"{self._count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def axe(self, state: str, allowed: dict[str, str]) -> list[str]:
        """axe-core on the page as it is: no serious or critical violation, and a moderate or
        minor one only when `allowed` lists its rule with a reason. Returns the rules found."""
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        found = []
        for violation in results.response["violations"]:
            rule, impact = violation["id"], violation.get("impact")
            targets = [n.get("target") for n in violation.get("nodes", [])][:3]
            found.append(f"{state}: {rule} ({impact}) {targets}")
            assert impact not in ("serious", "critical"), f"{state}: {rule} {impact} {targets}"
            assert rule in allowed, f"{state}: {rule} ({impact}) is not listed: {targets}"
        self.notes.append(f"axe {state}: {len(found)} violation(s) {found}")
        return found

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.site.url}wp-login.php")
        page.fill("#user_login", self.site.owner)
        page.fill("#user_pass", self.site.owner_password)
        page.click("#wp-submit")
        page.wait_for_url(re.compile(r".*/wp-admin/.*"))
        page.wait_for_selector("#wpadminbar")

    def open_account(self) -> None:
        self.page.goto(self.account_url)
        self.page.wait_for_selector("#plan-bridge-membership")

    def click_change(self) -> None:
        """The Change button of "Your Membership": through admin-post.php to the checkout."""
        self.page.locator(
            "#plan-bridge-membership .postbox-header button[type=submit]"
        ).first.click()
        self.page.wait_for_url(f"{self.bridge.url}/checkout/sites/{self.site.blog_id}")
        self.page.wait_for_selector("#order-summary")

    def pick(self, plan: str, billing: str = "1-month") -> None:
        """Pick a plan's billing option and wait for the summary to show it."""
        value = f"{plan}:{billing}"
        with self.page.expect_response(re.compile(r".*/summary$")):
            self.page.check(f"input[name=choice][value='{value}']")
        self.page.wait_for_function(
            "v => (document.querySelector(\"input[name='addons-for']\") || {}).value === v.split(':')[0]",
            arg=value,
        )

    def publish_post(self, title: str) -> str:
        """Publish a post as the owner, the way WordPress's editor saves it; its final status."""
        return publish_post(self.network, self.site, title)

    def report_usage(self, posts: int) -> None:
        """Let the plugin report the site's usage to the bridge and wait until it arrived."""
        report_usage(self.network, self.bridge, self.site, posts)


def publish_post(network: WordPressNetwork, site: Site, title: str) -> str:
    """Publish a post as the site's owner, the way WordPress's editor saves it; its status."""
    return network.eval_php(
        "wp_set_current_user( $args['user'] );"
        " $id = wp_insert_post( array( 'post_title' => $args['title'],"
        " 'post_status' => 'publish', 'post_type' => 'post' ), true );"
        " echo is_wp_error( $id ) ? 'error:' . $id->get_error_code() : get_post_status( $id );",
        site.url,
        args={"user": site.owner_id, "title": title},
    ).strip()


def report_usage(network: WordPressNetwork, bridge: BridgeServer, site: Site, posts: int) -> None:
    """Let the plugin report the site's usage (its WP-Cron events, run now) and wait until the
    bridge counts at least `posts` posts."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        make_events_due(network, site.url)
        network.run_cron(site.url)
        make_events_due(network)
        network.run_cron()
        view = bridge.site(site.blog_id) or {}
        reported = (view.get("site") or {}).get("usage", {}).get("posts", {}).get("post", 0)
        if reported >= posts:
            return
        time.sleep(0.2)
    raise AssertionError(f"the bridge never saw {posts} posts on site {site.blog_id}")


def new_site(
    network: WordPressNetwork,
    bridge: BridgeServer,
    hint: str,
    locale: str,
    *,
    slug: str | None = None,
) -> Site:
    """A subsite whose site.created event reached the bridge and whose limits are applied.

    Its slug is `slug`, or a fresh one made from `hint` (network.next_slug).
    """
    site = network.create_site(slug or network.next_slug(hint), owner_locale=locale)
    deadline = time.monotonic() + WAIT_S
    while bridge.site(site.blog_id) is None or not (bridge.site(site.blog_id) or {}).get(
        "membership"
    ):
        assert time.monotonic() < deadline, f"site.created of {site.blog_id} never arrived"
        make_events_due(network)
        network.run_cron()
        time.sleep(0.1)
    bridge.wait_settled(site.blog_id)
    return site
