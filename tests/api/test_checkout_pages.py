"""Checkout pages through Flask's test client, against a small in-memory facade.

The fake facade runs the real billing domain (eligibility, proration, documents) over an
in-memory membership per site, so amounts on the pages are the domain's own.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.api.checkout import register
from bridge.api.checkout.facade import ProductText
from bridge.api.checkout.session import COOKIE_NAME
from bridge.api.state import KEY, AppState
from bridge.contract import mint_checkout_token
from bridge.domain.catalog import Catalog, Policy, parse_catalog
from bridge.domain.documents import instant, quote_document
from bridge.domain.eligibility import eligible_addons, eligible_plans
from bridge.domain.errors import BridgeError
from bridge.domain.lifecycle import cancel_at_period_end
from bridge.domain.membership import Membership, Selection, Site, Usage
from bridge.domain.money import format_amount
from bridge.domain.periods import BillingOption
from bridge.domain.proration import apply_quote, limits_of, quote_change
from bridge.domain.quote import Quote
from bridge.domain.tax import Tax
from bridge.errors import NotFound, PendingChange, QuoteExpired, QuoteUsed
from bridge.services.context import Context
from bridge.services.records import limits_json
from tests.wordpress.harness import new_webhook_secret

NOW = datetime(2026, 4, 11, tzinfo=UTC)
SECRET = new_webhook_secret()
RETURN_URL = "http://net.example/site{id}/wp-admin/admin.php?page=plan-bridge-account"

CATALOG = parse_catalog(
    {
        "currency": "USD",
        "products": {
            "free": {
                "name": "Free",
                "kind": "plan",
                "price": "0.00",
                "billing": {"every": 1, "unit": "month"},
                "group": "High End",
                "order": 1,
                "addons": ["extra-disk"],
                "limits": {"posts": {"post": 10, "page": 5}, "disk_mb": 100, "users": 1},
            },
            "basic": {
                "name": "Basic",
                "kind": "plan",
                "price": "30.00",
                "billing": {"every": 1, "unit": "month"},
                "order": 2,
                "limits": {"posts": {"post": 50, "page": 20}},
            },
            "premium": {
                "name": "Premium",
                "kind": "plan",
                "price": "60.00",
                "billing": {"every": 1, "unit": "month"},
                "group": "High End",
                "order": 3,
                "addons": ["extra-disk"],
                "variations": [{"billing": {"every": 1, "unit": "year"}, "price": "600.00"}],
                "limits": {"posts": {"post": "unlimited", "page": "unlimited"}},
            },
            "extra-disk": {
                "name": "Extra disk",
                "kind": "package",
                "price": "5.00",
                "billing": {"every": 1, "unit": "month"},
                "limits": {"disk_mb": 1024},
            },
        },
    }
)
MONTHLY = BillingOption(1, "month")


def _membership(plan: str, price: str, posts: int, site_id: int) -> Membership:
    return Membership(
        plan=plan,
        billing=MONTHLY,
        plan_price_minor=int(price.replace(".", "")),
        status="active",
        anchor=datetime(2026, 4, 1, tzinfo=UTC),
        period_start=datetime(2026, 4, 1, tzinfo=UTC),
        period_end=datetime(2026, 5, 1, tzinfo=UTC),
        paid_value_minor=int(price.replace(".", "")),
        sites=(Site(site_id, f"Blog {site_id}", Usage(posts={"post": posts})),),
    )


class FakeBridge:
    """The core facade's checkout methods over in-memory memberships and the real domain."""

    def __init__(self, catalog: Catalog, gateway: str = "test") -> None:
        self.site_urls: dict[int, str] = {}  # a site's stored URL when not the usual one
        self.catalog = catalog
        self.policy = Policy()
        self.tax: Tax | None = None  # the network's tax (billing-rules.md §12)
        self.gateway = gateway
        self.memberships: dict[int, Membership] = {}
        self.quotes: dict[str, tuple[int, Quote]] = {}
        self.used_jti: set[str] = set()
        self.commits: list[str] = []
        self.invoice_of: dict[str, str] = {}  # a committed quote's invoice number
        self.cancelled: list[int] = []
        self.pending_invoice = False
        self.expired_quotes: set[str] = set()  # quotes past their 15 minutes
        self.previews = 0
        self.site_overrides: dict[int, dict[str, Any]] = {}
        self.push_dead = False
        self.applied_lag = 0  # how many limits versions the site is behind
        self.billing: dict[int, dict[str, Any]] = {}  # the buyer on each site's receipts

    def site_view(self, site_id: int) -> dict[str, Any]:
        m = self.memberships.get(site_id)
        if m is None:
            raise NotFound(f"no site {site_id}")
        plan = self.catalog.products[m.plan]
        scheduled = None
        if m.scheduled_change is not None:
            target = self.catalog.products[m.scheduled_change.plan]
            scheduled = {
                "effective_at": instant(m.scheduled_change.effective_at),
                "plan": {"id": target.id, "name": target.name},
                "addons": [
                    {"id": k, "quantity": h.quantity} for k, h in m.scheduled_change.addons.items()
                ],
                "cancels": m.scheduled_change.cancels,
            }
        return {
            "site": {
                "id": site_id,
                "site_id": site_id,
                "name": f"Blog {site_id}",
                "url": self.site_urls.get(site_id, f"http://net.example/site{site_id}/"),
                "timezone": "Europe/Oslo",
                "overrides": self.site_overrides.get(site_id),
            },
            "membership": {
                "plan": {"id": plan.id, "name": plan.name},
                "status": m.status,
                "period_end": instant(m.period_end),
                "limits": limits_of(
                    self.catalog, m.plan, m.addon_quantities(), m.overrides
                ).to_json(),
                "billing": m.billing.to_json(),
                "currency": "USD",
                "addons": [
                    {"id": k, "name": k, "quantity": v} for k, v in m.addon_quantities().items()
                ],
                "scheduled_change": scheduled,
            },
            "limits": {
                "version": m.version,
                "desired_version": m.version,
                "applied_version": m.version - self.applied_lag,
                "dead": self.push_dead,
            },
            "pending_invoice": (
                {
                    "number": f"INV-{len(self.commits):04d}",
                    "status": "open",
                    "expires_at": instant(NOW + timedelta(hours=24)),
                }
                if self.pending_invoice
                else None
            ),
        }

    def options(
        self, site_id: int, product: str | None = None, plan: str | None = None
    ) -> dict[str, Any]:
        m = self.memberships[site_id]
        return {
            "currency": "USD",
            "plans": [
                {
                    "id": o.product.id,
                    "name": o.product.name,
                    "current": o.current,
                    "limits": limits_of(self.catalog, o.product.id, {}, None).to_json(),
                    "options": [
                        {
                            "billing": v.billing.to_json(),
                            "price": format_amount(v.price_minor, "USD"),
                        }
                        for v in o.options
                    ],
                }
                for o in eligible_plans(self.catalog, m)
            ],
            "addons": [
                {
                    "id": a.product.id,
                    "name": a.product.name,
                    "kind": a.product.kind,
                    "price": format_amount(a.price_minor, "USD"),
                    "billing": a.product.billing.to_json(),
                    "owned_quantity": a.owned_quantity,
                    "limits": limits_json(a.product.limits) or {},
                }
                for a in eligible_addons(self.catalog, m, plan or m.plan)
            ],
        }

    def _quote(self, site_id: int, selection: dict[str, Any]) -> Quote:
        billing = selection["billing"]
        chosen = (
            BillingOption(0, "once")
            if billing == "once"
            else BillingOption(billing["every"], billing["unit"])
        )
        return quote_change(
            self.catalog,
            self.policy,
            self.memberships[site_id],
            Selection(selection["plan"], chosen, selection.get("addons")),
            NOW,
            self.tax,
        )

    def create_quote(self, site_id: int, selection: dict[str, Any], actor: Any) -> dict[str, Any]:
        assert actor.site_id == site_id
        quote = self._quote(site_id, selection)
        quote_id = f"q{len(self.quotes) + 1}"
        self.quotes[quote_id] = (site_id, quote)
        return {"id": quote_id, **quote_document(quote)}

    def preview_quote(self, site_id: int, selection: dict[str, Any]) -> dict[str, Any]:
        self.previews += 1
        return quote_document(self._quote(site_id, selection))

    def cancel_membership(self, site_id: int, actor: Any) -> dict[str, Any]:
        assert actor.site_id == site_id
        self.memberships[site_id] = cancel_at_period_end(
            self.catalog, self.memberships[site_id], "free"
        )
        return self.site_view(site_id)

    def product_texts(self, language: str) -> dict[str, ProductText]:
        return {
            pid: ProductText(p.name_in(language), p.description_in(language))
            for pid, p in self.catalog.products.items()
        }

    def selection_limits(self, plan: str, addons: dict[str, int]) -> dict[str, Any]:
        return limits_of(self.catalog, plan, addons, None).to_json()

    def commit_quote(self, quote_id: str, actor: Any, site_id: int | None = None) -> dict[str, Any]:
        quote_site, quote = self.quotes[quote_id]
        assert actor.site_id == quote_site == site_id
        if quote_id in self.invoice_of:  # a quote is used once; the 409 names its invoice
            number = self.invoice_of[quote_id]
            raise QuoteUsed(invoice_id=f"id-{number}", invoice_number=number)  # type: ignore[arg-type]
        if quote_id in self.expired_quotes:
            raise QuoteExpired("This quote has expired; please ask for a new one.")
        if self.pending_invoice:
            raise PendingChange("an earlier change invoice is unpaid")
        self.commits.append(quote_id)
        invoice = {"number": f"INV-{len(self.commits):04d}", "due_now": quote.totals.due_now_minor}
        self.invoice_of[quote_id] = invoice["number"]
        if quote.totals.due_now_minor > 0 and self.gateway == "manual":
            return {"invoice": invoice, "status": "pending_payment"}
        self.memberships[quote_site] = apply_quote(self.memberships[quote_site], quote)
        status = "scheduled" if quote.timing == "end_of_term" else "applied"
        return {"invoice": invoice, "status": status}

    def cancel_scheduled_change(self, site_id: int, actor: Any) -> None:
        m = self.memberships[site_id]
        self.memberships[site_id] = replace(m, scheduled_change=None, version=m.version + 1)
        self.cancelled.append(site_id)

    def billing_details(self, site_id: int) -> dict[str, Any] | None:
        return self.billing.get(site_id)

    def set_billing_details(self, site_id: int, details: dict[str, str]) -> None:
        self.billing[site_id] = {**details, "tax_number": details.get("tax_number") or None}

    def use_checkout_token(self, jti: str, exp: int) -> bool:
        if jti in self.used_jti:
            return False
        self.used_jti.add(jti)
        return True


