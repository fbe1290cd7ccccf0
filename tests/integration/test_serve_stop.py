"""`bridge serve`'s stop, as a rolling restart and systemd see it (a real process, SQLite).

SIGTERM while a signed webhook is half sent: the request is read to its end and answered 204
with `Connection: close` (the client opens its next request elsewhere); as the drain begins the
in-process consumer takes no new job and live pushes stop starting, so the event's push is left
in the queue rather than begun by a process on its way out; the process exits 0 within the
systemd unit's TimeoutStopSec; the next `bridge serve` on the same database pushes it.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bridge.contract import events_webhook, sign_headers
from tests.integration.push.receiver import Receiver
from tests.integration.test_serve import (
    AUTH,
    ROOT,
    SECRET,
    bounded_wait,
    log_tail,
    receiver,  # noqa: F401  (the fixture)
    site_created,
    start_bridge,
)
from tests.support.ports import is_listening
from tests.support.processes import stop_server

UNIT = ROOT / "deploy" / "plan-bridge-serve@.service"


def unit_stop_timeout_s() -> float:
    found = re.search(r"^TimeoutStopSec=(\d+)$", UNIT.read_text(), re.MULTILINE)
    assert found, f"{UNIT} sets no TimeoutStopSec"
    return float(found.group(1))


def half_sent(
    url: str, path: str, data: bytes, headers: dict[str, str]
) -> tuple[socket.socket, bytes]:
    """A keep-alive HTTP/1.1 connection carrying a POST's headers and half its body; the other
    half."""
    parts = urlsplit(url)
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    conn = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30)
    half = len(data) // 2
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data[:half])
    return conn, data[half:]


def half_sent_site_created(url: str, site_id: int, site_url: str) -> tuple[socket.socket, bytes]:
    body = {
        "site_id": site_id,
        "url": site_url,
        "name": f"Site {site_id}",
        "owner": {"user_id": site_id, "email": f"o{site_id}@example.invalid", "locale": "en_US"},
    }
    data = json.dumps({"type": "site.created", "data": body}).encode()
    headers = sign_headers(
        events_webhook(SECRET), secrets.token_hex(8), datetime.now(UTC), data.decode()
    )
    return half_sent(url, "/webhooks/wordpress", data, headers)


def half_sent_quote(url: str, site_id: int) -> tuple[socket.socket, bytes]:
    """A request whose answer has a body (201 and JSON): without `Connection: close` its
    connection would stay open for the next request (a 204 closes it anyway)."""
    data = json.dumps({"plan": "premium"}).encode()
    return half_sent(url, f"/api/v1/sites/{site_id}/quotes", data, AUTH)


def read_answer(conn: socket.socket) -> tuple[int, dict[str, str]]:
    """Status and headers of the answer; reads until the server closes the connection."""
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split(" ", 2)[1]), headers


def test_sigterm_answers_with_connection_close_and_leaves_new_work_to_the_next_process(
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811
) -> None:
    database = f"sqlite:///{tmp_path}/bridge.db"
    served = start_bridge(database, tmp_path / "serve-1.log", wordpress_url=receiver.url)
    port = urlsplit(served.url).port or 0
    try:
        site_created(served, 1, receiver.site_url(1))
        assert bounded_wait(lambda: receiver.state.applied.get(1) == 1, 15)
        event, event_rest = half_sent_site_created(served.url, 2, receiver.site_url(2))
        quote, quote_rest = half_sent_quote(served.url, 1)
        with event, quote:
            served.proc.send_signal(signal.SIGTERM)
            assert bounded_wait(lambda: not is_listening("127.0.0.1", port, timeout_s=0.2), 15)
            event.sendall(event_rest)
            assert read_answer(event)[0] == 204
            quote.sendall(quote_rest)
            status, headers = read_answer(quote)
        assert status == 201
        assert headers.get("connection") == "close"
        assert served.proc.wait(timeout=unit_stop_timeout_s()) == 0, log_tail(served.log)
    finally:
        stop_server(served.proc)
    # The event was committed before its answer; its push was not begun on the way out...
    assert 2 not in receiver.state.applied
    # ...it waits in the queue (and in the database) for the next process.
    served = start_bridge(database, tmp_path / "serve-2.log", wordpress_url=receiver.url)
    try:
        assert bounded_wait(lambda: receiver.state.applied.get(2) == 1, 30), log_tail(served.log)
    finally:
        served.proc.send_signal(signal.SIGTERM)
        served.proc.wait(timeout=unit_stop_timeout_s())
        stop_server(served.proc)
    assert served.proc.returncode == 0
