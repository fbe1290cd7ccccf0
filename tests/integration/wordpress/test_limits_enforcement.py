"""The plugin against a real multisite network: pushes, the version rule, and enforcement."""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from bridge.adapters.wordpress import RestLimitsPusher, XmlRpcLimitsPusher
from bridge.contract import push_webhook, sign_headers
from bridge.errors import PushRejected

pytestmark = pytest.mark.wordpress

ACCOUNT_PAGE = "wp-admin/admin.php?page=plan-bridge-account"


def test_push_raises_posts_limit_and_publish_then_works(plugin: Any) -> None:
    plugin.push({"posts": {"post": 0}})
    refused = plugin.publish("Too many")
    assert refused.status_code == 403
    assert refused.json()["code"] == "bridge_limit_reached"

    result = plugin.push({"posts": {"post": 1}})

    assert result.ignored is False
    assert plugin.publish("Fits now").status_code == 201


def test_lowering_posts_limit_blocks_next_publish_with_message(plugin: Any) -> None:
    plugin.push({"posts": {"post": 5, "page": "unlimited"}})
    first = plugin.publish("First")
    assert first.status_code == 201

    plugin.push({"posts": {"post": 1}})
    refused = plugin.publish("Second")

    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "bridge_limit_reached"
    assert "Limit reached: your plan allows 1 published item of" in body["message"]
    assert plugin.site.url + ACCOUNT_PAGE in body["message"]
    # Pages are not limited, and nothing published before was taken down.
    assert plugin.publish("A page", "pages").status_code == 201
    kept = plugin.owner.get(
        f"{plugin.site.url}wp-json/wp/v2/posts/{first.json()['id']}", timeout=30
    )
    with kept:
        assert kept.json()["status"] == "publish"


def test_publish_beyond_limit_outside_rest_stays_a_draft(plugin: Any) -> None:
    plugin.push({"posts": {"post": 0}})
    status = plugin.network.eval_php(
        "$id = wp_insert_post( array( 'post_title' => 'Classic', 'post_status' => 'publish' ) );"
        " echo get_post_status( $id );",
        plugin.site.url,
    )
    assert status == "draft"


def test_publish_beyond_limit_over_xmlrpc_is_a_fault(plugin: Any) -> None:
    plugin.push({"posts": {"post": 0}})
    with (
        xmlrpc.client.ServerProxy(f"{plugin.site.url}xmlrpc.php") as proxy,
        pytest.raises(xmlrpc.client.Fault) as fault,
    ):
        proxy.wp.newPost(
            0,
            plugin.site.owner,
            plugin.site.owner_password,
            {"post_title": "Over XML-RPC", "post_status": "publish"},
        )
    assert fault.value.faultCode == 403
    assert "Limit reached" in fault.value.faultString
    assert plugin.network.eval_php("echo (int) wp_count_posts()->publish;", plugin.site.url) == "0"


def test_disk_quota_rejects_an_upload_over_it_through_rest(plugin: Any) -> None:
    plugin.push({"disk_mb": 1})

    def upload(size: int, name: str) -> requests.Response:
        body = b"%PDF-1.4\n" + b"0" * size
        response = plugin.owner.post(
            f"{plugin.site.url}wp-json/wp/v2/media",
            data=body,
            headers={
                "Content-Type": "application/pdf",
                "Content-Disposition": f"attachment; filename={name}",
            },
            timeout=30,
        )
        response.close()
        return response

    assert upload(100_000, "small.pdf").status_code == 201
    refused = upload(1_200_000, "big.pdf")
    assert refused.status_code == 400
    assert refused.json()["code"] == "rest_upload_limited_space"
    assert int(plugin.option("blog_upload_space")) == 1


def test_a_user_beyond_the_limit_is_refused(plugin: Any, wp_network: Any) -> None:
    plugin.push({"users": 1})  # the owner holds the one seat
    admin = requests.Session()
    admin.auth = (wp_network.admin_user, wp_network.app_password)
    try:
        new_user = {
            "username": f"extra{plugin.site.blog_id}",
            "email": f"extra{plugin.site.blog_id}@example.test",
            "password": "correct horse battery staple",
        }
        refused = admin.post(f"{plugin.site.url}wp-json/wp/v2/users", json=new_user, timeout=30)
        refused.close()
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "bridge_limit_reached"
        assert "your plan allows 1 user on" in refused.json()["message"]
        via_core = wp_network.eval_php(
            "$u = wpmu_create_user( $args['login'], 'pw-' . $args['login'], $args['login'] . '@example.test' );"
            " $r = add_user_to_blog( get_current_blog_id(), $u, 'author' );"
            " echo is_wp_error( $r ) ? $r->get_error_code() : 'added';",
            plugin.site.url,
            args={"login": f"core{plugin.site.blog_id}"},
        )
        assert via_core == "bridge_limit_reached"

        plugin.push({"users": 2})
        added = admin.post(f"{plugin.site.url}wp-json/wp/v2/users", json=new_user, timeout=30)
        added.close()
        assert added.status_code == 201
    finally:
        admin.close()


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def _visit(url: str, visitor: int = 0) -> requests.Response:
    """A page view by a browser; each `visitor` number is another visitor (user agent)."""
    response = requests.get(url, headers={"User-Agent": f"{BROWSER} visitor/{visitor}"}, timeout=30)
    response.close()
    return response