class FakeSettings(SimpleNamespace):
    """The settings the checkout reads; the gateway is the fake's (a test may switch it)."""

    def __init__(self, fake: FakeBridge, **values: Any) -> None:
        super().__init__(**values)
        self._fake = fake

    @property
    def gateway(self) -> str:
        return self._fake.gateway


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def fake() -> FakeBridge:
    bridge = FakeBridge(CATALOG)
    bridge.memberships[2] = _membership("free", "0.00", 3, 2)
    bridge.memberships[3] = _membership("premium", "60.00", 15, 3)
    return bridge


def _app(
    fake: FakeBridge, public_url: str = "http://127.0.0.1:8000", previous_secret: str = ""
) -> Flask:
    app = Flask("checkout-test")
    settings = FakeSettings(
        fake,
        webhook_secret=SECRET,
        public_url=public_url,
        webhook_secrets=tuple(s for s in (SECRET, previous_secret) if s),
        wordpress=SimpleNamespace(url="http://net.example/"),
        fallback_plan="free",
        change_invoice_ttl_s=86400,
    )
    app.extensions[KEY] = AppState(
        ctx=Context(settings, None, FixedClock(), None),  # type: ignore[arg-type]
        metrics=None,  # type: ignore[arg-type]
        events_webhooks=(),
        ping=lambda: None,
        runtime=None,  # type: ignore[arg-type]
        checkout_core=fake,
    )
    register(app)
    return app


