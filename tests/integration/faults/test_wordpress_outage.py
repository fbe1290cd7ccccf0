"""The real WordPress network unreachable past the push retry budget, then back: every site
converges without an operator, and the owner's Account page shows the new plan and limits.

Real parts: the harness's WordPress multisite (MariaDB, `php -S`, the plugin) and `bridge serve`
on the port WordPress knows, with short retry settings (2 attempts, then dead; the reconcile
tries dead pushes again after 2 s, then 4 s) instead of the defaults (8 attempts; 15 min doubling
to 6 h). The web server is stopped with the harness's `stop_web` and started again on its port.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.journey import BridgeServer, new_site
from tests.support.processes import start_server, stop_server, wait_until_listening
from tests.wordpress.harness import Site, WordPressNetwork

pytestmark = [pytest.mark.wordpress, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def bridge(
    wp_network: WordPressNetwork,
    bridge_port: int,
    bridge_url: str,
    bridge_secret: str,
    artifacts_dir: Path,
    tmp_path: Path,
) -> Iterator[BridgeServer]:
    log_path = artifacts_dir / "faults" / "bridge-wordpress-outage.log"
    admin = secrets.token_urlsafe(32)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_CONFIG": str(ROOT / "config.yaml"),
        "BRIDGE_WEBHOOK_SECRET": bridge_secret,
        "BRIDGE_ADMIN_TOKEN": admin,
        "BRIDGE_PUBLIC_URL": bridge_url,
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}",
        "BRIDGE_QUEUE_BACKEND": "sqlite",
        "BRIDGE_QUEUE_PATH": str(tmp_path / "queue.db"),
        "BRIDGE_WORDPRESS_URL": wp_network.url,
        "BRIDGE_WORDPRESS_TIMEOUT_S": "5",
        "BRIDGE_PUSH_MAX_ATTEMPTS": "2",
        "BRIDGE_PUSH_BASE_DELAY_S": "0.2",
        "BRIDGE_PUSH_MAX_DELAY_S": "0.5",
        "BRIDGE_PUSH_DEAD_RETRY_S": "2",
        "BRIDGE_PUSH_DEAD_RETRY_MAX_S": "4",
        "BRIDGE_JOBS_RECONCILE_EVERY_S": "1",
    }
    argv = [
        sys.executable,
        "-m",
        "bridge",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(bridge_port),
    ]
    proc = start_server(argv, log_path=log_path, env=env, cwd=ROOT)
    try:
        wait_until_listening(
            proc, "127.0.0.1", bridge_port, timeout_s=60, log_path=log_path, what="bridge serve"
        )
        yield BridgeServer(bridge_url, admin, log_path, bridge_secret, env)
    finally:
        stop_server(proc)


def account_page(network: WordPressNetwork, site: Site) -> str:
    """The owner's Account page as the plugin renders it, from what it stored."""
    return network.eval_php(
        "wp_set_current_user( (int) $args['user'] ); Bridge_Account_Page::render();",
        site.url,
        args={"user": site.owner_id},
    )


def test_the_network_down_past_the_retry_budget_heals_without_an_operator(
    wp_network: WordPressNetwork, bridge: BridgeServer
) -> None:
    sites = [new_site(wp_network, bridge, f"outage-{n}", "en_US") for n in range(2)]
    wp_network.stop_web()
    try:
        for site in sites:
            quote = bridge.api("POST", f"/sites/{site.blog_id}/quotes", json={"plan": "premium"})
            assert bridge.api("POST", f"/quotes/{quote['id']}/commit")["status"] == "applied"
        deadline = time.monotonic() + 60
        while not all((bridge.site(s.blog_id) or {})["limits"]["dead"] for s in sites):
            assert time.monotonic() < deadline, [bridge.site(s.blog_id) for s in sites]
            time.sleep(0.2)
        for site in sites:
            limits = (bridge.site(site.blog_id) or {})["limits"]
            assert limits["applied_version"] < limits["desired_version"]
            assert limits["last_error"]
    finally:
        wp_network.start_web()
    back = time.monotonic()
    for site in sites:
        view = bridge.wait_settled(site.blog_id, "premium")  # no repush: the reconcile does it
        assert not view["limits"]["dead"] and view["limits"]["last_error"] is None
    converged_s = time.monotonic() - back
    for site in sites:
        page = account_page(wp_network, site)
        assert "Premium" in page, page
        assert "10,240 MB" in page, page  # Premium's disk space
    print(f"WordPress back: {len(sites)} dead pushes converged in {converged_s:.1f} s")
