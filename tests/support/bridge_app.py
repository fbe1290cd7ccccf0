"""The real app (`create_app`) on a temporary SQLite file, for edge and fuzz tests.

Nothing it does leaves the process: pushes go to a `RecordingPusher`, the queue runs jobs at
once (`immediate`), and every URL it seeds is a loopback URL (127.0.0.0/8).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from bridge import create_app
from bridge.adapters.storage import migrate
from bridge.app import runtime_of
from bridge.config import load_settings
from bridge.contract import events_webhook, mint_checkout_token, sign_headers

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "edge-admin-token-" + "x" * 16
SECRET = "whsec_" + base64.b64encode(b"edge-and-fuzz-tests-secret-32b!!").decode()
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LOOPBACK_HOSTS = ("127.0.0.1", "127.0.0.2", "127.1.2.3", "localhost")


class FixedClock:
    """The instant the tests live at; webhooks are signed with it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class RecordingPusher:
    """The pusher seam: records what would be pushed, refuses any non-loopback address."""

    pushed: list[tuple[str, int]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)

    def _check(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        assert host == "localhost" or host.startswith("127."), f"push to {url!r} would leave"

    def push_site(self, site_url: str, document: dict[str, Any], at: datetime, msg_id: str) -> Any:
        from bridge.adapters.wordpress import PushResult

        self._check(site_url)
        self.pushed.append((site_url, int(document["version"])))
        return PushResult(applied_version=int(document["version"]), ignored=False)

    def push_defaults(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> Any:
        from bridge.adapters.wordpress import PushResult

        self._check(network_url)
        return PushResult(applied_version=int(document["version"]), ignored=False)

    def push_notice(
        self, network_url: str, document: dict[str, Any], at: datetime, msg_id: str
    ) -> None:
        self._check(network_url)
        self.notices.append(document)

    def close(self) -> None:
        pass


T0 = datetime(2026, 4, 11, 9, 30, tzinfo=UTC)


@contextmanager
def bridge_app(
    folder: Path, database_url: str | None = None, **env: str
) -> Iterator[tuple[Flask, RecordingPusher, FixedClock]]:
    """The app with the repo's config.yaml, a loopback WordPress URL and a recording pusher."""
    url = database_url or f"sqlite:///{folder}/bridge.db"
    settings = load_settings(
        environ={
            "BRIDGE_DATABASE_URL": url,
            "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
            "BRIDGE_WEBHOOK_SECRET": SECRET,
            "BRIDGE_QUEUE_BACKEND": "immediate",
            "BRIDGE_WORDPRESS_URL": "http://127.0.0.1:9/",
            "BRIDGE_PUBLIC_URL": "http://127.0.0.1:8000",
            **env,
        },
        path=ROOT / "config.yaml",
    )
    migrate(url)
    pusher = RecordingPusher()
    clock = FixedClock(T0)
    app = create_app(settings, clock=clock, pusher=pusher)
    try:
        yield app, pusher, clock
    finally:
        runtime_of(app).close()


def signed_event(event_type: str, data: Any, at: datetime = T0) -> tuple[str, dict[str, str]]:
    """The JSON body and signed headers of an event, as the plugin sends it."""
    body = json.dumps({"type": event_type, "data": data})
    headers = sign_headers(events_webhook(SECRET), secrets.token_hex(8), at, body)
    headers["Content-Type"] = "application/json"
    return body, headers


def post_event(client: FlaskClient, event_type: str, data: Any, at: datetime = T0) -> Any:
    body, headers = signed_event(event_type, data, at)
    return client.post("/webhooks/wordpress", data=body, headers=headers)


def post_raw_event(client: FlaskClient, body: str, at: datetime = T0) -> Any:
    """A signed body that need not be an event (deep nesting, huge numbers)."""
    headers = sign_headers(events_webhook(SECRET), secrets.token_hex(8), at, body)
    headers["Content-Type"] = "application/json"
    return client.post("/webhooks/wordpress", data=body, headers=headers)


def site_created_data(site_id: int, /, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "site_id": site_id,
        "url": f"http://127.0.0.1:9/site{site_id}/",
        "name": f"Site {site_id}",
        "owner": {"user_id": site_id + 100, "email": f"o{site_id}@127.0.0.1", "locale": "nb_NO"},
        "timezone": "Europe/Oslo",
    }
    data.update(overrides)
    return data


def seed_site(client: FlaskClient, site_id: int) -> None:
    response = post_event(client, "site.created", site_created_data(site_id))
    assert response.status_code == 204, response.data


def checkout_token(site_id: int, user_id: int, **overrides: Any) -> str:
    payload: dict[str, Any] = {
        "site_id": site_id,
        "user_id": user_id,
        "exp": int(T0.timestamp()) + 600,
        "jti": secrets.token_hex(16),
        "intent": "change",
        "locale": "en_US",
        "return_url": f"http://127.0.0.1:9/site{site_id}/wp-admin/admin.php?page=account",
    }
    payload.update(overrides)
    return mint_checkout_token(SECRET, payload)


def start_checkout(client: FlaskClient, site_id: int) -> str:
    """Exchange a token for a session; the Change page's CSRF field."""
    response = client.get(
        "/checkout/start", query_string={"token": checkout_token(site_id, site_id + 100)}
    )
    assert response.status_code == 303, response.data
    page = client.get(f"/checkout/sites/{site_id}")
    assert page.status_code == 200, page.data
    html = page.get_data(as_text=True)
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def json_error(response: Any) -> Mapping[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, response.data
    assert isinstance(body["error"]["code"], str) and body["error"]["message"], body
    return body["error"]
