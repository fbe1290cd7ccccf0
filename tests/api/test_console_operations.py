"""The console's operations pages: memberships (search, page, actions with a confirmation),
invoices (mark paid), sites and pushes (repush), events, audit log and the dashboard."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from bridge.adapters.storage.models import AuditEntry, LedgerEntry, MembershipRow
from bridge.app import build_app, runtime_of
from bridge.config import load_settings
from bridge.domain.membership import Selection
from bridge.domain.money import parse_amount, round_minor
from bridge.services import catalog as catalogs
from bridge.services import operator, quotes
from bridge.services.context import OPERATOR, SYSTEM, Context
from bridge.services.ports import NewInvoice
from tests.api.conftest import ADMIN_TOKEN, SECRET
from tests.api.test_console_pages import csrf, errors_of, signed_in

ROOT = Path(__file__).resolve().parents[2]
API = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PAGES: tuple[str, ...] = (
    "/admin/dashboard",
    "/admin/memberships",
    "/admin/invoices",
    "/admin/sites",
    "/admin/events",
    "/admin/audit",
    "/admin/memberships/1",
)


@pytest.fixture
def gateway() -> str:
    return "test"


@pytest.fixture
def app(tmp_path: Path, api_template_db: Path, gateway: str) -> Iterator[Flask]:
    db = tmp_path / "bridge.db"
    shutil.copy(api_template_db, db)
    settings = load_settings(
        {"BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN, "BRIDGE_WEBHOOK_SECRET": SECRET}, ROOT / "config.yaml"
    )
    settings = replace(
        settings,
        database_url=f"sqlite:///{db}",
        queue=replace(settings.queue, path=str(tmp_path / "queue.db")),
        gateway=gateway,  # type: ignore[arg-type]
    )
    built = build_app(settings)
    catalogs.start_up(runtime_of(built).ctx, SYSTEM)
    yield built
    runtime_of(built).close()


def ctx_of(app: Flask) -> Context:
    return runtime_of(app).ctx


def put(app: Flask, site_id: int, body: dict[str, Any], email: str | None = None) -> None:
    body = {
        **body,
        "site": {
            "url": f"http://127.0.0.1/site{site_id}/",
            "name": f"Site {site_id}",
            "owner": {"user_id": 100 + site_id, "email": email or f"owner{site_id}@example.test"},
        },
    }
    answer = app.test_client().put(f"/api/v1/sites/{site_id}/membership", json=body, headers=API)
    assert answer.status_code == 200, answer.get_json()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """Five memberships: monthly, yearly with add-ons, every two weeks, a trial, one in EUR."""
    put(app, 2, {"plan": "premium"}, email="Alice@Example.test")
    put(
        app,
        3,
        {
            "plan": "premium",
            "billing": {"every": 1, "unit": "year"},
            "addons": {"extra-disk": {"quantity": 2, "price": "4.00"}, "unlimited-visits": 1},
        },
    )
    put(app, 4, {"plan": "basic", "price": "3.33"})
    put(app, 5, {"plan": "basic", "status": "trialing"})
    put(app, 6, {"plan": "basic", "status": "past_due", "price": "10.01"})
    # Terms the API cannot set (a billing the plan does not offer, another currency), stored
    # as an import from another system would leave them.
    edit(app, 4, billing={"every": 2, "unit": "week"})
    edit(app, 6, currency="EUR")
    return app


def edit(app: Flask, site_id: int, **values: Any) -> None:
    mid = membership_id(app, site_id)
    with ctx_of(app).uow() as uow:
        uow._session.execute(  # type: ignore[attr-defined]
            update(MembershipRow).where(MembershipRow.id == mid).values(**values)
        )
        uow.commit()


def membership_id(app: Flask, site_id: int) -> int:
    with ctx_of(app).uow() as uow:
        site = uow.sites.get(site_id)
        assert site is not None and site.membership_id is not None
        return site.membership_id


def audit_rows(app: Flask) -> list[AuditEntry]:
    with ctx_of(app).uow() as uow:
        return list(uow._session.execute(select(AuditEntry)).all())  # type: ignore[attr-defined]


def ledger_reasons(app: Flask) -> list[str]:
    with ctx_of(app).uow() as uow:
        rows = uow._session.execute(select(LedgerEntry.reason))  # type: ignore[attr-defined]
        return [r for (r,) in rows]


def hidden_of(html: str) -> dict[str, str]:
    """The hidden fields of a confirmation page's form (what its "Do it" button posts)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


