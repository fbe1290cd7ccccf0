"""Visits: what counts as one, and the monthly counters' housekeeping, on a real network."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
            MONTHS + " foreach ( $months as $m ) { update_option( 'plan_bridge_visits_' . $m, 7, false ); }"
            " update_option( 'plan_bridge_visits_notes', 'not a counter', false );"
            " wp_schedule_single_event( time() - 1, 'plan_bridge_daily_usage' );"
            " echo wp_json_encode( $months );",
            plugin.site.url,
        )
    )

    wp_network.run_cron(plugin.site.url)

    left = json.loads(
        wp_network.eval_php(
            "global $wpdb; echo wp_json_encode( $wpdb->get_col( \"SELECT option_name FROM"
            " {$wpdb->options} WHERE option_name LIKE 'plan\\\\_bridge\\\\_visits\\\\_%'"
            " ORDER BY option_name\" ) );",
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
    assert bridge_inbox.of_type("usage.reported", plugin.site.blog_id)  # the daily run still reports