@pytest.fixture
def client(fake: FakeBridge) -> FlaskClient:
    return _app(fake).test_client()


def _token(
    site_id: int = 2,
    locale: str = "en_US",
    *,
    secret: str = SECRET,
    exp: datetime = NOW + timedelta(minutes=10),
    jti: str | None = None,
    intent: str = "change",
    return_url: str | None = None,
) -> str:
    return mint_checkout_token(
        secret,
        {
            "site_id": site_id,
            "user_id": 5,
            "locale": locale,
            "return_url": return_url or RETURN_URL.format(id=site_id),
            "exp": int(exp.timestamp()),
            "jti": jti or f"{site_id:032x}{locale}{intent}"[-32:],
            "intent": intent,
        },
    )


def _start(client: FlaskClient, **kwargs: Any) -> str:
    response = client.get("/checkout/start", query_string={"token": _token(**kwargs)})
    assert response.status_code == 303, response.text
    return str(response.headers["Location"])


def _page(client: FlaskClient, site_id: int = 2, **kwargs: Any) -> str:
    location = _start(client, site_id=site_id, **kwargs)
    return client.get(location).text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name}"
    return found.group(1)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- token exchange and session ----------------------------------------------------------


def test_a_valid_token_becomes_an_httponly_lax_session_cookie(client: FlaskClient) -> None:
    response = client.get("/checkout/start", query_string={"token": _token()})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/checkout/sites/2")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Max-Age=1800" in cookie