# -- every page: signed in, read by a viewer ---------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_session_and_a_viewer_reads_it(seeded: Flask, path: str) -> None:
    _open_invoice(seeded, 2)
    _kill(seeded, 3)
    assert seeded.test_client().get(path).status_code == 401
    viewer = signed_in(seeded, "viewer")
    page = viewer.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script" not in html
    assert html.count('method="post"') == 1  # signing out, and no form that changes anything
    assert "Repush" not in html and "Mark paid" not in html and "Review" not in html


def test_a_viewer_cannot_change_anything(seeded: Flask) -> None:
    viewer = signed_in(seeded, "viewer")
    token = csrf(viewer)
    mid = membership_id(seeded, 2)
    posts: list[tuple[str, dict[str, str]]] = [
        (f"/admin/memberships/{mid}/balance", {"amount": "5.00", "reason": "r", "confirm": "yes"}),
        (f"/admin/memberships/{mid}/cancel", {"mode": "immediate", "reason": "r"}),
        ("/admin/sites/repush", {"which": "dead", "reason": "r"}),
        ("/admin/invoices/x/pay", {"reference": "r", "reason": "r"}),
    ]
    before = len(audit_rows(seeded))
    for path, form in posts:
        answer = viewer.post(path, data={**form, "csrf": token})
        assert answer.status_code == 403
        assert "Read only" in answer.get_data(as_text=True)
    assert len(audit_rows(seeded)) == before


def test_every_form_needs_the_csrf_secret(seeded: Flask) -> None:
    client = signed_in(seeded)
    mid = membership_id(seeded, 2)
    for path in (
        f"/admin/memberships/{mid}/balance",
        "/admin/sites/repush",
        "/admin/invoices/x/pay",
    ):
        for token in (None, "forged"):
            data = {"amount": "1.00", "reason": "r", "which": "dead", "reference": "x"}
            if token:
                data["csrf"] = token
            assert client.post(path, data=data).status_code == 403


# -- memberships -------------------------------------------------------------------------------


def test_search_by_owner_email_site_name_id_and_plan(seeded: Flask) -> None:
    client = signed_in(seeded)

    def found(**query: str) -> list[str]:
        html = client.get("/admin/memberships", query_string=query).get_data(as_text=True)
        return re.findall(r"\(site (\d+),", html)

    assert found(q="alice@example.TEST") == ["2"]
    assert found(q="Site 3") == ["3"]
    assert found(q="4") == ["4", "5"]  # site 4, and membership 4 (site 5's)
    assert found(plan="basic") == ["4", "5", "6"]
    assert found(q="Site", plan="premium") == ["2", "3"]
    assert found(q="nobody@example.test") == []
    assert found(q="50%_") == []


def test_search_is_paginated(app: Flask) -> None:
    for site_id in range(2, 30):
        put(app, site_id, {"plan": "basic"})
    client = signed_in(app)
    first = client.get("/admin/memberships").get_data(as_text=True)
    assert "Page 1 of 2 (28 in all)" in first
    assert len(re.findall(r"\(site (\d+),", first)) == 25
    second = client.get("/admin/memberships?plan=basic&page=2").get_data(as_text=True)
    assert re.findall(r"\(site (\d+),", second) == ["27", "28", "29"]
    assert "page=1" in second and "plan=basic" in second  # the pager keeps the filter


