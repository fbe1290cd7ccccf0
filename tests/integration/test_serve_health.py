"""/healthz and /metrics of the app factory: a real SQLite file, and a database that is not there."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bridge import create_app
from bridge.adapters.storage import migrate
from bridge.app import runtime_of
from bridge.config import load_settings
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"health-and-metrics-test-secret!!").decode()


def make_app(database_url: str) -> Flask:
    env = {
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_ADMIN_TOKEN": "admin-token-for-health-tests-0123456789",
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_QUEUE_BACKEND": "immediate",
    }
    return create_app(load_settings(environ=env, path=ROOT / "config.yaml"))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path}/bridge.db"
    migrate(url)
    app = make_app(url)
    yield app
    runtime_of(app).close()


def test_healthz_is_ok_when_the_database_answers(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    # Nothing listens on this port: the engine is built lazily, the check connects and fails.
    app = make_app(f"postgresql://bridge:pw@127.0.0.1:{free_port()}/bridge?connect_timeout=2")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
    assert "pw" not in response.get_data(as_text=True)


def test_metrics_count_requests_by_route_not_by_path(app: Flask) -> None:
    client = app.test_client()
    client.get("/healthz")
    client.get("/api/v1/sites/7")  # 401 without a token; counted under its rule
    client.get("/api/v1/sites/8")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'bridge_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/api/v1/sites/<bigid:site_id>",status="401"} 2.0' in text
    assert "bridge_http_request_duration_seconds_bucket" in text
    assert "bridge_queue_depth 0.0" in text


def test_two_apps_in_one_process_keep_their_own_metrics(app: Flask, tmp_path: Path) -> None:
    other_url = f"sqlite:///{tmp_path}/other.db"
    migrate(other_url)
    other = make_app(other_url)
    try:
        app.test_client().get("/healthz")
        text = other.test_client().get("/metrics").get_data(as_text=True)
        assert 'route="/healthz"' not in text
    finally:
        runtime_of(other).close()


def test_metrics_show_what_to_alert_on(app: Flask) -> None:
    """RELIABILITY.md's alerts: dead pushes, sites behind, open invoices, memberships past due,
    events refused in the last day (an unsigned event is refused and counted)."""
    client = app.test_client()
    refused = client.post(
        "/webhooks/wordpress", data="{}", headers={"Content-Type": "application/json"}
    )
    assert refused.status_code in (400, 401)
    text = client.get("/metrics").get_data(as_text=True)
    for name in (
        "bridge_dead_pushes 0.0",
        "bridge_sites_behind 0.0",
        "bridge_open_invoices 0.0",
        "bridge_memberships_past_due 0.0",
    ):
        assert name in text, text
    assert "bridge_events_refused_last_day " in text