def test_the_session_cookie_is_secure_when_the_bridge_is_served_over_https(
    fake: FakeBridge,
) -> None:
    client = _app(fake, public_url="https://bridge.example").test_client()
    response = client.get("/checkout/start", query_string={"token": _token()})
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_forged_token_gets_a_clear_page_and_no_session(client: FlaskClient) -> None:
    mac = _token().partition(".")[2]
    forged = _token(site_id=3).partition(".")[0] + "." + mac
    response = client.get("/checkout/start", query_string={"token": forged})
    assert response.status_code == 401
    assert "This checkout link is not valid." in response.text
    assert "Set-Cookie" not in response.headers
    assert "Blog 3" not in response.text


def test_a_token_of_another_network_is_refused(client: FlaskClient) -> None:
    response = client.get(
        "/checkout/start", query_string={"token": _token(secret=new_webhook_secret())}
    )
    assert response.status_code == 401
    assert "This checkout link is not valid." in response.text
    assert "Blog 2" not in response.text


def test_an_expired_token_says_the_link_has_expired(client: FlaskClient) -> None:
    response = client.get(
        "/checkout/start", query_string={"token": _token(exp=NOW - timedelta(seconds=1))}
    )
    assert response.status_code == 401
    assert "This checkout link has expired." in response.text
    assert "click Change again" in response.text


def test_a_token_works_only_once(client: FlaskClient) -> None:
    token = _token(jti="a" * 32)
    assert client.get("/checkout/start", query_string={"token": token}).status_code == 303
    again = client.get("/checkout/start", query_string={"token": token})
    assert again.status_code == 409
    assert "This checkout link has been used already." in again.text


def test_a_token_for_a_site_the_bridge_does_not_know_shows_no_data(client: FlaskClient) -> None:
    response = client.get("/checkout/start", query_string={"token": _token(site_id=99)})
    assert response.status_code == 404
    assert "This site has no membership with us." in response.text


def test_a_return_url_on_another_host_is_refused(client: FlaskClient) -> None:
    response = client.get(
        "/checkout/start",
        query_string={"token": _token(return_url="https://evil.example/phish")},
    )
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


def test_a_session_for_one_site_cannot_see_another_sites_page(client: FlaskClient) -> None:
    _start(client, site_id=2)
    response = client.get("/checkout/sites/3")
    assert response.status_code == 403
    assert "This checkout is for another site." in response.text
    assert "Premium" not in response.text and "Blog 3" not in response.text


def test_pages_without_a_session_say_it_has_ended(client: FlaskClient) -> None:
    response = client.get("/checkout/sites/2")
    assert response.status_code == 401
    assert "Your checkout session has ended." in response.text


def test_a_tampered_session_cookie_counts_as_no_session(client: FlaskClient) -> None:
    _start(client)
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    client.set_cookie(COOKIE_NAME, cookie.value[:-2] + "xx")
    assert client.get("/checkout/sites/2").status_code == 401