def test_membership_page_shows_terms_sites_usage_invoices_and_ledger(seeded: Flask) -> None:
    client = signed_in(seeded)
    html = client.get(f"/admin/memberships/{membership_id(seeded, 3)}").get_data(as_text=True)
    assert "premium at 290.00 USD every 1 year" in html
    assert "2 × extra-disk at 4.00 USD" in html
    assert "Site 3" in html and 'class="bar"' in html
    assert "disk_mb" in html and "12288" in html  # 10240 + 2 × 1024
    assert client.get("/admin/memberships/999").status_code == 404


def test_the_ledger_is_paginated_newest_first(seeded: Flask) -> None:
    ctx = ctx_of(seeded)
    for n in range(1, 31):
        operator.move_balance(ctx, 2, 100, "1.00", f"movement {n}", OPERATOR, "adjustment")
    client = signed_in(seeded)
    path = f"/admin/memberships/{membership_id(seeded, 2)}"
    first = client.get(path).get_data(as_text=True)
    assert "Page 1 of 2 (30 in all)" in first
    assert first.index("movement 30<") < first.index("movement 29<")
    assert "movement 5<" not in first
    second = client.get(path + "?page=2").get_data(as_text=True)
    assert "movement 5<" in second and "movement 1<" in second and "movement 6<" not in second


def test_adjust_balance_shows_what_it_will_do_then_lands_in_ledger_and_audit(
    seeded: Flask,
) -> None:
    client = signed_in(seeded)
    token = csrf(client)
    mid = membership_id(seeded, 2)
    path = f"/admin/memberships/{mid}/balance"
    form = {"csrf": token, "amount": "12.50", "reason": "goodwill for the outage"}
    preview = client.post(path, data=form)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "the balance goes from 0.00 USD to 12.50 USD" in html
    assert "goodwill for the outage" not in ledger_reasons(seeded)  # nothing done yet
    confirmed = {**hidden_of(html), "csrf": token}
    assert confirmed["confirm"] == "yes" and confirmed["amount"] == "12.50"
    done = client.post(path, data=confirmed)
    assert done.status_code == 303
    again = client.post(path, data=confirmed)  # a second click, a reload: not done twice
    assert again.status_code == 409 and "used already" in again.get_data(as_text=True)
    assert ledger_reasons(seeded).count("goodwill for the outage") == 1
    forged = client.post(path, data={**form, "confirm": "yes"})  # no confirmation step
    assert forged.status_code == 409
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "12.50 USD" in page and "goodwill for the outage" in page
    assert "goodwill for the outage" in ledger_reasons(seeded)
    entry = next(a for a in audit_rows(seeded) if a.action == "balance.adjustment")
    assert entry.actor == "operator:wp:admin#1"
    assert entry.details["reason"] == "goodwill for the outage"
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "goodwill for the outage" in audit_page and "operator:wp:admin#1" in audit_page


def test_action_validation(seeded: Flask) -> None:
    client = signed_in(seeded)
    token = csrf(client)
    mid = membership_id(seeded, 2)

    def post(action: str, **form: str) -> tuple[int, dict[str, str]]:
        answer = client.post(f"/admin/memberships/{mid}/{action}", data={"csrf": token, **form})
        return answer.status_code, errors_of(answer.get_data(as_text=True))

    assert post("balance", amount="5.00") == (400, {"reason": "Say why (the audit log keeps it)."})
    status, errors = post("balance", amount="5.001", reason="r")
    assert status == 400 and "decimals" in errors["amount"]
    status, errors = post("refund", amount="1.00", reason="r")
    assert status == 400 and "below zero" in errors["amount"]
    status, errors = post("plan", plan="gold:1-month", reason="r")
    assert status == 400 and "plan" in errors
    status, errors = post("overrides", limit_users="many", reason="r")
    assert status == 400 and "limits" in errors
    status, errors = post("cancel", mode="someday", reason="r")
    assert status == 400 and "mode" in errors
    assert client.post(f"/admin/memberships/{mid}/explode", data={"csrf": token}).status_code == 404


