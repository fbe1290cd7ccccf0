"""Notices (issue 17) through the real plugin: signed pushes to /bridge/v1/notices, mailed with
wp_mail through PHPMailer to a real SMTP server (aiosmtpd) this module starts on loopback."""

from __future__ import annotations

import email
import email.policy
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from bridge.adapters.wordpress import PushRejected, RestLimitsPusher, XmlRpcLimitsPusher
from tests.support.ports import free_port
from tests.wordpress.harness import Site, WordPressNetwork


class Inbox:
    """aiosmtpd's handler: every message it is given, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="module")
def smtp(wp_network: WordPressNetwork) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    wp_network.route_mail_to(port)
    try:
        yield inbox
    finally:
        wp_network.route_mail_to(None)
        controller.stop()


@pytest.fixture
def pusher(bridge_secret: str) -> Iterator[RestLimitsPusher]:
    with RestLimitsPusher(bridge_secret, timeout_s=30.0) as p:
        yield p


def _notice(site: Site, kind: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{kind}-m{site.blog_id}-{key}-{time.monotonic_ns()}",
        "kind": kind,
        "site_id": site.blog_id,
        "user_id": site.owner_id,
        "email": site.owner_email,
        "locale": None,
        "issued_at": datetime.now(UTC).isoformat(),
        "data": data,
    }


CHANGE = {"plan": "premium", "plan_name": "Premium", "from_plan": "free", "from_plan_name": "Free"}
PAYMENT = {"number": 7, "invoice_number": 12, "amount_minor": 2900, "amount": "29.00"}


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _push(pusher: RestLimitsPusher, network: WordPressNetwork, doc: dict[str, Any]) -> None:
    pusher.push_notice(network.url, doc, datetime.now(UTC), doc["id"])


@pytest.mark.parametrize(
    ("locale", "changed", "paid", "money"),
    [
        ("en_US", "Your plan is now Premium", "Payment received: receipt 7", "NOK29.00"),
        ("nb_NO", "Planen din er nå Premium", "Betaling mottatt: kvittering 7", "29.00\u00a0kr"),
    ],
)
def test_change_applied_and_payment_received_reach_the_owner_in_their_language(
    wp_network: WordPressNetwork,
    smtp: Inbox,
    pusher: RestLimitsPusher,
    locale: str,
    changed: str,
    paid: str,
    money: str,
) -> None:
    site = wp_network.create_site(wp_network.next_slug(f"notice{locale[:2]}"), owner_locale=locale)
    _push(pusher, wp_network, _notice(site, "change_applied", "v3", CHANGE))
    _push(
        pusher, wp_network, _notice(site, "payment_received", "r7", PAYMENT | {"currency": "NOK"})
    )
    mails = smtp.to(site.owner_email)
    assert [m["Subject"] for m in mails] == [changed, paid]
    account = f"{site.url}wp-admin/admin.php?page=plan-bridge-account"
    for mail in mails:
        assert account in _text(mail)
        assert "token" not in _text(mail)  # only the Account page, never a bearer link
    assert money in _text(mails[1])


def test_a_retried_notice_push_sends_one_mail(
    wp_network: WordPressNetwork, wp_site: Site, smtp: Inbox, pusher: RestLimitsPusher
) -> None:
    doc = _notice(wp_site, "past_due", "v4", {"plan": "premium", "plan_name": "Premium"})
    for _ in range(3):
        _push(pusher, wp_network, doc)
    [mail] = smtp.to(wp_site.owner_email)
    assert mail["Subject"] == "Your renewal is past due"
    log = wp_network.eval_php(
        "echo wp_json_encode( get_site_option( 'plan_bridge_notices_sent' ) );"
    )
    assert doc["id"] in log


def test_a_notice_over_xmlrpc_is_mailed_once_too(
    wp_network: WordPressNetwork, wp_site: Site, smtp: Inbox, bridge_secret: str
) -> None:
    doc = _notice(wp_site, "refund_issued", "c2", PAYMENT | {"currency": "USD", "number": 2})
    xmlrpc = XmlRpcLimitsPusher(bridge_secret, timeout_s=30.0)
    xmlrpc.push_notice(wp_network.url, doc, datetime.now(UTC), doc["id"])
    xmlrpc.push_notice(wp_network.url, doc, datetime.now(UTC), doc["id"])
    [mail] = smtp.to(wp_site.owner_email)
    assert mail["Subject"] == "Refund issued: credit note 2"


def test_an_unsigned_notice_is_refused_and_mails_nothing(
    wp_network: WordPressNetwork, wp_site: Site, smtp: Inbox
) -> None:
    doc = _notice(wp_site, "fallback", "v9", CHANGE)
    with (
        RestLimitsPusher("whsec_" + "QUJD" * 11, timeout_s=30.0) as wrong,
        pytest.raises(PushRejected) as refused,
    ):
        _push(wrong, wp_network, doc)
    assert refused.value.status == 401
    assert smtp.to(wp_site.owner_email) == []


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


_browsers = itertools.count(1)


def _visit_from_new_browsers(url: str, count: int) -> None:
    """Visits counted apart: a visitor is its address and browser (User-Agent)."""
    for _ in range(count):
        with (
            requests.Session() as browser,
            browser.get(
                url, headers={"User-Agent": f"{BROWSER} Test/{next(_browsers)}"}, timeout=30
            ) as response,
        ):
            assert response.status_code == 200


@pytest.mark.parametrize("on", [True, False])
def test_the_plugin_notices_80_percent_of_the_visits_once_a_month_when_on(
    plugin: Any, smtp: Inbox, on: bool
) -> None:
    doc = plugin.document({"visits": 5}, plugin.next_version())
    doc["notices"] = {"visits_80": on}
    plugin.rest.push_site(plugin.site.url, doc, datetime.now(UTC), f"v80-{time.monotonic_ns()}")
    _visit_from_new_browsers(plugin.site.url, 3)
    assert smtp.to(plugin.site.owner_email) == []
    _visit_from_new_browsers(plugin.site.url, 2)  # 4 of 5: 80 %, then 5 of 5
    mails = smtp.to(plugin.site.owner_email)
    if not on:
        assert mails == []
        return
    [mail] = mails
    assert mail["Subject"] == "Your site has used 80 % of this month's visits"
    assert "4 of its 5 visits" in _text(mail)


def test_renewal_coming_tells_the_date_and_the_amount_with_tax_in_norwegian(
    wp_network: WordPressNetwork, smtp: Inbox, pusher: RestLimitsPusher
) -> None:
    site = wp_network.create_site(wp_network.next_slug("renewalnb"), owner_locale="nb_NO")
    data = {"plan_name": "Premium", "renews_at": "2026-05-01T00:00:00Z", "amount": "362.50"}
    _push(pusher, wp_network, _notice(site, "renewal_coming", "p1", data | {"currency": "NOK"}))
    [mail] = smtp.to(site.owner_email)
    assert mail["Subject"] == "Medlemskapet ditt fornyes snart"
    assert "2026-05-01" in _text(mail) and "362.50\u00a0kr (avgift inkludert)" in _text(mail)


MONEY = {"amount": "29.00", "balance": "29.00", "currency": "NOK", "number": 3}
EVERY_NOTICE = {
    "change_applied": (CHANGE, "Your plan is now Premium", "Planen din er nå Premium"),
    "change_scheduled": (
        CHANGE | {"effective_at": "2026-05-01T00:00:00Z"},
        "A change to your membership is scheduled",
        "En planlagt endring av medlemskapet ditt",
    ),
    "payment_received": (MONEY, "Payment received: receipt 3", "Betaling mottatt: kvittering 3"),
    "refund_issued": (MONEY, "Refund issued: credit note 3", "Refusjon utstedt: kreditnota 3"),
    "balance_credited": (
        MONEY,
        "Your payment was added to your balance",
        "Betalingen din er lagt til kredittsaldoen din",
    ),
    "past_due": (CHANGE, "Your renewal is past due", "Fornyelsen din er forfalt"),
    "fallback": (
        CHANGE,
        "Your membership moved to the Premium plan",
        "Medlemskapet ditt er flyttet til planen Premium",
    ),
    "renewal_coming": (MONEY, "Your membership renews soon", "Medlemskapet ditt fornyes snart"),
    "trial_ending": (CHANGE, "Your trial ends soon", "Prøveperioden din slutter snart"),
    "payment_failed": (MONEY, "Your payment failed", "Betalingen din mislyktes"),
}


@pytest.mark.parametrize("locale", ["en_US", "nb_NO"])
def test_every_notice_the_bridge_sends_is_mailed_in_english_and_norwegian(
    wp_network: WordPressNetwork, smtp: Inbox, pusher: RestLimitsPusher, locale: str
) -> None:
    site = wp_network.create_site(wp_network.next_slug(f"every{locale[:2]}"), owner_locale=locale)
    for kind, (data, _english, _norwegian) in EVERY_NOTICE.items():
        _push(pusher, wp_network, _notice(site, kind, "x", data))
    subjects = [m["Subject"] for m in smtp.to(site.owner_email)]
    assert subjects == [pair[1 if locale == "en_US" else 2] for pair in EVERY_NOTICE.values()]