def test_the_session_is_read_by_the_checkout_pages_only(fake: FakeBridge) -> None:
    app = _app(fake)
    seen: dict[str, Any] = {}

    @app.get("/probe")
    def probe() -> str:
        from flask import g

        seen["session"] = g.get("checkout_session")
        return "ok"

    client = app.test_client()
    _start(client)
    client.get("/probe")
    assert seen == {"session": None}


# -- CSRF ----------------------------------------------------------------------------------


def test_a_post_without_the_csrf_field_is_refused_and_commits_nothing(
    client: FlaskClient, fake: FakeBridge
) -> None:
    html = _page(client)
    response = client.post(
        "/checkout/sites/2",
        data={
            "choice": "premium:1-month",
            "do": "confirm",
            "quote": "q1.x",
            "addons-for": "premium",
        },
    )
    # Refused with a GET of the page (reloading it re-posts nothing), saying nothing changed.
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/checkout/sites/2?outdated=1")
    page = client.get(response.headers["Location"]).text
    assert "nothing was changed" in _text(page)
    response = client.post("/checkout/sites/2/scheduled/cancel", data={"csrf": _csrf(html) + "x"})
    assert response.status_code == 303
    assert fake.commits == [] and fake.cancelled == []


# -- the Change page -----------------------------------------------------------------------


def test_a_free_owner_is_offered_premium_and_not_basic(client: FlaskClient) -> None:
    html = _page(client)
    assert 'value="premium:1-month"' in html
    assert 'value="premium:1-year"' in html
    assert 'value="free:1-month" checked' in html
    assert "Basic" not in html


def test_picking_the_current_plan_shows_the_no_change_message_and_no_confirm_button(
    client: FlaskClient,
) -> None:
    html = _page(client)
    response = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "free:1-month", "addons-for": "free", "do": "update"},
    )
    assert "This change leaves your membership as it is." in response.text
    assert 'id="confirm"' not in response.text


def test_picking_premium_shows_due_now_and_the_next_billing_date(client: FlaskClient) -> None:
    html = _page(client)
    response = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    )
    text = _text(response.text)
    assert "Due now $60.00" in text
    assert "Next billing date May 11, 2026" in text
    assert "Amount on that date $60.00" in text
    assert "Confirm and pay" in text


def test_an_upgrade_shows_the_credit_for_unused_time(client: FlaskClient, fake: FakeBridge) -> None:
    fake.memberships[2] = _membership("premium", "60.00", 3, 2)
    html = _page(client)
    response = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-year", "addons-for": "premium"},
    )
    text = _text(response.text)
    assert "Credit for unused time on Premium -$40.00" in text
    assert "Due now $560.00" in text


def test_a_downgrade_over_the_limits_shows_what_to_do_and_cannot_be_confirmed(
    client: FlaskClient,
) -> None:
    html = _page(client, site_id=3)
    response = client.post(
        "/checkout/sites/3",
        data={"csrf": _csrf(html), "choice": "free:1-month", "addons-for": "premium"},
    )
    text = _text(response.text)
    assert "This change cannot be made yet." in text
    assert (
        "Blog 3 has 15 published posts; Free allows 10. Move 5 posts to the trash to downgrade."
        in text
    )
    assert 'id="confirm"' not in response.text


def test_confirming_commits_the_shown_quote_and_goes_back_with_the_result(
    client: FlaskClient, fake: FakeBridge
) -> None:
    html = _page(client)
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    response = client.post(
        "/checkout/sites/2",
        data={
            "csrf": _csrf(shown),
            "choice": "premium:1-month",
            "addons-for": "premium",
            "addon-extra-disk": "0",
            "quote": _field(shown, "quote"),
            "shown": _field(shown, "shown"),
            "do": "confirm",
        },
    )
    assert response.status_code == 303
    assert fake.commits == ["q2"]
    assert fake.memberships[2].plan == "premium"
    # The confirmation page at once: what was done, the invoice, the limits; no meta refresh.
    done = client.get(response.headers["Location"])
    assert done.status_code == 200
    page = _text(done.text)
    assert "Done: you are now on Premium" in page
    assert "Invoice number: INV-0001" in page
    assert "These limits apply now." in page
    assert "http-equiv" not in done.text
    back = re.search(r'id="back-to-account" href="([^"]+)"', done.text)
    assert back
    finish = client.get(back.group(1).replace("&amp;", "&"))
    assert finish.status_code == 303
    assert finish.headers["Location"] == RETURN_URL.format(id=2) + "&plan_bridge_result=applied"
    # The session ends there: going back to WordPress, the cookie goes too.
    assert client.get_cookie(COOKIE_NAME) is None
    assert client.get("/checkout/sites/2").status_code == 401


