"""The operator's console: sign-in, roles, CSRF, every form's validation, the picture."""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.adapters.storage.models import AuditEntry
from bridge.app import build_app, runtime_of
from bridge.config import load_settings
from bridge.contract import mint_operator_token
from bridge.services import catalog as catalogs
from bridge.services.context import SYSTEM
from tests.api.conftest import ADMIN_TOKEN, SECRET

ROOT = Path(__file__).resolve().parents[2]
WORKED = ROOT / "examples" / "catalog-worked-examples.yaml"


@pytest.fixture
def console_app(tmp_path: Path, api_template_db: Path) -> Iterator[Flask]:
    db = tmp_path / "bridge.db"
    shutil.copy(api_template_db, db)
    settings = load_settings(
        {"BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN, "BRIDGE_WEBHOOK_SECRET": SECRET}, ROOT / "config.yaml"
    )
    settings = replace(
        settings,
        database_url=f"sqlite:///{db}",
        queue=replace(settings.queue, path=str(tmp_path / "queue.db")),
    )
    app = build_app(settings)
    catalogs.start_up(runtime_of(app).ctx, SYSTEM)
    yield app
    runtime_of(app).close()


def token(role: str = "operator", *, exp_in: int = 300, secret: str = SECRET) -> str:
    payload = {
        "user_id": 1,
        "login": "admin",
        "role": role,
        "exp": int(time.time()) + exp_in,
        "jti": secrets.token_urlsafe(8),
    }
    return mint_operator_token(secret, payload)


def signed_in(app: Flask, role: str = "operator") -> FlaskClient:
    client = app.test_client()
    answer = client.post("/admin/sign-in", data={"token": token(role)})
    assert answer.status_code == 303
    return client


def csrf(client: FlaskClient, path: str = "/admin/") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def errors_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="error" id="err-([^"]+)">([^<]*)</p>', html))


def product_form(client: FlaskClient, pid: str, **changes: Any) -> dict[str, Any]:
    """The edit form of `pid` as the browser would post it, with `changes`."""
    html = client.get(f"/admin/products/{pid}").get_data(as_text=True)
    form: dict[str, Any] = {}
    for name, value in re.findall(
        r'<input type="text" id="[^"]+" name="([^"]+)" value="([^"]*)"', html
    ):
        form[name] = value
    unit = re.search(r'name="billing_unit".*?<option value="(\w+)" selected>', html, re.S)
    form["billing_unit"] = unit.group(1) if unit else "month"
    form["kind"] = re.search(r'name="kind" value="(\w+)"', html).group(1)  # type: ignore[union-attr]
    form["variations"] = re.search(r'name="variations"[^>]*>([^<]*)<', html).group(1)  # type: ignore[union-attr]
    form["addons"] = re.findall(r'name="addons" value="([^"]+)" checked', html)
    if 'id="active" name="active" checked' in html:
        form["active"] = "on"
    form["csrf"] = csrf(client, f"/admin/products/{pid}")
    form.update(changes)
    return form


def current(app: Flask) -> Any:
    return runtime_of(app).ctx.snapshot()


def test_every_page_needs_a_session(console_app: Flask) -> None:
    client = console_app.test_client()
    for path in ("/admin/", "/admin/products", "/admin/products/free", "/admin/groups"):
        assert client.get(path).status_code == 401
    assert client.post("/admin/groups", data={}).status_code == 401


def test_a_sign_in_token_works_once(console_app: Flask) -> None:
    client = console_app.test_client()
    link = token()
    assert client.get(f"/admin/sign-in?token={link}").status_code == 303
    assert client.get("/admin/").status_code == 200
    again = console_app.test_client().get(f"/admin/sign-in?token={link}")
    assert again.status_code == 401
    assert "used already" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "bad",
    [
        token(exp_in=-10),
        token(exp_in=3600),
        token(secret="whsec_" + "A" * 43 + "="),
        token(role="owner"),
        "not-a-token",
    ],
    ids=["expired", "too-long-lived", "forged", "unknown-role", "malformed"],
)
def test_a_bad_sign_in_token_is_refused(console_app: Flask, bad: str) -> None:
    client = console_app.test_client()
    assert client.post("/admin/sign-in", data={"token": bad}).status_code == 401
    assert client.get("/admin/").status_code == 401


