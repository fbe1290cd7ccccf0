"""Visits: what counts as one, and the monthly counters' housekeeping, on a real network."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.wordpress

MONTHS = (
    "$tz = wp_timezone();"
    " $this_month = new DateTimeImmutable( 'first day of this month 12:00', $tz );"
    " $months = array( 'current' => $this_month->format( 'Ym' ),"
    " 'previous' => $this_month->modify( '-1 month' )->format( 'Ym' ),"
    " 'older' => $this_month->modify( '-2 months' )->format( 'Ym' ), 'ancient' => '201901' );"
)


def test_the_daily_cron_removes_counters_older_than_last_month(
    plugin: Any, wp_network: Any, bridge_inbox: Any
) -> None:
    months = json.loads(
        wp_network.eval_php(
            MONTHS
            + " foreach ( $months as $m ) { update_option( 'plan_bridge_visits_' . $m, 7, false ); }"
            " update_option( 'plan_bridge_visits_notes', 'not a counter', false );"
            " wp_schedule_single_event( time() - 1, 'plan_bridge_daily_usage' );"
            " echo wp_json_encode( $months );",
            plugin.site.url,
        )
    )

    wp_network.run_cron(plugin.site.url)

    left = json.loads(
        wp_network.eval_php(
            'global $wpdb; echo wp_json_encode( $wpdb->get_col( "SELECT option_name FROM'
            " {$wpdb->options} WHERE option_name LIKE 'plan\\\\_bridge\\\\_visits\\\\_%'"
            ' ORDER BY option_name" ) );',
            plugin.site.url,
        )
    )
    assert left == sorted(
        [
            f"plan_bridge_visits_{months['previous']}",
            f"plan_bridge_visits_{months['current']}",
            "plan_bridge_visits_notes",
        ]
    )
    # The daily run still reports usage (each cron run sends the network's 50 oldest events).
    for _ in range(40):
        if bridge_inbox.of_type("usage.reported", plugin.site.blog_id):
            break
        wp_network.run_cron(plugin.site.url)
    assert bridge_inbox.of_type("usage.reported", plugin.site.blog_id)


BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


def _view(url: str, user_agent: str | None, session: requests.Session | None = None) -> int:
    client = session or requests
    headers = {"User-Agent": user_agent} if user_agent is not None else {}
    if user_agent == "":
        headers = {"User-Agent": ""}
    with client.get(url, headers=headers, timeout=30) as response:
        return response.status_code


def _visits(plugin: Any) -> int:
    return int(plugin.network.eval_php("echo Bridge_Visits::this_month();", plugin.site.url))


@pytest.mark.slow
def test_a_thousand_views_from_one_visitor_count_as_one_visit(plugin: Any) -> None:
    plugin.push({"visits": 100})
    wp_network = plugin.network
    wp_network.set_network_option("plan_bridge_visits_over_limit", "unavailable")

    def hammer(n: int) -> list[int]:
        # Mostly HEAD (WordPress stops right after template_redirect, where visits are counted),
        # every tenth a full GET: the same counting path at a fraction of the rendering cost.
        with requests.Session() as session:
            statuses = []
            for i in range(n):
                if i % 10 == 0:
                    statuses.append(_view(plugin.site.url, BROWSER, session))
                else:
                    with session.head(
                        plugin.site.url, headers={"User-Agent": BROWSER}, timeout=30
                    ) as response:
                        statuses.append(response.status_code)
            return statuses

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = [s for chunk in pool.map(hammer, [250] * 4) for s in chunk]
    finally:
        wp_network.set_network_option("plan_bridge_visits_over_limit", "notice")
    elapsed_s = time.monotonic() - started

    assert len(statuses) == 1000
    assert set(statuses) == {200}, elapsed_s  # never pushed into the 503 page
    assert _visits(plugin) == 1
    print(f"1,000 views from one visitor: {elapsed_s:.1f} s")


def test_bots_count_no_visit(plugin: Any) -> None:
    plugin.push({"visits": 100})
    for agent in (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "Wget/1.21.3",
        "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0 Safari/537.36",
        "",
    ):
        assert _view(plugin.site.url, agent) == 200
    assert _visits(plugin) == 0


def test_two_browsers_at_one_address_are_two_visits_and_no_address_is_stored(
    plugin: Any,
) -> None:
    plugin.push({"visits": 100})
    for _ in range(3):
        _view(plugin.site.url, BROWSER)
        _view(plugin.site.url, BROWSER + " Edg/126.0")
    assert _visits(plugin) == 2
    seen = plugin.network.eval_php(
        'global $wpdb; echo $wpdb->get_var( "SELECT GROUP_CONCAT( option_value ) FROM'
        " {$wpdb->options} WHERE option_name LIKE 'plan\\\\_bridge\\\\_%'\" );",
        plugin.site.url,
    )
    assert "127.0.0.1" not in seen
    assert "Chrome" not in seen