def _confirm_form(client: FlaskClient) -> dict[str, str]:
    """The Change page's form confirming a Premium upgrade, as the browser posts it."""
    html = _page(client)
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    return {
        "csrf": _csrf(shown),
        "choice": "premium:1-month",
        "addons-for": "premium",
        "addon-extra-disk": "0",
        "quote": _field(shown, "quote"),
        "shown": _field(shown, "shown"),
        "do": "confirm",
    }


def test_confirming_the_same_quote_again_shows_that_changes_confirmation(
    client: FlaskClient, fake: FakeBridge
) -> None:
    form = _confirm_form(client)
    first = client.post("/checkout/sites/2", data=form)
    assert first.status_code == 303
    # The owner reloads the POST (its answer was lost) or clicks twice: the same form again.
    again = client.post("/checkout/sites/2", data=form)
    assert fake.commits == ["q2"]
    # That change's page, not "your membership changed": what was done, the invoice, limits.
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    page = _text(client.get(again.headers["Location"]).text)
    assert "Done: you are now on Premium" in page
    assert "Invoice number: INV-0001" in page
    assert "These limits apply now." in page


def test_confirming_an_unpaid_change_again_goes_back_to_waiting_for_its_payment(
    client: FlaskClient, fake: FakeBridge
) -> None:
    fake.gateway = "manual"
    form = _confirm_form(client)
    first = client.post("/checkout/sites/2", data=form)
    fake.pending_invoice = True
    again = client.post("/checkout/sites/2", data=form)
    assert fake.commits == ["q2"]
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    page = client.get(again.headers["Location"]).text
    assert "Waiting for your payment" in page
    assert "Invoice number: INV-0001" in page


def test_confirming_again_after_the_changes_invoice_expired_changes_nothing_and_says_so(
    client: FlaskClient, fake: FakeBridge
) -> None:
    fake.gateway = "manual"
    form = _confirm_form(client)
    client.post("/checkout/sites/2", data=form)  # its invoice was never paid, and expired
    again = client.post("/checkout/sites/2", data=form)
    assert again.status_code == 409
    assert fake.commits == ["q2"] and fake.memberships[2].plan == "free"
    assert "That page was from an earlier checkout, so nothing was changed." in again.text


def test_confirming_after_changing_the_choice_shows_the_new_summary_instead(
    client: FlaskClient, fake: FakeBridge
) -> None:
    html = _page(client)
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    response = client.post(
        "/checkout/sites/2",
        data={
            "csrf": _csrf(shown),
            "choice": "premium:1-year",
            "addons-for": "premium",
            "quote": _field(shown, "quote"),
            "shown": _field(shown, "shown"),
            "do": "confirm",
        },
    )
    assert response.status_code == 200
    assert fake.commits == []
    assert "Check it and confirm again." in response.text
    assert "$600.00" in _text(response.text)


def test_a_quote_reference_from_another_session_is_not_committed(
    fake: FakeBridge, client: FlaskClient
) -> None:
    other = _app(fake).test_client()
    theirs = _page(other, jti="b" * 32)
    theirs = other.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(theirs), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    mine = _page(client, jti="c" * 32)
    response = client.post(
        "/checkout/sites/2",
        data={
            "csrf": _csrf(mine),
            "choice": "premium:1-month",
            "addons-for": "premium",
            "addon-extra-disk": "0",
            "quote": _field(theirs, "quote"),
            "shown": _field(theirs, "shown"),
            "do": "confirm",
        },
    )
    assert response.status_code == 200
    assert fake.commits == []