def test_put_on_plan_override_cancel_and_refund_through_the_use_cases(seeded: Flask) -> None:
    client = signed_in(seeded)
    token = csrf(client)
    mid = membership_id(seeded, 2)

    def confirm(action: str, **form: str) -> str:
        path = f"/admin/memberships/{mid}/{action}"
        preview = client.post(path, data={"csrf": token, **form}).get_data(as_text=True)
        answer = client.post(path, data={**hidden_of(preview), "csrf": token})
        assert answer.status_code == 303, answer.get_data(as_text=True)
        return client.get(answer.headers["Location"]).get_data(as_text=True)

    preview = client.post(
        f"/admin/memberships/{mid}/plan",
        data={"csrf": token, "plan": "basic:1-year", "reason": "moved by support"},
    ).get_data(as_text=True)
    assert (
        "Put the membership on Basic (now premium at 29.00 USD every 1 month), billed every "
        "1 year at 120.00 USD" in preview
    )
    assert "basic at 120.00 USD every 1 year" in confirm(
        "plan", plan="basic:1-year", reason="moved by support"
    )
    assert "users = 7" in confirm("overrides", limit_users="7", reason="a big team")
    confirm("balance", amount="20.00", reason="credit")
    assert "12.00 USD" in confirm("refund", amount="8.00", reason="paid back by bank")
    html = confirm("cancel", mode="end_of_term", reason="customer asked")
    assert "cancellation: free" in html
    actions = {a.action: a.details.get("reason") for a in audit_rows(seeded)}
    assert actions["membership.put"] == "moved by support"
    assert actions["overrides.put"] == "a big team"
    assert actions["balance.refund"] == "paid back by bank"
    assert actions["membership.cancel"] == "customer asked"
    assert "paid back by bank" in ledger_reasons(seeded)


# -- invoices ----------------------------------------------------------------------------------


def _open_invoice(app: Flask, site_id: int) -> str:
    ctx = ctx_of(app)
    mid = membership_id(app, site_id)
    with ctx.uow() as uow:
        from bridge.domain.quote import Totals

        invoice = uow.invoices.add(
            NewInvoice(
                membership_id=mid,
                site_id=site_id,
                kind="adjustment",
                currency="USD",
                lines=(),
                totals=Totals(0, 0, 500, 0),
                created_at=ctx.now(),
            )
        )
        uow.commit()
    return invoice.id


def test_invoices_by_status_and_mark_one_paid_with_a_reference(seeded: Flask) -> None:
    invoice_id = _open_invoice(seeded, 2)
    client = signed_in(seeded)
    token = csrf(client)
    html = client.get("/admin/invoices").get_data(as_text=True)
    assert "5.00 USD" in html and f"/admin/invoices/{invoice_id}/pay" in html
    for status in ("paid", "void", "expired"):
        assert client.get(f"/admin/invoices?status={status}").status_code == 200
    path = f"/admin/invoices/{invoice_id}/pay"
    answer = client.post(path, data={"csrf": token, "reason": "bank transfer"})
    assert answer.status_code == 400
    assert "reference" in errors_of(answer.get_data(as_text=True))[f"reference-{invoice_id}"]
    answer = client.post(path, data={"csrf": token, "reference": "BANK-42"})
    assert f"reason-{invoice_id}" in errors_of(answer.get_data(as_text=True))
    answer = client.post(
        path, data={"csrf": token, "reference": "BANK-42", "reason": "bank transfer"}
    )
    assert answer.status_code == 303
    paid = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "BANK-42" in paid
    entry = next(a for a in audit_rows(seeded) if a.action.startswith("invoice."))
    assert entry.details["reason"] == "bank transfer"
    assert entry.actor == "operator:wp:admin#1"
    assert (
        client.post(
            "/admin/invoices/nope/pay", data={"csrf": token, "reference": "x", "reason": "r"}
        ).status_code
        == 409
    )


