"""Fixtures for the plugin's tests against the real network (tests/conftest.py starts it).

- `bridge_inbox`: a loopback HTTP server on `bridge_port` standing in for the bridge's
  `POST /webhooks/wordpress`; it verifies each event with `standardwebhooks` and the events key
  and records it;
- `plugin`: a small client for one subsite: signed pushes through the real adapters, owner REST
  calls, counting helpers.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from bridge.adapters.wordpress import PushResult, RestLimitsPusher, XmlRpcLimitsPusher
from bridge.contract import events_webhook

_versions = itertools.count(1)


class BridgeInbox:
    """Events received on the fake bridge, verified; `wait_for` polls until one arrives."""

    def __init__(self, secret: str, port: int) -> None:
        self.events: list[dict[str, Any]] = []
        self.refused = 0
        self.requests = 0  # every delivery attempt, answered or not
        self.status = 204
        webhook = events_webhook(secret)
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                inbox.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = webhook.verify(body, headers)
                except Exception:
                    inbox.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if self.path == "/webhooks/wordpress" and inbox.status < 300:
                    inbox.events.append({"id": headers["webhook-id"], **payload})
                self.send_response(inbox.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def of_type(self, kind: str, site_id: int | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e["type"] == kind and (site_id is None or e["data"].get("site_id") == site_id)
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def bridge_inbox(bridge_secret: str, bridge_port: int) -> Iterator[BridgeInbox]:
    inbox = BridgeInbox(bridge_secret, bridge_port)
    try:
        yield inbox
    finally:
        inbox.close()


def next_version() -> int:
    """Versions grow across the session so no push is ever older than one already sent."""
    return next(_versions) * 10


class PluginClient:
    """One subsite seen from the bridge (signed pushes) and from its owner (REST)."""

    def __init__(self, network: Any, site: Any, secret: str) -> None:
        self.network = network
        self.site = site
        self.secret = secret
        self.rest = RestLimitsPusher(secret, timeout_s=10.0)
        self.xmlrpc = XmlRpcLimitsPusher(secret, timeout_s=10.0)
        self.owner = requests.Session()
        self.owner.auth = (site.owner, self.owner_app_password())
        self._msg = itertools.count(1)
        # A new site comes with "Hello world!" and "Sample Page"; start from an empty site.
        network.eval_php(
            "foreach ( get_posts( array( 'post_type' => 'any', 'numberposts' => -1 ) ) as $p )"
            " { wp_delete_post( $p->ID, true ); }",
            site.url,
        )

    next_version = staticmethod(next_version)

    def owner_app_password(self) -> str:
        code = (
            "$r = WP_Application_Passwords::create_new_application_password("
            " (int) $args['user'], array( 'name' => 'plugin-tests' ) );"
            " echo $r[0];"
        )
        return self.network.eval_php(code, self.site.url, args={"user": self.site.owner_id})

    def document(
        self, limits: dict[str, Any], version: int, membership: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            "site_id": self.site.blog_id,
            "version": version,
            "issued_at": datetime.now(UTC).isoformat(),
            "limits": limits,
            "membership": membership,
        }

    def push(
        self,
        limits: dict[str, Any],
        version: int | None = None,
        *,
        transport: str = "rest",
        membership: dict[str, Any] | None = None,
    ) -> PushResult:
        pusher = self.rest if transport == "rest" else self.xmlrpc
        doc = self.document(limits, version if version is not None else next_version(), membership)
        msg_id = f"msg_{self.site.blog_id}_{next(self._msg)}_{time.monotonic_ns()}"
        return pusher.push_site(self.site.url, doc, datetime.now(UTC), msg_id)

    def publish(self, title: str, post_type: str = "posts") -> requests.Response:
        response = self.owner.post(
            f"{self.site.url}wp-json/wp/v2/{post_type}",
            json={"title": title, "status": "publish", "content": "Hello"},
            timeout=30,
        )
        response.close()
        return response

    def option(self, name: str) -> Any:
        return json.loads(
            self.network.eval_php(
                "echo wp_json_encode( get_option( $args['n'] ) );", self.site.url, args={"n": name}
            )
        )

    def close(self) -> None:
        self.rest.close()
        self.owner.close()


@pytest.fixture
def plugin(wp_network: Any, wp_site: Any, bridge_secret: str) -> Iterator[PluginClient]:
    client = PluginClient(wp_network, wp_site, bridge_secret)
    try:
        yield client
    finally:
        client.close()
