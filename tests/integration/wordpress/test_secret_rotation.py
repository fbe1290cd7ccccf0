"""Secret rotation: pushes signed with PLAN_BRIDGE_SECRET_PREVIOUS are accepted, events use the new.

The previous secret is defined by a test-only mu-plugin written into the network for the test's
duration (wp-config.php constants are read at run time, so an mu-plugin defining the constant is
what the operator's wp-config.php line would be).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.adapters.wordpress import PushRejected, RestLimitsPusher, XmlRpcLimitsPusher
from tests.wordpress.harness import new_webhook_secret

pytestmark = pytest.mark.wordpress

MU_PLUGIN = "plan-bridge-test-previous-secret.php"


def _mu_plugin(wp_network: Any) -> Path:
    return Path(wp_network.docroot) / "wp-content/mu-plugins" / MU_PLUGIN


@pytest.fixture
def previous_secret(wp_network: Any) -> Iterator[str]:
    secret = new_webhook_secret()
    _mu_plugin(wp_network).write_text(
        f"<?php\ndefine( 'PLAN_BRIDGE_SECRET_PREVIOUS', '{secret}' );\n"
    )
    try:
        yield secret
    finally:
        _mu_plugin(wp_network).unlink(missing_ok=True)


def _push(plugin: Any, secret: str, transport: str) -> Any:
    cls = RestLimitsPusher if transport == "rest" else XmlRpcLimitsPusher
    pusher = cls(secret, timeout_s=10.0)
    doc = plugin.document({"users": 5}, plugin.next_version())
    try:
        return pusher.push_site(
            plugin.network.url, doc, datetime.now(UTC), f"msg_rot_{doc['version']}"
        )
    finally:
        pusher.close()


@pytest.mark.parametrize("transport", ["rest", "xmlrpc"])
def test_pushes_signed_with_the_previous_or_the_current_secret_are_accepted(
    plugin: Any, previous_secret: str, transport: str
) -> None:
    old = _push(plugin, previous_secret, transport)
    new = _push(plugin, plugin.secret, transport)

    assert old.ignored is False and new.ignored is False
    assert plugin.option("plan_bridge_limits")["version"] == new.applied_version
    with pytest.raises(PushRejected) as rejected:
        _push(plugin, new_webhook_secret(), transport)
    assert rejected.value.status == 401


def test_once_the_previous_secret_is_removed_its_pushes_are_refused(
    plugin: Any, wp_network: Any, previous_secret: str
) -> None:
    assert _push(plugin, previous_secret, "rest").ignored is False
    _mu_plugin(wp_network).unlink()

    with pytest.raises(PushRejected) as rejected:
        _push(plugin, previous_secret, "rest")
    assert rejected.value.status == 401


def test_events_are_signed_with_the_current_secret_during_a_rotation(
    plugin: Any, wp_network: Any, previous_secret: str, bridge_inbox: Any
) -> None:
    version = _push(plugin, previous_secret, "rest").applied_version

    # Each cron run sends the network's 50 oldest events; earlier tests may have left some.
    for _ in range(40):
        wp_network.run_cron(plugin.site.url)
        if bridge_inbox.of_type("limits.applied", plugin.site.blog_id):
            break

    applied = bridge_inbox.of_type("limits.applied", plugin.site.blog_id)
    assert [e["data"]["version"] for e in applied] == [version]  # the inbox knows only the current
    assert bridge_inbox.refused == 0


def test_no_secret_shows_on_the_network_page_or_in_the_log(
    wp_network: Any, previous_secret: str
) -> None:
    session = requests.Session()
    try:
        session.get(f"{wp_network.url}wp-login.php", timeout=30).close()
        login = session.post(
            f"{wp_network.url}wp-login.php",
            data={
                "log": wp_network.admin_user,
                "pwd": wp_network.admin_password,
                "testcookie": "1",
            },
            allow_redirects=False,
            timeout=30,
        )
        login.close()
        assert login.status_code == 302
        with session.get(
            f"{wp_network.url}wp-admin/network/settings.php?page=plan-bridge", timeout=30
        ) as page:
            assert page.status_code == 200
            text = page.text
    finally:
        session.close()

    assert "PLAN_BRIDGE_SECRET_PREVIOUS" in text
    log = wp_network.debug_log()
    for secret in (previous_secret, wp_network.secret):
        body = secret.removeprefix("whsec_")
        for shown in (text, log):
            assert body[:12] not in shown
            assert body[-12:] not in shown