@pytest.mark.parametrize("gateway", ["manual"])
def test_a_manual_change_invoice_marked_paid_gives_the_site_its_new_limits(app: Flask) -> None:
    put(app, 2, {"plan": "free"})
    ctx = ctx_of(app)
    quote = quotes.create_quote(ctx, 2, Selection("premium"), OPERATOR)
    committed = quotes.commit_quote(ctx, quote["id"], OPERATOR)
    assert committed["status"] == "pending_payment"
    with ctx.uow() as uow:
        before = uow.limits.get(2)
    assert before is not None
    client = signed_in(app)
    html = client.get("/admin/invoices").get_data(as_text=True)
    invoice_id = committed["invoice"]["id"]
    assert f"/admin/invoices/{invoice_id}/pay" in html
    answer = client.post(
        f"/admin/invoices/{invoice_id}/pay",
        data={"csrf": csrf(client), "reference": "SEPA-7", "reason": "transfer arrived"},
    )
    assert answer.status_code == 303 and "done=paid" in answer.headers["Location"]
    site = app.test_client().get("/api/v1/sites/2", headers=API).get_json()
    assert site["membership"]["plan"]["id"] == "premium"
    assert site["limits"]["desired_version"] > before.desired_version
    assert site["limits"]["limits"]["users"] == 10  # Premium's
    entry = next(a for a in audit_rows(app) if a.action == "invoice.pay")
    assert entry.details == {
        "number": committed["invoice"]["number"],
        "reference": "SEPA-7",
        "reason": "transfer arrived",
    }


# -- sites and pushes --------------------------------------------------------------------------


def _kill(app: Flask, *site_ids: int) -> None:
    ctx = ctx_of(app)
    with ctx.uow() as uow:
        for site_id in site_ids:
            state = uow.limits.get(site_id)
            assert state is not None
            uow.limits.record_failure(
                site_id, state.desired_version, "HTTP 500 from 127.0.0.1", True, None, ctx.now()
            )
        uow.commit()


def test_sites_show_versions_errors_and_repush_selected_or_dead(seeded: Flask) -> None:
    _kill(seeded, 3, 4)
    client = signed_in(seeded)
    token = csrf(client)
    html = client.get("/admin/sites?show=dead").get_data(as_text=True)
    assert "2 sites" in html and "HTTP 500 from 127.0.0.1" in html and "dead" in html
    assert "dead: <strong>2</strong>" in html
    answer = client.post(
        "/admin/sites/repush", data={"csrf": token, "which": "dead", "reason": "site is back"}
    )
    assert answer.status_code == 303 and "queued=2" in answer.headers["Location"]
    assert "2 pushes queued." in client.get(answer.headers["Location"]).get_data(as_text=True)
    answer = client.post(
        "/admin/sites/repush",
        data={"csrf": token, "which": "selected", "site": ["2"], "reason": "check"},
    )
    assert "queued=1" in answer.headers["Location"]
    assert (
        client.post(
            "/admin/sites/repush", data={"csrf": token, "which": "selected", "reason": "x"}
        ).status_code
        == 400
    )
    assert (
        client.post("/admin/sites/repush", data={"csrf": token, "which": "dead"}).status_code == 400
    )
    repushes = [a for a in audit_rows(seeded) if a.action == "limits.repush"]
    assert [r.details["queued"] for r in repushes] == [2, 1]
    assert repushes[0].details["reason"] == "site is back"


# -- events ------------------------------------------------------------------------------------


def test_events_newest_first_with_refused_reasons(seeded: Flask) -> None:
    ctx = ctx_of(seeded)
    with ctx.uow() as uow:
        uow.receipts.add("msg_1", "payment.succeeded", "applied", ctx.now())
        uow.receipts.add("msg_2", "payment.succeeded", "refused:amount_mismatch", ctx.now())
        uow.commit()
    html = signed_in(seeded).get("/admin/events").get_data(as_text=True)
    assert html.index("msg_2") < html.index("msg_1")
    assert "<strong>refused</strong>: amount_mismatch" in html