def test_the_sign_in_is_audited_with_the_wordpress_user(console_app: Flask) -> None:
    signed_in(console_app)
    with runtime_of(console_app).sessions() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.action == "console.sign_in")).scalars()
        details = [r.details for r in rows]
    assert details == [{"who": "wp:admin#1", "role": "operator", "how": "network_admin"}]


def test_the_console_session_never_authenticates_the_json_api(console_app: Flask) -> None:
    client = signed_in(console_app)
    assert client.get("/api/v1/sites/2").status_code == 401


def test_a_form_without_the_csrf_secret_is_refused(console_app: Flask) -> None:
    client = signed_in(console_app)
    for path in (
        "/admin/groups",
        "/admin/products/premium",
        "/admin/products/new",
        "/admin/products/basic/retire",
        "/admin/catalog/revert",
        "/admin/catalog/import-config",
        "/admin/sign-out",
    ):
        answer = client.post(path, data={"confirm": "save", "reason": "x"})
        assert answer.status_code == 403, path
    assert current(console_app).version == 1


def test_a_viewer_reads_every_page_and_cannot_post(console_app: Flask) -> None:
    client = signed_in(console_app, "viewer")
    for path in ("/admin/", "/admin/products", "/admin/products/premium", "/admin/groups"):
        assert client.get(path).status_code == 200, path
    token_ = csrf(client)
    html = client.get("/admin/groups").get_data(as_text=True)
    assert "Save" not in html and "disabled" in html
    answer = client.post(
        "/admin/products/premium/retire", data={"csrf": token_, "confirm": "save", "reason": "x"}
    )
    assert answer.status_code == 403
    assert current(console_app).version == 1


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"price": "abc"}, "price", ""),
        ({"price": "-1.00"}, "price", "negative"),
        ({"billing_every": "0"}, "billing", "every"),
        ({"setup_fee": "1.234"}, "setup_fee", ""),
        ({"trial_days": "-3"}, "trial_days", "≥ 0"),
        ({"variations": "yearly 290"}, "variations", "1 year 290.00"),
        ({"variations": "1 week 10.00"}, "addons", "ratio"),
        ({"limit_disk_mb": "lots"}, "limit_disk_mb", "disk_mb"),
        ({"limit_users": "-1"}, "limit_users", "users"),
        ({"posts": "post10"}, "posts", "post=10"),
        ({"posts": "post=many"}, "posts", "posts.post"),
        ({"name": ""}, "name", "non-empty"),
    ],
)
def test_product_form_errors_show_next_to_their_field(
    console_app: Flask, changes: dict[str, str], field: str, says: str
) -> None:
    client = signed_in(console_app)
    answer = client.post("/admin/products/premium", data=product_form(client, "premium", **changes))
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    errors = errors_of(html)
    assert field in errors and says in errors[field], errors
    assert current(console_app).version == 1
    # The input itself is marked invalid and described by its error (for screen readers).
    inputs = re.findall(r"<(?:input|select|textarea|fieldset)\b[^>]*>", html)
    described = [tag for tag in inputs if f'aria-describedby="err-{field}' in tag]
    assert described, f"no control is described by err-{field}"
    assert all('aria-invalid="true"' in tag or tag.startswith("<fieldset") for tag in described)


def test_retiring_the_default_plan_is_refused_next_to_on_sale(console_app: Flask) -> None:
    client = signed_in(console_app)
    form = product_form(client, "free")
    form.pop("active")
    answer = client.post("/admin/products/free", data=form)
    assert answer.status_code == 400
    assert "cannot be retired" in errors_of(answer.get_data(as_text=True))["active"]