def test_visits_over_the_limit_give_the_503_page_when_so_configured(
    plugin: Any, wp_network: Any
) -> None:
    plugin.push({"visits": 3})
    wp_network.set_network_option("plan_bridge_visits_over_limit", "unavailable")
    try:
        served = [_visit(plugin.site.url, visitor).status_code for visitor in range(3)]
        over = _visit(plugin.site.url, 3)
    finally:
        wp_network.set_network_option("plan_bridge_visits_over_limit", "notice")

    assert served == [200, 200, 200]
    assert over.status_code == 503
    assert over.headers["Retry-After"] == "3600"
    assert "temporarily unavailable" in over.text
    assert _visit(plugin.site.url).status_code == 200  # the notice policy serves the page


def test_visits_count_only_logged_out_page_views(plugin: Any) -> None:
    plugin.push({"visits": 1000})
    for visitor in range(2):
        _visit(plugin.site.url, visitor)
    _visit(f"{plugin.site.url}feed/", 2)
    _visit(f"{plugin.site.url}wp-json/", 3)
    with plugin.owner.get(plugin.site.url, headers={"User-Agent": BROWSER}, timeout=30):
        pass  # REST credentials do not log in a page view; this one counts too
    count = plugin.network.eval_php("echo Bridge_Visits::this_month();", plugin.site.url)
    assert count == "3"


def test_an_older_version_is_ignored_and_the_same_version_is_idempotent(
    plugin: Any,
) -> None:
    newer = plugin.next_version()
    assert plugin.push({"posts": {"post": 0}}, newer).applied_version == newer

    older = plugin.push({"posts": {"post": 50}}, newer - 1)
    same = plugin.push({"posts": {"post": 50}}, newer)

    assert (older.applied_version, older.ignored) == (newer, True)
    assert (same.applied_version, same.ignored) == (newer, False)
    assert plugin.option("plan_bridge_limits")["limits"] == {"posts": {"post": 0}}
    assert plugin.publish("Still refused").status_code == 403


def test_a_bad_signature_is_refused(plugin: Any) -> None:
    forger = RestLimitsPusher("whsec_" + "A" * 43 + "=", timeout_s=10.0)
    try:
        with pytest.raises(PushRejected) as rejected:
            forger.push_site(
                plugin.site.url,
                plugin.document({}, plugin.next_version()),
                datetime.now(UTC),
                "msg_forged",
            )
    finally:
        forger.close()
    assert rejected.value.status == 401
    assert rejected.value.retryable is False
    assert plugin.option("plan_bridge_limits") is False


def test_a_stale_or_tampered_push_is_refused(plugin: Any) -> None:
    with pytest.raises(PushRejected) as stale:
        plugin.rest.push_site(
            plugin.site.url,
            plugin.document({}, plugin.next_version()),
            datetime.now(UTC) - timedelta(minutes=6),
            "msg_stale",
        )
    assert stale.value.status == 401

    body = json.dumps(
        {"site_id": plugin.site.blog_id, "version": plugin.next_version(), "limits": {}},
        separators=(",", ":"),
    )
    headers = sign_headers(push_webhook(plugin.secret), "msg_t", datetime.now(UTC), body)
    tampered = requests.post(
        f"{plugin.site.url}wp-json/bridge/v1/limits",
        data=body.replace('"limits":{}', '"limits":{"visits":0}'),
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )
    tampered.close()
    assert tampered.status_code == 401
    assert tampered.json()["code"] == "bridge_invalid_signature"


def test_a_document_for_another_site_is_refused(plugin: Any) -> None:
    doc = plugin.document({}, plugin.next_version())
    doc["site_id"] = plugin.site.blog_id + 1000
    with pytest.raises(PushRejected) as rejected:
        plugin.rest.push_site(plugin.site.url, doc, datetime.now(UTC), "msg_other")
    assert rejected.value.status == 400


def test_xmlrpc_transport_works_end_to_end(plugin: Any) -> None:
    plugin.push({"posts": {"post": 0}}, transport="xmlrpc")
    assert plugin.publish("Refused").status_code == 403

    version = plugin.next_version()
    raised = plugin.push({"posts": {"post": 1}}, version, transport="xmlrpc")
    older = plugin.push({"posts": {"post": 0}}, version - 1, transport="xmlrpc")

    assert (raised.applied_version, raised.ignored) == (version, False)
    assert (older.applied_version, older.ignored) == (version, True)
    assert plugin.publish("Allowed").status_code == 201

    forger = XmlRpcLimitsPusher("whsec_" + "A" * 43 + "=", timeout_s=10.0)
    with pytest.raises(PushRejected) as rejected:
        forger.push_site(
            plugin.site.url, plugin.document({}, plugin.next_version()), datetime.now(UTC), "msg_x"
        )
    assert rejected.value.status == 401


def test_network_defaults_apply_until_the_site_has_its_own_document(
    plugin: Any, wp_network: Any
) -> None:
    pusher = plugin.rest
    version = plugin.next_version()
    doc = {
        "version": version,
        "issued_at": datetime.now(UTC).isoformat(),
        "limits": {"posts": {"post": 0}},
    }
    try:
        assert (
            pusher.push_defaults(wp_network.url, doc, datetime.now(UTC), "msg_d1").applied_version
            == version
        )
        assert plugin.publish("Under the defaults").status_code == 403

        plugin.push({"posts": {"post": "unlimited"}})
        assert plugin.publish("Under its own plan").status_code == 201
    finally:
        reset = {
            "version": plugin.next_version(),
            "issued_at": datetime.now(UTC).isoformat(),
            "limits": {},
        }
        pusher.push_defaults(wp_network.url, reset, datetime.now(UTC), "msg_d2")
