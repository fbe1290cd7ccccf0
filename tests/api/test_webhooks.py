"""POST /webhooks/wordpress: signature over the raw body first, then JSON, then the facade.

The app is the real one (`create_app`) on a real SQLite file, with a fake clock: tolerance tests
move the clock, never sleep. Requests are signed with the standardwebhooks library itself.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge import create_app
from bridge.adapters.storage import migrate
from bridge.app import runtime_of
from bridge.config import load_settings
from bridge.contract import events_webhook, sign_headers
from bridge.services import sites

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"webhook-tests-secret-32-bytes!!!").decode()
T0 = datetime(2026, 4, 11, 9, 30, tzinfo=UTC)


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class NoPushes:
    """The pusher seam: these tests are about receiving events, never about pushing."""

    def push_site(self, site_url: str, document: dict[str, Any], at: datetime, msg_id: str) -> Any:
        raise AssertionError("no push expected")

    def push_defaults(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> Any:
        raise AssertionError("no push expected")

    def push_notice(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> None:
        raise AssertionError("no push expected")

    def close(self) -> None:
        pass


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path}/db/bridge.db"
    env = {
        "BRIDGE_DATABASE_URL": url,
        "BRIDGE_ADMIN_TOKEN": "admin-token-for-webhook-tests-0123456789",
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_QUEUE_BACKEND": "immediate",
    }
    settings = load_settings(environ=env, path=ROOT / "config.yaml")
    migrate(url)
    app = create_app(settings, clock=clock, pusher=_Recorder())
    yield app
    runtime_of(app).close()


class _Recorder(NoPushes):
    """Accepts pushes without a network: site.created queues one (immediate queue)."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, int]] = []

    def push_site(self, site_url: str, document: dict[str, Any], at: datetime, msg_id: str) -> Any:
        from bridge.adapters.wordpress import PushResult

        self.pushed.append((site_url, int(document["version"])))
        return PushResult(applied_version=int(document["version"]), ignored=False)

    def push_defaults(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> Any:
        from bridge.adapters.wordpress import PushResult

        return PushResult(applied_version=int(document["version"]), ignored=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def signed(
    body: str | bytes, *, msg_id: str | None = None, at: datetime = T0, secret: str = SECRET
) -> dict[str, str]:
    text = body.decode() if isinstance(body, bytes) else body
    return sign_headers(events_webhook(secret), msg_id or os.urandom(8).hex(), at, text)


def site_created(site_id: int = 2) -> str:
    return json.dumps(
        {
            "type": "site.created",
            "data": {
                "site_id": site_id,
                "url": f"http://net.example/site{site_id}/",
                "name": f"Site {site_id}",
                "owner": {"user_id": 5, "email": "o@example.com", "locale": "nb_NO"},
                "timezone": "Europe/Oslo",
            },
        }
    )


def post(client: FlaskClient, body: str | bytes, headers: dict[str, str]) -> Any:
    return client.post(
        "/webhooks/wordpress",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    )


def error_code(response: Any) -> str:
    payload = response.get_json()
    assert isinstance(payload, dict), response.data
    error = payload.get("error", payload)
    assert isinstance(error.get("message"), str) and error["message"], payload
    return str(error["code"])


def site_view(app: Flask, site_id: int) -> Any:
    return sites.site_view(runtime_of(app).ctx, site_id)


def test_accepts_a_signed_site_created_event_and_creates_the_site(
    app: Flask, client: FlaskClient
) -> None:
    body = site_created(2)
    response = post(client, body, signed(body))
    assert response.status_code == 204, response.data
    assert response.data == b""
    assert site_view(app, 2) is not None


def test_rejects_a_webhook_signed_with_another_secret(client: FlaskClient) -> None:
    other = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-by").decode()
    body = site_created()
    response = post(client, body, signed(body, secret=other))
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"


def test_rejects_a_body_changed_after_signing(client: FlaskClient) -> None:
    headers = signed(site_created(2))
    response = post(client, site_created(3), headers)
    assert response.status_code == 401


def test_rejects_a_webhook_without_signature_headers(client: FlaskClient) -> None:
    response = post(client, site_created(), {})
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"


def test_rejects_webhook_older_than_five_minutes(client: FlaskClient, clock: FakeClock) -> None:
    body = site_created()
    headers = signed(body, at=T0)
    clock.at = T0 + timedelta(minutes=5, seconds=1)
    response = post(client, body, headers)
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"


def test_accepts_a_webhook_just_under_five_minutes_old(
    client: FlaskClient, clock: FakeClock
) -> None:
    body = site_created()
    headers = signed(body, at=T0)
    clock.at = T0 + timedelta(minutes=4, seconds=59)
    assert post(client, body, headers).status_code == 204


def test_rejects_webhook_dated_more_than_five_minutes_ahead(
    client: FlaskClient, clock: FakeClock
) -> None:
    body = site_created()
    response = post(client, body, signed(body, at=T0 + timedelta(minutes=5, seconds=1)))
    assert response.status_code == 401


def test_the_same_webhook_id_twice_changes_nothing_the_second_time(
    app: Flask, client: FlaskClient
) -> None:
    body = site_created(2)
    headers = signed(body, msg_id="msg_same")
    assert post(client, body, headers).status_code == 204
    before = site_view(app, 2)
    assert post(client, body, headers).status_code == 204
    assert site_view(app, 2) == before


def test_answers_400_with_a_code_for_a_signed_body_that_is_not_json(client: FlaskClient) -> None:
    body = "{not json"
    response = post(client, body, signed(body))
    assert response.status_code == 400
    assert error_code(response) == "malformed_json"


@pytest.mark.parametrize(
    "event",
    [
        [1, 2],
        {"data": {"site_id": 2}},
        {"type": "site.created"},
        {"type": "", "data": {}},
        {"type": "site.created", "data": "site 2"},
    ],
    ids=["not-an-object", "no-type", "no-data", "empty-type", "data-not-an-object"],
)
def test_answers_400_for_an_event_missing_its_type_or_data(client: FlaskClient, event: Any) -> None:
    body = json.dumps(event)
    response = post(client, body, signed(body))
    assert response.status_code == 400
    assert error_code(response) == "malformed_event"


def test_checks_the_signature_before_parsing_json(client: FlaskClient) -> None:
    # Unsigned garbage gets 401, not 400: nothing is parsed before the signature holds.
    response = post(client, "{not json", {})
    assert response.status_code == 401


def test_refuses_a_body_larger_than_256_kib_with_413(client: FlaskClient) -> None:
    body = json.dumps({"type": "usage.reported", "data": {"pad": "x" * (256 * 1024)}})
    response = post(client, body, signed(body))
    assert response.status_code == 413


def test_accepts_and_logs_an_unknown_event_type(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"type": "comment.posted", "data": {"site_id": 2}})
    with caplog.at_level("INFO"):
        response = post(client, body, signed(body))
    assert response.status_code == 204
    assert any("comment.posted" in str(r.__dict__.get("event_type")) for r in caplog.records)


def test_never_logs_the_secret(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    body = site_created()
    with caplog.at_level("DEBUG"):
        post(client, body, signed(body))
        post(client, body, signed(body, secret=SECRET[:-4] + "AAA="))
    assert SECRET[6:] not in caplog.text


def test_answers_400_for_a_site_created_event_without_its_owner(
    app: Flask, client: FlaskClient
) -> None:
    body = json.dumps({"type": "site.created", "data": {"site_id": 4, "url": "http://n/s4/"}})
    response = post(client, body, signed(body))
    assert response.status_code == 400
    assert error_code(response) == "malformed_event"


def test_during_a_rotation_events_signed_with_the_previous_secret_are_accepted(
    tmp_path: Path, clock: FakeClock
) -> None:
    previous = "whsec_" + base64.b64encode(b"the-previous-webhook-secret-32b!").decode()
    other = "whsec_" + base64.b64encode(b"neither-the-current-nor-previous").decode()
    url = f"sqlite:///{tmp_path}/rotation.db"
    env = {
        "BRIDGE_DATABASE_URL": url,
        "BRIDGE_ADMIN_TOKEN": "admin-token-for-webhook-tests-0123456789",
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_WEBHOOK_SECRET_PREVIOUS": previous,
        "BRIDGE_QUEUE_BACKEND": "immediate",
    }
    migrate(url)
    app = create_app(
        load_settings(environ=env, path=ROOT / "config.yaml"), clock=clock, pusher=_Recorder()
    )
    try:
        client = app.test_client()
        for site_id, secret in ((2, SECRET), (3, previous)):
            body = site_created(site_id)
            assert post(client, body, signed(body, secret=secret)).status_code == 204
        body = site_created(4)
        refused = post(client, body, signed(body, secret=other))
        assert (refused.status_code, error_code(refused)) == (401, "invalid_signature")
    finally:
        runtime_of(app).close()