def test_with_the_manual_gateway_the_owner_waits_for_the_operator(
    client: FlaskClient, fake: FakeBridge
) -> None:
    fake.gateway = "manual"
    html = _page(client)
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    response = client.post(
        "/checkout/sites/2",
        data={
            "csrf": _csrf(shown),
            "choice": "premium:1-month",
            "addons-for": "premium",
            "addon-extra-disk": "0",
            "quote": _field(shown, "quote"),
            "shown": _field(shown, "shown"),
            "do": "confirm",
        },
    )
    fake.pending_invoice = True
    page = client.get(response.headers["Location"]).text
    assert "Waiting for your payment" in page
    assert "Invoice number: INV-0001" in page
    # When the invoice expires, in the site's timezone (Oslo: UTC+2 in April).
    assert "Pay it by Apr 12, 2026, 2:00:00 AM." in _text(page)
    assert "result=pending" in page
    again = client.get("/checkout/sites/2").text
    assert 'id="pending-invoice"' in again
    assert "Invoice number: INV-0001" in again


def test_a_commit_refused_for_an_unpaid_change_says_why(
    client: FlaskClient, fake: FakeBridge
) -> None:
    fake.pending_invoice = True
    html = _page(client)
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    response = client.post(
        "/checkout/sites/2",
        data={
            "csrf": _csrf(shown),
            "choice": "premium:1-month",
            "addons-for": "premium",
            "addon-extra-disk": "0",
            "quote": _field(shown, "quote"),
            "shown": _field(shown, "shown"),
            "do": "confirm",
        },
    )
    assert response.status_code == 409
    assert "An earlier change is still waiting for its payment." in response.text


def test_the_summary_endpoint_returns_the_summary_and_the_plans_add_ons(
    client: FlaskClient,
) -> None:
    html = _page(client)
    response = client.post(
        "/checkout/sites/2/summary",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    )
    reply = response.get_json()
    assert reply["addons_for"] == "premium"
    assert "$60.00" in reply["summary"]
    assert 'name="addon-extra-disk"' in reply["addons"]


# -- scheduled changes ---------------------------------------------------------------------


def _schedule_free(client: FlaskClient) -> None:
    html = _page(client, site_id=3, jti="d" * 32)
    # Within Free's limits: 15 posts would block, so the owner trashed some first.
    shown = client.post(
        "/checkout/sites/3",
        data={"csrf": _csrf(html), "choice": "free:1-month", "addons-for": "premium"},
    ).text
    assert "Your plan changes to Free on May 1, 2026." in _text(shown)
    response = client.post(
        "/checkout/sites/3",
        data={
            "csrf": _csrf(shown),
            "choice": "free:1-month",
            "addons-for": "free",
            "addon-extra-disk": "0",
            "quote": _field(shown, "quote"),
            "shown": _field(shown, "shown"),
            "do": "confirm",
        },
    )
    assert response.status_code == 303
    assert "result=scheduled" in response.headers["Location"]


def test_a_scheduled_downgrade_is_shown_and_can_be_cancelled(
    client: FlaskClient, fake: FakeBridge
) -> None:
    m = fake.memberships[3]
    fake.memberships[3] = replace(m, sites=(Site(3, "Blog 3", Usage(posts={"post": 4})),))
    _schedule_free(client)
    page = client.get(_start(client, site_id=3, intent="cancel_scheduled", jti="e" * 32)).text
    assert "Your plan changes to Free on May 1, 2026." in _text(page)
    response = client.post("/checkout/sites/3/scheduled/cancel", data={"csrf": _csrf(page)})
    assert response.status_code == 303
    assert fake.cancelled == [3]
    done = client.get(response.headers["Location"]).text
    assert "Your scheduled change is cancelled" in done
    assert "result=cancelled" in done


def test_confirming_a_scheduled_downgrade_again_shows_it_as_scheduled(
    client: FlaskClient, fake: FakeBridge
) -> None:
    m = fake.memberships[3]
    fake.memberships[3] = replace(m, sites=(Site(3, "Blog 3", Usage(posts={"post": 4})),))
    html = _page(client, site_id=3, jti="f" * 32)
    shown = client.post(
        "/checkout/sites/3",
        data={"csrf": _csrf(html), "choice": "free:1-month", "addons-for": "premium"},
    ).text
    form = {
        "csrf": _csrf(shown),
        "choice": "free:1-month",
        "addons-for": "free",
        "addon-extra-disk": "0",
        "quote": _field(shown, "quote"),
        "shown": _field(shown, "shown"),
        "do": "confirm",
    }
    first = client.post("/checkout/sites/3", data=form)
    again = client.post("/checkout/sites/3", data=form)
    assert len(fake.commits) == 1
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert "Your change is scheduled" in client.get(again.headers["Location"]).text


