"""A small app with core's API and error handler, as create_app builds it (fixtures: api_*)."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.adapters.storage import make_engine, migrate
from bridge.adapters.storage.group_commit import make_committer
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.api import errors, v1
from bridge.api.state import KEY, AppState
from bridge.config import load_settings
from bridge.contract import events_webhook
from bridge.services.context import Context
from tests.services.conftest import send_event
from tests.services.fakes import FakeClock, FakeQueue

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "test-admin-token-for-the-api-0123456789"
SECRET = "whsec_" + base64.b64encode(b"core-api-tests-secret-32-bytes!!").decode()


@pytest.fixture(scope="session")
def api_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-template") / "bridge.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def api_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api_gateway() -> str:
    return "test"


@pytest.fixture
def api_app(
    tmp_path: Path, api_template_db: Path, api_clock: FakeClock, api_gateway: str
) -> Iterator[Flask]:
    db = tmp_path / "bridge.db"
    shutil.copy(api_template_db, db)
    settings = replace(
        load_settings(
            {"BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN, "BRIDGE_WEBHOOK_SECRET": SECRET},
            ROOT / "config.yaml",
        ),
        database_url=f"sqlite:///{db}",
        gateway=api_gateway,  # type: ignore[arg-type]
    )
    engine = make_engine(settings.database_url)
    app = Flask("core-api-tests")
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    queue = FakeQueue()
    uow = unit_of_work_factory(engine, queue)
    ctx = Context(settings, uow, api_clock, queue, committer=make_committer(engine, uow))
    app.extensions[KEY] = AppState(
        ctx=ctx,
        metrics=None,  # type: ignore[arg-type]  # not mounted here
        events_webhooks=(events_webhook(SECRET),),
        ping=lambda: None,
        runtime=None,  # type: ignore[arg-type]
    )
    errors.register(app)
    v1.register(app)
    yield app
    engine.dispose()


@pytest.fixture
def api_client(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


def operator() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def as_owner(
    site_id: int, user_id: int = 5, exp: int = 1_900_000_000, jti: str = "a" * 32
) -> dict[str, str]:
    from bridge.contract import mint_checkout_token

    token = mint_checkout_token(
        SECRET, {"site_id": site_id, "user_id": user_id, "exp": exp, "jti": jti, "intent": "change"}
    )
    return {"Authorization": f"Bearer {token}"}


def add_site(app: Flask, site_id: int = 2, user_id: int = 5) -> None:
    send_event(
        app.extensions[KEY].ctx,
        f"created-{site_id}",
        "site.created",
        {
            "site_id": site_id,
            "url": f"http://net.example/site{site_id}/",
            "name": f"Blog {site_id}",
            "owner": {"user_id": user_id, "email": "o@example.com", "locale": "ms_MY"},
        },
    )


def error_of(response: Any) -> tuple[int, str]:
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"]