# -- dashboard ---------------------------------------------------------------------------------

MONTHS = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52)}


def test_dashboard_figures_match_the_apis(seeded: Flask) -> None:
    """Monthly recurring revenue computed here from the API's memberships, independently."""
    _kill(seeded, 4)
    _open_invoice(seeded, 2)
    ctx = ctx_of(seeded)
    with ctx.uow() as uow:
        uow.receipts.add("old", "x", "refused:bad", ctx.now() - timedelta(days=2))
        uow.receipts.add("new", "x", "refused:bad", ctx.now())
        uow.commit()
    api = seeded.test_client()
    expected: dict[str, Fraction] = {}
    plans: dict[str, int] = {}
    for site_id in range(2, 7):
        m = api.get(f"/api/v1/sites/{site_id}", headers=API).get_json()["membership"]
        plans[m["plan"]["id"]] = plans.get(m["plan"]["id"], 0) + 1
        if m["status"] not in ("active", "past_due"):
            continue
        cur = m["currency"]
        b = m["billing"]
        value = Fraction(parse_amount(m["price"], cur)) / (MONTHS[b["unit"]] * b["every"])
        for addon in m["addons"]:  # every add-on of config.yaml is billed monthly
            value += addon["quantity"] * parse_amount(addon["price"], cur)
        expected[cur] = expected.get(cur, Fraction(0)) + value
    html = signed_in(seeded).get("/admin/dashboard").get_data(as_text=True)
    shown = dict(re.findall(r"<td>([A-Z]{3})</td><td data-minor=\"(-?\d+)\">", html))
    assert shown == {cur: str(round_minor(v)) for cur, v in expected.items()}
    # 29 + 290/12 + 2×4 + 9 + 3.33×52/(12×2) = 77.3816... USD; the trial pays nothing; 10.01 EUR
    assert shown == {"USD": "7738", "EUR": "1001"}
    assert "Before tax" in html
    members = dict(re.findall(r'<td data-plan="([^"]+)">(\d+)</td>', html))
    assert members == {k: str(v) for k, v in plans.items()}
    assert re.search(r'id="open-invoices">1<', html)
    assert re.search(r'id="dead-pushes">1<', html)
    assert re.search(r'id="refused">1<', html)


def test_a_zero_limit_with_nothing_used_is_not_a_full_bar() -> None:
    from bridge.api.console.members import usage_rows
    from bridge.domain.catalog import parse_limits
    from bridge.domain.limits import merge_limits
    from bridge.domain.membership import Usage

    limits = merge_limits(parse_limits({"custom_domains": 0, "users": 0}), [])
    rows = {r["key"]: r for r in usage_rows(Usage(custom_domains=0, users=1), limits)}
    assert rows["custom_domains"]["percent"] == 0
    assert rows["users"]["percent"] == 100


def test_the_console_shows_an_invoices_tax(seeded: Flask) -> None:
    from bridge.domain.quote import Totals
    from bridge.domain.tax import Tax, TaxTotal

    ctx = ctx_of(seeded)
    mid = membership_id(seeded, 2)
    with ctx.uow() as uow:
        uow.invoices.add(
            NewInvoice(
                membership_id=mid,
                site_id=2,
                kind="adjustment",
                currency="USD",
                lines=(),
                totals=Totals(0, 0, 625, 0),
                created_at=ctx.now(),
                tax=TaxTotal(Tax("MVA", "25", "exclusive"), 125),
            )
        )
        uow.commit()
    client = signed_in(seeded)
    for path in ("/admin/invoices", f"/admin/memberships/{mid}"):
        html = client.get(path).get_data(as_text=True)
        assert "1.25 USD" in html and "MVA 25 %" in html, path
