"""Events sent by WP-Cron, the Account page and its checkout token, translations in WordPress."""

from __future__ import annotations

import html
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from bridge.contract import read_checkout_token, read_receipt_token
from bridge.errors import InvalidToken
from tests.integration.wordpress.conftest import PluginClient

pytestmark = pytest.mark.wordpress

MEMBERSHIP = {
    "plan": {"id": "premium", "name": "Premium"},
    "status": "active",
    "currency": "USD",
    "price": "60.00",
    "billing": {"every": 1, "unit": "month"},
    "period_start": "2026-04-11T00:00:00Z",
    "period_end": "2026-05-11T00:00:00Z",
    "trial_end": None,
    "next_billing": {
        "date": "2026-05-11T00:00:00Z",
        "amount": "65.00",
        "covered_by_balance": "0.00",
    },
    "addons": [{"id": "extra-disk", "name": "Extra disk", "quantity": 1, "price": "5.00"}],
    "scheduled_change": {
        "effective_at": "2026-05-11T00:00:00Z",
        "plan": {"id": "free", "name": "Free"},
        "billing": {"every": 1, "unit": "month"},
        "addons": [],
    },
    "balance": "0.00",
}


def _queued(wp_network: Any) -> int:
    return int(wp_network.eval_php("echo Bridge_Events::count_queued();"))


def _make_due(wp_network: Any, site_url: str, hook: str) -> None:
    """Move a scheduled event of `hook` (and retry back-offs) to now, as if time had passed."""
    wp_network.eval_php(
        "$t = wp_next_scheduled( $args['hook'] );"
        " if ( $t ) { wp_unschedule_event( $t, $args['hook'] ); }"
        " wp_schedule_single_event( time() - 1, $args['hook'] );"
        " foreach ( Bridge_Events::queued( 1000 ) as $e ) { $e['next_at'] = 0;"
        " update_site_option( Bridge_Events::PREFIX . $e['id'], $e ); }",
        site_url,
        args={"hook": hook},
    )


def test_limits_applied_and_usage_are_sent_signed_by_cron(
    plugin: Any, wp_network: Any, bridge_inbox: Any
) -> None:
    version = plugin.push({"posts": {"post": 3}}).applied_version
    assert plugin.publish("Counted").status_code == 201
    assert bridge_inbox.of_type("limits.applied", plugin.site.blog_id) == []  # never in the request

    _make_due(wp_network, plugin.site.url, "plan_bridge_report_usage")
    wp_network.run_cron(plugin.site.url)

    applied = bridge_inbox.of_type("limits.applied", plugin.site.blog_id)
    assert [e["data"] for e in applied] == [{"site_id": plugin.site.blog_id, "version": version}]
    usage = bridge_inbox.of_type("usage.reported", plugin.site.blog_id)[-1]["data"]["usage"]
    assert usage["posts"]["post"] == 1
    assert usage["users"] == 1
    assert usage["custom_domains"] == 0
    assert bridge_inbox.refused == 0


def test_site_created_is_queued_and_sent(wp_network: Any, bridge_inbox: Any) -> None:
    site = wp_network.create_site(wp_network.next_slug("created"), owner_locale="nb_NO")
    wp_network.run_cron()
    created = bridge_inbox.of_type("site.created", site.blog_id)
    assert len(created) == 1
    assert created[0]["data"]["owner"] == {
        "user_id": site.owner_id,
        "email": site.owner_email,
        "locale": "nb_NO",
    }
    assert created[0]["data"]["url"] == site.url


def test_failed_deliveries_wait_in_the_queue_and_are_retried_with_the_same_id(
    plugin: Any, wp_network: Any, bridge_inbox: Any
) -> None:
    bridge_inbox.status = 503
    plugin.push({"visits": 10})
    wp_network.run_cron(plugin.site.url)
    assert _queued(wp_network) >= 1
    attempts = bridge_inbox.requests
    with requests.get(plugin.site.url, timeout=30) as page:
        assert page.status_code == 200
    assert bridge_inbox.requests == attempts  # a page request never tries to deliver

    bridge_inbox.status = 204
    _make_due(wp_network, plugin.site.url, "plan_bridge_send_events")
    wp_network.run_cron(plugin.site.url)

    assert len(bridge_inbox.of_type("limits.applied", plugin.site.blog_id)) == 1
    assert _queued(wp_network) == 0