def test_the_change_page_shows_a_scheduled_change_with_a_cancel_button(
    client: FlaskClient, fake: FakeBridge
) -> None:
    m = fake.memberships[3]
    fake.memberships[3] = replace(m, sites=(Site(3, "Blog 3", Usage(posts={"post": 4})),))
    _schedule_free(client)
    page = client.get("/checkout/sites/3").text
    assert 'id="scheduled-change"' in page
    assert 'id="cancel-scheduled"' in page


# -- people's habits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "words", "money"),
    [
        ("nb_NO", "Å betale nå", "60,00\xa0USD"),
        ("ms_MY", "Perlu dibayar sekarang", "USD60.00"),
        ("id_ID", "Harus dibayar sekarang", "US$60,00"),
        ("en_US", "Due now", "$60.00"),
    ],
)
def test_the_page_speaks_the_owners_language_with_their_number_formats(
    client: FlaskClient, locale: str, words: str, money: str
) -> None:
    html = _page(client, locale=locale)
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    assert f'<html lang="{locale.replace("_", "-")}">' in shown
    assert words in shown
    assert money in shown


def test_dates_are_formatted_for_the_locale_in_the_sites_timezone(client: FlaskClient) -> None:
    html = _page(client, locale="nb_NO")
    shown = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    ).text
    # 2026-05-11T00:00Z is 02:00 in Oslo: still 11 May.
    assert "11. mai 2026" in shown


def test_an_unsupported_locale_falls_back_to_english(client: FlaskClient) -> None:
    html = _page(client, locale="de_DE")
    assert '<html lang="en-US">' in html
    assert "Change your plan" in html


def test_problem_pages_follow_the_browsers_language(client: FlaskClient) -> None:
    response = client.get(
        "/checkout/start",
        query_string={"token": "garbage"},
        headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"},
    )
    assert response.status_code == 401
    assert 'lang="nb-NO"' in response.text
    assert "This checkout link is not valid." not in response.text


def test_a_refused_selection_is_explained(client: FlaskClient) -> None:
    html = _page(client)
    response = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "basic:1-month", "addons-for": "free"},
    )
    assert response.status_code == 200
    assert "This plan is not offered for your site." in response.text


def test_the_facade_errors_do_not_leak_into_the_page(client: FlaskClient, fake: FakeBridge) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise BridgeError("database is on fire", "internal")

    html = _page(client)
    fake.create_quote = broken  # type: ignore[method-assign]
    response = client.post(
        "/checkout/sites/2",
        data={"csrf": _csrf(html), "choice": "premium:1-month", "addons-for": "free"},
    )
    assert "We could not work out the amounts." in response.text
    assert "fire" not in response.text


def test_a_token_signed_with_the_previous_secret_starts_a_checkout_during_a_rotation(
    fake: FakeBridge,
) -> None:
    previous = "whsec_" + base64.b64encode(b"previous-checkout-secret-32-byte").decode()
    rotating = _app(fake, previous_secret=previous).test_client()
    response = rotating.get("/checkout/start", query_string={"token": _token(secret=previous)})
    assert response.status_code == 303
    not_rotating = _app(fake).test_client()
    refused = not_rotating.get(
        "/checkout/start", query_string={"token": _token(secret=previous, jti="f" * 32)}
    )
    assert refused.status_code == 401


def test_a_site_with_no_stored_url_has_no_way_back_but_wordpress_and_no_redirect(
    fake: FakeBridge, client: FlaskClient
) -> None:
    fake.site_urls[2] = ""
    response = client.get(
        "/checkout/start", query_string={"token": _token(return_url="https://evil.example/x")}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers


def test_an_unknown_checkout_address_or_method_answers_with_a_page(client: FlaskClient) -> None:
    for response in (client.get("/checkout/sites/abc"), client.delete("/checkout/start")):
        assert response.status_code in (404, 405)
        assert response.mimetype == "text/html"
        assert "<html" in response.text.lower()