def test_a_product_edit_previews_its_impact_then_saves_with_a_reason(console_app: Flask) -> None:
    client = signed_in(console_app)
    preview = client.post(
        "/admin/products/premium", data=product_form(client, "premium", price="35.00")
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Impact of saving" in html and "35.00" in html
    assert current(console_app).version == 1
    no_reason = client.post(
        "/admin/products/premium",
        data=product_form(client, "premium", price="35.00", confirm="save", base_version="1"),
    )
    assert no_reason.status_code == 400
    assert "Say why" in errors_of(no_reason.get_data(as_text=True))["reason"]
    saved = client.post(
        "/admin/products/premium",
        data=product_form(
            client, "premium", price="35.00", confirm="save", reason="new prices", base_version="1"
        ),
    )
    assert saved.status_code == 303
    snapshot = current(console_app)
    assert (snapshot.version, snapshot.catalog.products["premium"].price_minor) == (2, 3500)
    record = catalogs.version_record(runtime_of(console_app).ctx, 2)
    assert (record.actor, record.reason, record.source) == ("wp:admin#1", "new prices", "console")


def test_a_new_product_needs_a_fresh_id(console_app: Flask) -> None:
    client = signed_in(console_app)
    form = {
        "csrf": csrf(client),
        "id": "premium",
        "name": "X",
        "kind": "package",
        "price": "1.00",
        "billing_every": "1",
        "billing_unit": "month",
        "active": "on",
    }
    answer = client.post("/admin/products/new", data=form)
    assert "exists already" in errors_of(answer.get_data(as_text=True))["id"]
    form.update(id="more disk!")
    assert "id" in errors_of(client.post("/admin/products/new", data=form).get_data(as_text=True))
    form.update(id="backup", name="Backups", confirm="save", reason="new package")
    assert client.post("/admin/products/new", data=form).status_code == 303
    assert current(console_app).catalog.products["backup"].kind == "package"


def test_retire_previews_then_retires_with_a_reason(console_app: Flask) -> None:
    client = signed_in(console_app)
    token_ = csrf(client)
    preview = client.post("/admin/products/basic/retire", data={"csrf": token_})
    assert preview.status_code == 200 and "Impact of saving" in preview.get_data(as_text=True)
    done = client.post(
        "/admin/products/basic/retire",
        data={"csrf": token_, "confirm": "save", "reason": "old", "base_version": "1"},
    )
    assert done.status_code == 303
    assert current(console_app).catalog.products["basic"].active is False


def group_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    html = client.get("/admin/groups").get_data(as_text=True)
    form = dict(
        re.findall(
            r'name="((?:group|order)-[\w-]+)" id="[^"]+" aria-label="[^"]+" value="([^"]*)"', html
        )
    )
    form["csrf"] = csrf(client, "/admin/groups")
    form["base_version"] = str(re.search(r'name="base_version" value="(\d*)"', html).group(1))  # type: ignore[union-attr]
    form.update(changes)
    return form


def offered_in_page(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'class="path-row" data-from="([^"]+)" data-to="([^"]+)"', html))


def test_regrouping_previews_the_picture_before_saving(console_app: Flask) -> None:
    client = signed_in(console_app)
    html = client.get("/admin/groups").get_data(as_text=True)
    assert "<svg" in html and ("free", "premium") in offered_in_page(html)
    assert ("free", "basic") not in offered_in_page(html)
    preview = client.post("/admin/groups", data=group_form(client, **{"group-basic": "High End"}))
    shown = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "(preview)" in shown
    assert ("free", "basic") in offered_in_page(shown)
    assert current(console_app).catalog.products["basic"].group is None
    saved = client.post(
        "/admin/groups",
        data=group_form(
            client, **{"group-basic": "High End", "confirm": "save", "reason": "one family"}
        ),
    )
    assert saved.status_code == 303
    assert current(console_app).catalog.products["basic"].group == "High End"


