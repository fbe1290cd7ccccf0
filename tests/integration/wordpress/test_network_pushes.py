"""Pushes addressed to the network: the main site applies a document to the blog it names."""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bridge.adapters.wordpress import PushRejected, RestLimitsPusher, XmlRpcLimitsPusher
from bridge.contract import push_webhook, sign_headers

pytestmark = pytest.mark.wordpress

TRANSPORTS = ("rest", "xmlrpc")


def _pusher(plugin: Any, transport: str) -> RestLimitsPusher | XmlRpcLimitsPusher:
    return plugin.rest if transport == "rest" else plugin.xmlrpc


def _push_to_network(
    plugin: Any, limits: dict[str, Any], version: int, transport: str, site_id: int | None = None
) -> Any:
    doc = plugin.document(limits, version)
    if site_id is not None:
        doc["site_id"] = site_id
    msg_id = f"msg_net_{doc['site_id']}_{version}_{transport}"
    return _pusher(plugin, transport).push_site(plugin.network.url, doc, datetime.now(UTC), msg_id)


def _signed(plugin: Any, doc: dict[str, Any], msg_id: str) -> tuple[str, dict[str, str]]:
    body = json.dumps(doc, separators=(",", ":"))
    return body, sign_headers(push_webhook(plugin.secret), msg_id, datetime.now(UTC), body)


def _main_site_document(plugin: Any) -> Any:
    return json.loads(
        plugin.network.eval_php("echo wp_json_encode( get_option( 'plan_bridge_limits' ) );")
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_push_to_the_network_url_applies_to_the_blog_the_document_names(
    plugin: Any, transport: str
) -> None:
    version = plugin.next_version()

    result = _push_to_network(plugin, {"posts": {"post": 0}}, version, transport)

    assert (result.applied_version, result.ignored) == (version, False)
    stored = plugin.option("plan_bridge_limits")
    assert (stored["site_id"], stored["version"]) == (plugin.site.blog_id, version)
    assert stored["limits"] == {"posts": {"post": 0}}
    refused = plugin.publish("Over the limit pushed through the network")
    assert refused.status_code == 403
    assert refused.json()["code"] == "bridge_limit_reached"
    main = _main_site_document(plugin)
    assert main is False or main.get("site_id") != plugin.site.blog_id
    # The blog that got the document queued its own limits.applied event and usage report.
    scheduled = plugin.network.eval_php(
        "echo wp_next_scheduled( 'plan_bridge_send_events' ) ? 'yes' : 'no';", plugin.site.url
    )
    assert scheduled == "yes"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_version_rule_holds_for_network_addressed_pushes(plugin: Any, transport: str) -> None:
    version = plugin.next_version()
    _push_to_network(plugin, {"users": 3}, version, transport)

    older = _push_to_network(plugin, {"users": 9}, version - 1, transport)
    same = plugin.push({"users": 9}, version, transport=transport)  # per-site push, same version

    assert (older.applied_version, older.ignored) == (version, True)
    assert (same.applied_version, same.ignored) == (version, False)
    assert plugin.option("plan_bridge_limits")["limits"] == {"users": 3}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_network_push_for_a_blog_that_does_not_exist_is_refused(
    plugin: Any, transport: str
) -> None:
    missing = plugin.site.blog_id + 10_000
    with pytest.raises(PushRejected) as rejected:
        _push_to_network(plugin, {"users": 1}, plugin.next_version(), transport, site_id=missing)
    assert rejected.value.status == 404
    assert rejected.value.retryable is False
    main = _main_site_document(plugin)
    assert main is False or main.get("site_id") != missing


def test_the_rest_answer_for_an_unknown_blog_carries_a_code(plugin: Any) -> None:
    doc = plugin.document({}, plugin.next_version())
    doc["site_id"] = plugin.site.blog_id + 10_000
    body, headers = _signed(plugin, doc, "msg_unknown_blog")
    response = requests.post(
        f"{plugin.network.url}wp-json/bridge/v1/limits",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )
    response.close()
    assert response.status_code == 404
    assert response.json()["code"] == "bridge_unknown_site"


@pytest.mark.parametrize("flag", ["archived", "deleted", "spam"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_network_push_for_an_archived_deleted_or_spam_blog_stores_nothing(
    plugin: Any, transport: str, flag: str
) -> None:
    plugin.network.eval_php(
        "update_blog_status( (int) $args['id'], $args['flag'], '1' );",
        args={"id": plugin.site.blog_id, "flag": flag},
    )
    try:
        with pytest.raises(PushRejected) as rejected:
            _push_to_network(plugin, {"users": 1}, plugin.next_version(), transport)
    finally:
        plugin.network.eval_php(
            "update_blog_status( (int) $args['id'], $args['flag'], '0' );",
            args={"id": plugin.site.blog_id, "flag": flag},
        )
    assert rejected.value.status == 404
    assert plugin.option("plan_bridge_limits") is False


def test_a_document_for_another_blog_sent_to_a_subsite_is_still_refused(
    plugin: Any, wp_network: Any
) -> None:
    other = wp_network.create_site(wp_network.next_slug("other"))
    doc = plugin.document({}, plugin.next_version())
    doc["site_id"] = other.blog_id
    with pytest.raises(PushRejected) as rejected:
        plugin.rest.push_site(plugin.site.url, doc, datetime.now(UTC), "msg_sideways")
    assert rejected.value.status == 400
    with (
        xmlrpc.client.ServerProxy(f"{plugin.site.url}xmlrpc.php") as proxy,
        pytest.raises(xmlrpc.client.Fault) as fault,
    ):
        body, headers = _signed(plugin, doc, "msg_sideways_x")
        proxy.bridge.setLimits(
            body, headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
        )
    assert fault.value.faultCode == 400