def _login(site: Any) -> requests.Session:
    session = requests.Session()
    session.get(f"{site.url}wp-login.php", timeout=30).close()
    response = session.post(
        f"{site.url}wp-login.php",
        data={"log": site.owner, "pwd": site.owner_password, "testcookie": "1"},
        allow_redirects=False,
        timeout=30,
    )
    response.close()
    assert response.status_code == 302, response.text[:500]
    return session


def _account_page(session: requests.Session, site: Any) -> str:
    with session.get(f"{site.url}wp-admin/admin.php?page=plan-bridge-account", timeout=30) as page:
        assert page.status_code == 200
        return page.text


def _checkout(session: requests.Session, site: Any, page: str, intent: str) -> requests.Response:
    nonce = re.search(r'name="_wpnonce" value="([0-9a-f]+)"', page)
    assert nonce is not None
    response = session.post(
        f"{site.url}wp-admin/admin-post.php",
        data={"action": "plan_bridge_checkout", "intent": intent, "_wpnonce": nonce.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    response.close()
    return response


def test_account_page_shows_the_membership_and_change_opens_a_signed_checkout(
    plugin: Any, bridge_secret: str, bridge_port: int
) -> None:
    plugin.push({"posts": {"post": 10}, "visits": 1000}, membership=MEMBERSHIP)
    session = _login(plugin.site)
    try:
        page = _account_page(session, plugin.site)
        text = html.unescape(page)
        for expected in (
            "Your Membership",
            "Premium",
            "$60.00 per month",  # money as the checkout writes it
            "Active",
            "Extra disk",
            "Free",
            "Cancel the scheduled change",
            "Visits this month",
            "0 / 10",
        ):
            assert expected in text, expected

        redirect = _checkout(session, plugin.site, page, "change")
        assert redirect.status_code == 302
        location = urlparse(redirect.headers["Location"])
        assert f"{location.scheme}://{location.netloc}" == f"http://127.0.0.1:{bridge_port}"
        assert location.path == "/checkout/start"
        token = parse_qs(location.query)["token"][0]
        payload = read_checkout_token(bridge_secret, token, int(time.time()))
        assert payload["site_id"] == plugin.site.blog_id
        assert payload["user_id"] == plugin.site.owner_id
        assert payload["intent"] == "change"
        assert (
            payload["return_url"] == f"{plugin.site.url}wp-admin/admin.php?page=plan-bridge-account"
        )
        assert 590 <= payload["exp"] - time.time() <= 600
        assert re.fullmatch(r"[0-9a-f]{32}", payload["jti"])

        cancel = _checkout(session, plugin.site, page, "cancel_scheduled")
        cancel_token = parse_qs(urlparse(cancel.headers["Location"]).query)["token"][0]
        cancel_payload = read_checkout_token(bridge_secret, cancel_token, int(time.time()))
        assert cancel_payload["intent"] == "cancel_scheduled"
        assert cancel_payload["jti"] != payload["jti"]
    finally:
        session.close()


def test_checkout_without_a_valid_nonce_mints_nothing(plugin: Any) -> None:
    session = _login(plugin.site)
    try:
        response = session.post(
            f"{plugin.site.url}wp-admin/admin-post.php",
            data={"action": "plan_bridge_checkout", "intent": "change", "_wpnonce": "0"},
            allow_redirects=False,
            timeout=30,
        )
        response.close()
        assert response.status_code == 403
        assert "checkout/start" not in response.headers.get("Location", "")
    finally:
        session.close()


def test_account_page_speaks_the_owners_language(wp_network: Any, bridge_secret: str) -> None:
    site = wp_network.create_site(wp_network.next_slug("malay"), owner_locale="ms_MY")
    session = _login(site)
    try:
        text = html.unescape(_account_page(session, site))
    finally:
        session.close()
    assert "Keahlian Anda" in text
    assert "Tukar" in text
    assert "Laman ini belum mempunyai keahlian." in text


def test_account_page_shows_the_networks_tax_and_the_next_invoices_tax(
    wp_network: Any, bridge_secret: str
) -> None:
    taxed = {
        **MEMBERSHIP,
        "next_billing": {**MEMBERSHIP["next_billing"], "amount": "81.25", "tax": "16.25"},
        "tax": {"name": "MVA", "rate": "25", "mode": "exclusive"},
        "tax_rate_paid": "25",
    }
    for locale, expected in (
        ("en_US", ("MVA 25%, added to the prices", "$81.25 (of which MVA 25%: $16.25)")),
        (
            "nb_NO",
            ("MVA 25\u00a0%, kommer i tillegg til prisene", "(herav MVA 25\u00a0%: "),
        ),
    ):
        site = wp_network.create_site(wp_network.next_slug("taxed"), owner_locale=locale)
        client = PluginClient(wp_network, site, bridge_secret)
        try:
            client.push({"posts": {"post": 10}}, membership=taxed)
            session = _login(site)
            try:
                text = html.unescape(_account_page(session, site))
            finally:
                session.close()
        finally:
            client.close()
        for words in expected:
            assert words in text, (locale, words)


def test_account_page_lists_receipts_and_opens_one_with_a_receipt_token(
    plugin: Any, bridge_secret: str, bridge_port: int
) -> None:
    listed = {
        **MEMBERSHIP,
        "receipts": [
            {
                "kind": "credit_note",
                "number": 2,
                "issued_at": "2026-04-20T00:00:00Z",
                "total": "5.00",
                "currency": "USD",
                "receipt_number": 7,
                "paid_from_balance": False,
            },
            {
                "kind": "receipt",
                "number": 7,
                "issued_at": "2026-04-11T00:00:00Z",
                "total": "65.00",
                "currency": "USD",
                "receipt_number": None,
                "paid_from_balance": False,
            },
        ],
    }
    plugin.push({"posts": {"post": 10}}, membership=listed)
    session = _login(plugin.site)
    try:
        page = _account_page(session, plugin.site)
        text = html.unescape(page)
        for words in ("Receipts", "Receipt 7", "Credit note 2", "$65.00", "$5.00"):
            assert words in text, words
        form = re.search(
            r'name="action" value="plan_bridge_receipt">.*?name="kind" value="receipt">'
            r'.*?name="_wpnonce" value="([0-9a-f]+)"',
            page,
            re.S,
        )
        assert form is not None
        opened = session.post(
            f"{plugin.site.url}wp-admin/admin-post.php",
            data={
                "action": "plan_bridge_receipt",
                "kind": "receipt",
                "number": "7",
                "_wpnonce": form.group(1),
            },
            allow_redirects=False,
            timeout=30,
        )
        opened.close()
        assert opened.status_code == 302
        location = urlparse(opened.headers["Location"])
        assert f"{location.scheme}://{location.netloc}" == f"http://127.0.0.1:{bridge_port}"
        assert location.path == "/checkout/receipts/open"
        token = parse_qs(location.query)["token"][0]
        payload = read_receipt_token((bridge_secret,), token, int(time.time()))
        assert (payload["site_id"], payload["kind"], payload["number"]) == (
            plugin.site.blog_id,
            "receipt",
            7,
        )
        with pytest.raises(InvalidToken):  # a receipt token is no checkout token
            read_checkout_token(bridge_secret, token, int(time.time()))
        unlisted = session.post(
            f"{plugin.site.url}wp-admin/admin-post.php",
            data={
                "action": "plan_bridge_receipt",
                "kind": "receipt",
                "number": "8",
                "_wpnonce": form.group(1),
            },
            allow_redirects=False,
            timeout=30,
        )
        unlisted.close()
        assert unlisted.status_code == 404
    finally:
        session.close()