def test_with_no_move_left_the_page_says_so_instead_of_an_empty_table(
    console_app: Flask,
) -> None:
    client = signed_in(console_app)
    ctx = runtime_of(console_app).ctx
    data = catalogs.export_catalog(ctx, None)
    for pid in ("basic", "premium"):
        data["products"][pid]["active"] = False
    data["products"]["free"].pop("variations")  # Free monthly only: not even a crossgrade
    catalogs.import_catalog(ctx, data, SYSTEM, "test", "only Free is sold")
    html = client.get("/admin/groups").get_data(as_text=True)
    assert 'id="no-moves"' in html
    assert "Every move the picture shows" not in html


def test_a_group_order_must_be_a_whole_number(console_app: Flask) -> None:
    client = signed_in(console_app)
    answer = client.post("/admin/groups", data=group_form(client, **{"order-free": "first"}))
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "whole number" in errors_of(html)["order-free"]
    order_input = re.search(r'<input[^>]*id="order-free"[^>]*>', html)
    assert order_input is not None
    assert 'aria-invalid="true"' in order_input.group(0)
    assert 'aria-describedby="err-order-free"' in order_input.group(0)


def test_a_differing_config_catalog_is_offered_for_import(console_app: Flask) -> None:
    client = signed_in(console_app)
    assert "differs" not in client.get("/admin/").get_data(as_text=True)
    form = product_form(
        client, "premium", price="35.00", confirm="save", reason="r", base_version="1"
    )
    client.post("/admin/products/premium", data=form)
    page = client.get("/admin/").get_data(as_text=True)
    assert "differs from the current version" in page
    token_ = csrf(client)
    preview = client.post("/admin/catalog/import-config", data={"csrf": token_})
    assert "29.00" in preview.get_data(as_text=True)
    done = client.post(
        "/admin/catalog/import-config",
        data={"csrf": token_, "confirm": "save", "reason": "back to config", "base_version": "2"},
    )
    assert done.status_code == 303
    assert current(console_app).catalog.products["premium"].price_minor == 2900


def test_revert_and_export_of_a_version(console_app: Flask) -> None:
    client = signed_in(console_app)
    client.post(
        "/admin/products/premium",
        data=product_form(
            client, "premium", price="35.00", confirm="save", reason="r", base_version="1"
        ),
    )
    assert "price: '35.00'" in client.get("/admin/catalog/export.yaml").get_data(as_text=True)
    assert "price: '29.00'" in client.get("/admin/catalog/export.yaml?version=1").get_data(
        as_text=True
    )
    token_ = csrf(client)
    done = client.post(
        "/admin/catalog/revert",
        data={
            "csrf": token_,
            "version": "1",
            "confirm": "save",
            "reason": "undo",
            "base_version": "2",
        },
    )
    assert done.status_code == 303
    assert current(console_app).version == 3


def test_a_save_on_a_stale_version_is_a_conflict(console_app: Flask) -> None:
    client = signed_in(console_app)
    form = product_form(
        client, "premium", price="35.00", confirm="save", reason="r", base_version="1"
    )
    client.post("/admin/products/premium", data=form)
    form.update(price="36.00")
    assert client.post("/admin/products/premium", data=form).status_code == 409


def test_the_version_list_is_paginated(console_app: Flask) -> None:
    client = signed_in(console_app)
    ctx = runtime_of(console_app).ctx
    for n in range(12):
        data = catalogs.export_catalog(ctx)
        data["products"]["premium"]["price"] = f"{30 + n}.00"  # type: ignore[index]
        catalogs.import_catalog(ctx, data, SYSTEM, "t", "t")
    first = client.get("/admin/").get_data(as_text=True)
    second = client.get("/admin/?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "<tr><td>1</td>" in second and "<tr><td>1</td>" not in first
