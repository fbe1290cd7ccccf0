"""Rolling restarts drain: SIGTERM during in-flight work loses nothing.

1. `bridge serve` (with its in-process consumer): a signed webhook is half sent and a push is
   in flight to a slow site when SIGTERM arrives. The port stops accepting, the half-sent
   request is read to its end and answered 204 (its event committed), the push in flight is
   answered and acknowledged, the process exits 0; a worker started afterwards brings every
   site to its desired version.
2. `bridge worker`: SIGTERM while two pushes are in flight; both finish and are acknowledged
   before the process exits 0, and a restarted worker pushes the rest.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bridge.contract import events_webhook, sign_headers
from tests.integration.push.receiver import Receiver
from tests.integration.scale.fleet import (
    SECRET,
    Fleet,
    bridge_env,
    fresh_postgres,
    fresh_redis,
    log_records,
    signed_event,
    site_created_body,
    versions,
    wait_for,
)
from tests.support.ports import is_listening

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def half_sent_event(url: str, body: dict[str, object]) -> tuple[socket.socket, bytes]:
    """A connection carrying a signed webhook's headers and half its body; the other half."""
    data = json.dumps({"type": "site.created", "data": body}).encode()
    headers = sign_headers(
        events_webhook(SECRET), secrets.token_hex(8), datetime.now(UTC), data.decode()
    )
    parts = urlsplit(url)
    head = [
        "POST /webhooks/wordpress HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    conn = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30)
    half = len(data) // 2
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data[:half])
    return conn, data[half:]


def read_status(conn: socket.socket) -> int:
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    return int(answer.split(b" ", 2)[1])


def converged(database: str, site_ids: list[int]) -> bool:
    state = versions(database)
    return all(s in state and 0 < state[s][0] == state[s][1] for s in site_ids)


def test_serve_drains_a_half_sent_request_and_a_push_in_flight_on_sigterm(
    tmp_path: Path,
) -> None:
    with Receiver(SECRET) as receiver, fresh_postgres() as database, fresh_redis() as queue:
        fleet = Fleet(bridge_env(database, queue, receiver.url), tmp_path)
        try:
            serve = fleet.serve("serve")
            assert serve.url is not None
            # The start-up push of the default limits first, so that the push in flight below
            # is site 1's (and not the defaults', with site 1's not begun yet).
            wait_for(
                "the defaults pushed", lambda: receiver.state.defaults_version >= 1, 30, fleet.logs
            )
            before = receiver.state.arrived
            receiver.state.delay_s = 2.0  # a slow site: its push stays in flight for a while
            response = signed_event(
                serve.url, "site.created", site_created_body(1, receiver.site_url(1))
            )
            assert response.status_code == 204, response.text
            conn, rest = half_sent_event(serve.url, site_created_body(2, receiver.site_url(2)))
            with conn:  # closed even when a check fails
                wait_for(
                    "site 1's push in flight",
                    lambda: receiver.state.arrived > before,
                    30,
                    fleet.logs,
                )

                serve.popen.send_signal(signal.SIGTERM)
                port = urlsplit(serve.url).port or 0
                wait_for(
                    "the port refusing new connections",
                    lambda: not is_listening("127.0.0.1", port, timeout_s=0.2),
                    15,
                    fleet.logs,
                )
                conn.sendall(rest)
                status = read_status(conn)
            assert status == 204  # connected before SIGTERM: answered after it
            assert serve.popen.wait(timeout=60) == 0

            messages = [r.get("message") for r in log_records(serve.log)]
            assert "drained: every accepted request was answered" in messages
            pushed = {r.site_id for r in receiver.state.log if r.status == 200}
            assert 1 in pushed  # the push in flight was answered, not cut off
            state = versions(database)
            assert state[1][1] == state[1][0]  # ...and acknowledged before the exit
            assert 2 in state  # the half-sent event was committed

            receiver.state.delay_s = 0.0
            fleet.worker("worker")
            wait_for("both sites converged", lambda: converged(database, [1, 2]), 60, fleet.logs)
        finally:
            fleet.stop_all()
        state = versions(database)
        assert {s: receiver.state.applied[s] for s in (1, 2)} == {s: state[s][0] for s in (1, 2)}


def test_worker_finishes_its_pushes_in_flight_on_sigterm(tmp_path: Path) -> None:
    sites = list(range(1, 7))
    with Receiver(SECRET) as receiver, fresh_postgres() as database, fresh_redis() as queue:
        fleet = Fleet(bridge_env(database, queue, receiver.url), tmp_path)
        try:
            serve = fleet.serve("serve", "--no-worker")
            assert serve.url is not None
            # The serving process's live pushes fail (503): the pushes are the workers' work.
            receiver.state.script.extend(["503"] * len(sites))
            for site_id in sites:
                body = site_created_body(site_id, receiver.site_url(site_id))
                assert signed_event(serve.url, "site.created", body).status_code == 204
            wait_for("the live pushes", lambda: not receiver.state.script, 30, fleet.logs)
            live = receiver.state.arrived
            receiver.state.delay_s = 2.0
            worker = fleet.worker("worker-1", threads=2)
            wait_for(
                "two pushes in flight", lambda: receiver.state.arrived >= live + 2, 30, fleet.logs
            )
            in_flight = receiver.state.arrived - live
            worker.popen.send_signal(signal.SIGTERM)
            assert worker.popen.wait(timeout=60) == 0

            answered = {r.site_id for r in receiver.state.log if r.status == 200}
            assert len(answered) >= in_flight >= 2  # nothing in flight was cut off
            state = versions(database)
            assert all(state[s][1] == state[s][0] for s in answered if s in state)
            print(f"worker stopped after {len(answered)} pushes; {in_flight} were in flight")

            receiver.state.delay_s = 0.0
            fleet.worker("worker-2")
            wait_for("every site converged", lambda: converged(database, sites), 60, fleet.logs)
        finally:
            fleet.stop_all()
