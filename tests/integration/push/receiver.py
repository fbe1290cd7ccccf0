"""A loopback HTTP server that answers limits pushes the way the plugin's REST receiver does.

It checks the Standard Webhooks signature with the push key (by the library's own `verify`: here
the real clock is the right one), applies the version rule (an older version is ignored, the same
one is a no-op) and can be told to misbehave per request: answer 503 or 400, or hang. Batches
(`/bridge/v1/limits/batch`) are answered per site like the plugin's: applied, stale (an equal or
older version) or error, the latter for the sites in `unknown_sites` (the plugin's 404).
Notices (`/bridge/v1/notices`) are verified and kept once per id, outside the scripted behaviours.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standardwebhooks import Webhook, WebhookVerificationError

from bridge.contract import push_webhook

MAX_BATCH = 200  # the plugin's Bridge_Batch::MAX_DOCUMENTS


@dataclass
class Received:
    path: str
    site_id: int | None
    version: int | None
    status: int
    at: float


@dataclass
class ReceiverState:
    webhook: Webhook
    applied: dict[int, int] = field(default_factory=dict)
    # The last document each site applied (what the plugin would hold).
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    defaults_version: int = 0
    # Behaviours for the next requests, consumed in order: "ok", "503", "429", "400", "302"
    # (a redirect to this server's /elsewhere/), "hang" (no answer until `release` is set,
    # then 503).
    script: deque[str] = field(default_factory=deque)
    # When set, every request hangs until `release` is set (or the handler's hang limit passes).
    hang_all: bool = False
    # Seconds every answered push waits before it answers (a slow site: pushes stay in flight).
    delay_s: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)
    log: list[Received] = field(default_factory=list)
    # Sites a batch answers with the plugin's per-site error (no such active blog).
    unknown_sites: set[int] = field(default_factory=set)
    notices: list[dict[str, Any]] = field(default_factory=list)  # taken, by id, once each
    batches: int = 0
    arrived: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_behaviour(self) -> str:
        with self.lock:
            self.arrived += 1
            if self.hang_all:
                return "hang"
            return self.script.popleft() if self.script else "ok"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `state.log`
        return

    def do_GET(self) -> None:  # only a followed redirect would GET here
        self.server.state.log.append(Received(self.path, None, None, 0, time.monotonic()))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        route = parse_qs(urlsplit(self.path).query).get("rest_route", [""])[0]
        if route == "/bridge/v1/notices":
            self._notice(body)  # the scripted behaviours are for limits pushes
            return
        behaviour = state.next_behaviour()
        if behaviour == "hang":
            # The client has given up (or been killed) by now; whatever we answer is lost.
            state.release.wait(timeout=30)
            behaviour = "503"
        if behaviour == "302":
            state.log.append(Received(self.path, None, None, 302, time.monotonic()))
            self.send_response(302)
            self.send_header("Location", "/elsewhere/?rest_route=/bridge/v1/limits")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if behaviour in ("503", "429", "400"):
            status = int(behaviour)
            code = "bridge_invalid_document" if status == 400 else "unavailable"
            self._answer(status, {"code": code, "message": "scripted failure"}, route, body)
            return
        if state.delay_s:
            time.sleep(state.delay_s)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            document = state.webhook.verify(body, headers)
        except WebhookVerificationError:
            self._answer(401, {"code": "bridge_invalid_signature"}, route, body)
            return
        if route == "/bridge/v1/limits/batch":
            self._batch(document, route, body)
            return
        version = int(document["version"])
        if route == "/bridge/v1/limits" and document.get("site_id") in state.unknown_sites:
            self._answer(404, {"code": "bridge_unknown_site"}, route, body)
            return
        with state.lock:
            if route == "/bridge/v1/default-limits":
                state.defaults_version = max(state.defaults_version, version)
                current = state.defaults_version
            else:
                site_id = int(document["site_id"])
                current = max(state.applied.get(site_id, 0), version)
                state.applied[site_id] = current
                if current == version:
                    state.documents[site_id] = dict(document)
        answer: dict[str, Any] = {"applied_version": current}
        if current > version:
            answer["ignored"] = True
        self._answer(200, answer, route, body)

    def _notice(self, body: bytes) -> None:
        """A notice: verified, taken once by its id, answered like the plugin."""
        state = self.server.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            notice = state.webhook.verify(body, headers)
        except WebhookVerificationError:
            self._answer(401, {"code": "bridge_invalid_signature"}, "/bridge/v1/notices", body)
            return
        with state.lock:
            fresh = all(n["id"] != notice["id"] for n in state.notices)
            if fresh:
                state.notices.append(dict(notice))
        data = json.dumps({"id": notice["id"], "status": "sent" if fresh else "duplicate"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def _batch(self, envelope: Any, route: str, body: bytes) -> None:
        state = self.server.state
        documents = envelope.get("documents") if isinstance(envelope, dict) else None
        if not isinstance(documents, list) or not documents:
            self._answer(400, {"code": "bridge_invalid_batch"}, route, b"{}")
            return
        if len(documents) > MAX_BATCH:
            self._answer(413, {"code": "bridge_batch_too_large"}, route, b"{}")
            return
        results: list[dict[str, Any]] = []
        with state.lock:
            state.batches += 1
            for document in documents:
                site_id, version = int(document["site_id"]), int(document["version"])
                if site_id in state.unknown_sites:
                    results.append(
                        {"site_id": site_id, "status": "error", "code": "bridge_unknown_site"}
                    )
                    results[-1]["http"] = 404
                    continue
                held = state.applied.get(site_id, 0)
                fresh = version > held
                state.applied[site_id] = max(held, version)
                results.append(
                    {
                        "site_id": site_id,
                        "status": "applied" if fresh else "stale",
                        "applied_version": state.applied[site_id],
                    }
                )
                state.log.append(Received(route, site_id, version, 200, time.monotonic()))
        data = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, status: int, payload: dict[str, Any], route: str, body: bytes) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            document = {}
        self.server.state.log.append(
            Received(
                route, document.get("site_id"), document.get("version"), status, time.monotonic()
            )
        )
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout); nothing to tell it


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ReceiverState


class Receiver:
    """Start with `with Receiver(secret) as r:`; `r.url` is the network's URL."""

    def __init__(self, secret: str, port: int = 0) -> None:
        self.state = ReceiverState(webhook=push_webhook(secret))
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def site_url(self, site_id: int) -> str:
        return f"{self.url}site{site_id}/"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
