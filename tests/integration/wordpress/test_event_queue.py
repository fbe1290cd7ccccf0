"""The event queue when the bridge is away for long: coalesced usage, a cap that keeps site events.

Each test runs its scenario inside one database transaction that is rolled back at the end, so
the network's real queue (shared by the other tests) is left as it was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.wordpress

# Runs $args['scenario'] between START TRANSACTION and ROLLBACK, with an empty queue at the start.
# Helpers: $fill( $type, $n, $first_site ) queues n events straight into the table (as a backlog
# that built up while the bridge was away); $types() lists the queued types, oldest first.
SANDBOX = r"""
global $wpdb;
$wpdb->query( 'START TRANSACTION' );
$wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s",
    $wpdb->esc_like( Bridge_Events::PREFIX ) . '%' ) );
delete_site_option( 'plan_bridge_events_dropped' );
$fill = static function ( $type, $n, $first_site ) {
    for ( $i = 0; $i < $n; $i++ ) {
        Bridge_Events::enqueue( $type, array( 'site_id' => $first_site + $i, 'usage' => array() ) );
    }
};
$bodies = static function () {
    return array_map( static function ( $e ) { return json_decode( $e['body'], true ); },
        Bridge_Events::queued( 5000 ) );
};
$out = array();
eval( $args['scenario'] );
$wpdb->query( 'ROLLBACK' );
echo wp_json_encode( $out );
"""


def _sandbox(wp_network: Any, scenario: str) -> dict[str, Any]:
    return json.loads(wp_network.eval_php(SANDBOX, args={"scenario": scenario}, timeout_s=120))


def test_usage_reports_are_coalesced_to_the_newest_per_site(wp_network: Any) -> None:
    out = _sandbox(
        wp_network,
        "foreach ( array( 1, 2, 3 ) as $n ) {"
        " Bridge_Events::enqueue( 'usage.reported', array( 'site_id' => 7, 'usage' => array( 'visits' => $n ) ) ); }"
        " Bridge_Events::enqueue( 'usage.reported', array( 'site_id' => 8, 'usage' => array( 'visits' => 9 ) ) );"
        " Bridge_Events::enqueue( 'limits.applied', array( 'site_id' => 7, 'version' => 1 ) );"
        " Bridge_Events::enqueue( 'limits.applied', array( 'site_id' => 7, 'version' => 2 ) );"
        " $out['queued'] = $bodies();",
    )
    assert out["queued"] == [
        {"type": "usage.reported", "data": {"site_id": 7, "usage": {"visits": 3}}},
        {"type": "usage.reported", "data": {"site_id": 8, "usage": {"visits": 9}}},
        {"type": "limits.applied", "data": {"site_id": 7, "version": 1}},
        {"type": "limits.applied", "data": {"site_id": 7, "version": 2}},
    ]


def test_a_full_queue_drops_the_oldest_usage_reports_and_keeps_site_events(
    wp_network: Any,
) -> None:
    out = _sandbox(
        wp_network,
        "$fill( 'usage.reported', 600, 1000 ); $fill( 'site.created', 400, 5000 );"
        " $out['before'] = Bridge_Events::count_queued();"
        " $out['deleted_id'] = Bridge_Events::enqueue( 'site.deleted', array( 'site_id' => 9001 ) );"
        " for ( $v = 1; $v <= 10; $v++ ) {"
        " Bridge_Events::enqueue( 'limits.applied', array( 'site_id' => 9002, 'version' => $v ) ); }"
        " $queued = $bodies();"
        " $out['after'] = count( $queued );"
        " $out['first_usage_site'] = null;"
        " foreach ( $queued as $e ) { if ( 'usage.reported' === $e['type'] ) {"
        " $out['first_usage_site'] = $e['data']['site_id']; break; } }"
        " $out['site_events'] = count( array_filter( $queued, static function ( $e ) {"
        " return 'usage.reported' !== $e['type']; } ) );"
        " $out['dropped'] = get_site_option( 'plan_bridge_events_dropped' );",
    )
    assert out["before"] == 1000
    assert out["deleted_id"]
    assert out["after"] == 1000
    assert out["site_events"] == 400 + 1 + 10
    assert out["first_usage_site"] == 1000 + 11  # the eleven oldest usage reports went
    assert out["dropped"]["count"] == 11


def test_site_events_are_kept_beyond_the_cap_and_a_new_usage_report_is_dropped(
    wp_network: Any,
) -> None:
    out = _sandbox(
        wp_network,
        "$fill( 'site.created', 1000, 1 );"
        " $out['deleted_id'] = Bridge_Events::enqueue( 'site.deleted', array( 'site_id' => 1 ) );"
        " $out['applied_id'] = Bridge_Events::enqueue( 'limits.applied', array( 'site_id' => 1, 'version' => 3 ) );"
        " $out['usage_id'] = Bridge_Events::enqueue( 'usage.reported', array( 'site_id' => 1, 'usage' => array() ) );"
        " $out['count'] = Bridge_Events::count_queued();"
        " $out['dropped'] = get_site_option( 'plan_bridge_events_dropped' );",
    )
    assert out["deleted_id"] and out["applied_id"]
    assert out["usage_id"] is None
    assert out["count"] == 1002
    assert out["dropped"]["count"] == 1


def test_the_network_page_shows_how_many_usage_reports_were_dropped(wp_network: Any) -> None:
    wp_network.set_network_option(
        "plan_bridge_events_dropped", {"count": 1234, "last_at": 1_776_000_000}
    )
    session = requests.Session()
    try:
        session.get(f"{wp_network.url}wp-login.php", timeout=30).close()
        session.post(
            f"{wp_network.url}wp-login.php",
            data={
                "log": wp_network.admin_user,
                "pwd": wp_network.admin_password,
                "testcookie": "1",
            },
            allow_redirects=False,
            timeout=30,
        ).close()
        with session.get(
            f"{wp_network.url}wp-admin/network/settings.php?page=plan-bridge", timeout=30
        ) as page:
            assert page.status_code == 200
            text = page.text
    finally:
        session.close()
        wp_network.eval_php("delete_site_option( 'plan_bridge_events_dropped' );")
    assert "Usage reports dropped because the queue was full" in text
    assert "1,234" in text
