"""After `bridge import ultimate-multisite`, an imported owner on the imported Free plan sees its
group's plans on the Change page and the imported limits on the Account page.

Real parts: the WordPress network's MariaDB holds the Ultimate Multisite tables (the fixture of
tests/integration/wordpress/um_network.py, with membership 1 on UM's Free + 1 Extra Site), the
import runs as the `bridge` command against the running `bridge serve`, and Chromium drives
wp-admin and the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.e2e.journey import Journey
from tests.integration.wordpress import um_network

pytestmark = [pytest.mark.browser, pytest.mark.wordpress]
ROOT = Path(__file__).resolve().parents[2]


def _row(journey: Journey, label: str) -> str:
    row = journey.page.locator("#plan-bridge-limits tr", has_text=label).first
    return str(row.locator("td span").inner_text()).strip()


def test_imported_free_owner_sees_its_group_and_its_limits(journey: Journey) -> None:
    network = journey.network
    others = [network.create_site(network.next_slug(f"umj{n}")) for n in range(2)]
    sites = [journey.site, *others]
    writer, reader = um_network.database_users(network)
    try:
        _journey(journey, writer, reader, sites)
    finally:
        um_network.reset(writer)


def _journey(journey: Journey, writer: str, reader: str, sites: list[Any]) -> None:
    bridge = journey.bridge
    um_network.build(writer, [s.owner_id for s in sites], [s.blog_id for s in sites])
    engine = create_engine(writer, poolclass=NullPool)
    with engine.begin() as conn:  # membership 1 on UM's Free, with one Extra Site
        conn.execute(text("UPDATE wp_wu_memberships SET plan_id = 1, amount = 5 WHERE id = 1"))
    engine.dispose()

    env = {
        **os.environ,
        **bridge.env,
        "BRIDGE_UM_DATABASE_URL": reader,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "import", "ultimate-multisite"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "import batch 1 written" in done.stdout
    view = bridge.wait_settled(journey.site.blog_id, plan="1")
    assert view["membership"]["plan"]["name"] == "Free"

    journey.log_in()
    journey.open_account()
    journey.shot("account-imported-free")
    assert _row(journey, "Visits this month").endswith("/ 1,000")
    assert _row(journey, "Disk space").endswith("/ 800 MB")  # the site's own UM override
    assert _row(journey, "Users").endswith("/ unlimited")  # Free's users module is off
    assert _row(journey, "Posts").endswith("/ 10")
    assert _row(journey, "Custom domains").endswith("/ 0")  # domain mapping off

    journey.click_change()
    offered = journey.page.locator("input[name=choice]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    journey.shot("change-imported-group")
    plans = {value.split(":")[0] for value in offered}
    assert plans - {"1"} == {"2", "3"}, offered  # Starter and Pro of group "main", nothing else
    assert "2:1-year" in offered and "3:1-year" in offered
