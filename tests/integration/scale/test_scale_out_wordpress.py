"""Two `bridge serve --no-worker` and two `bridge worker` processes on PostgreSQL and Redis,
against the real WordPress network of the test harness (MariaDB, `php -S`, the plugin).

A few real subsites join through signed `site.created` events sent to both servers (one of them
listens on PLAN_BRIDGE_URL, so the plugin's own events reach it too). Then the operator changes
every site's limits three times through both servers' API; after the first round one worker is
killed with SIGKILL and started again (systemd's Restart=on-failure). Every site converges:
the bridge records applied == desired, and WordPress itself (the plugin's stored document, read
inside WordPress) reports the last version with its limits.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.contract import events_webhook, sign_headers
from tests.integration.scale.fleet import (
    AUTH,
    Fleet,
    bridge_env,
    fresh_postgres,
    fresh_redis,
    versions,
    wait_for,
)
from tests.wordpress.harness import Site, WordPressNetwork

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SITES = 4
ROUNDS = 3
CONVERGE_S = 120


def signed_event(url: str, secret: str, event_type: str, data: dict[str, Any]) -> int:
    body = json.dumps({"type": event_type, "data": data})
    headers = sign_headers(events_webhook(secret), secrets.token_hex(8), datetime.now(UTC), body)
    headers["Content-Type"] = "application/json"
    return requests.post(
        f"{url}/webhooks/wordpress", data=body, headers=headers, timeout=30
    ).status_code


def site_created(site: Site) -> dict[str, Any]:
    return {
        "site_id": site.blog_id,
        "url": site.url,
        "name": site.slug,
        "owner": {"user_id": site.owner_id, "email": site.owner_email, "locale": "en_US"},
        "timezone": "UTC",
    }


def wordpress_documents(network: WordPressNetwork, sites: list[Site]) -> dict[int, Any]:
    """What WordPress holds per blog: the plugin's stored limits document (None before one)."""
    code = (
        "$out = array(); foreach ( $args['blogs'] as $b ) {"
        " $out[ $b ] = get_blog_option( $b, 'plan_bridge_limits' ); }"
        " echo wp_json_encode( $out );"
    )
    found = json.loads(network.eval_php(code, args={"blogs": [s.blog_id for s in sites]}))
    return {int(blog): (doc or None) for blog, doc in found.items()}


def converged(
    network: WordPressNetwork, database: str, sites: list[Site], disk_mb: dict[int, int] | None
) -> bool:
    state = versions(database)
    if any(s.blog_id not in state or state[s.blog_id][0] != state[s.blog_id][1] for s in sites):
        return False
    documents = wordpress_documents(network, sites)
    for site in sites:
        doc = documents.get(site.blog_id)
        if not doc or int(doc["version"]) != state[site.blog_id][0]:
            return False
        if disk_mb is not None and doc["limits"].get("disk_mb") != disk_mb[site.blog_id]:
            return False
    return True


def test_two_servers_two_workers_bring_real_wordpress_sites_to_their_new_limits(
    tmp_path: Path, wp_network: WordPressNetwork, bridge_port: int, bridge_secret: str
) -> None:
    sites = [wp_network.create_site(wp_network.next_slug("scale")) for _ in range(SITES)]
    with fresh_postgres() as database, fresh_redis() as queue:
        env = {
            **bridge_env(database, queue, wp_network.url),
            "BRIDGE_WEBHOOK_SECRET": bridge_secret,
        }
        fleet = Fleet(env, tmp_path)
        try:
            servers = [
                fleet.serve("serve-0", "--no-worker", port=bridge_port),
                fleet.serve("serve-1", "--no-worker"),
            ]
            urls = [s.url for s in servers if s.url is not None]
            workers = [fleet.worker(f"worker-{i}") for i in range(2)]
            for n, site in enumerate(sites):
                status = signed_event(
                    urls[n % 2], bridge_secret, "site.created", site_created(site)
                )
                assert status == 204
            wait_for(
                "WordPress holding every site's first document",
                lambda: converged(wp_network, database, sites, None),
                CONVERGE_S,
                fleet.logs,
            )

            wanted: dict[int, int] = {}
            for round_ in range(ROUNDS):
                for n, site in enumerate(sites):
                    wanted[site.blog_id] = 1000 * (round_ + 1) + site.blog_id
                    response = requests.put(
                        f"{urls[(n + round_) % 2]}/api/v1/sites/{site.blog_id}/overrides",
                        json={"scope": "site", "limits": {"disk_mb": wanted[site.blog_id]}},
                        headers=AUTH,
                        timeout=30,
                    )
                    assert response.status_code == 200, response.text
                if round_ == 0:
                    fleet.kill(workers[0])
                    fleet.worker("worker-0-restarted")
            wait_for(
                "WordPress reporting every site's new limits",
                lambda: converged(wp_network, database, sites, wanted),
                CONVERGE_S,
                fleet.logs,
            )
        finally:
            fleet.stop_all()
