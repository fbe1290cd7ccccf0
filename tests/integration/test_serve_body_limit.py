"""`bridge serve` refuses a body over the app's limit before reading it (waitress, not Flask).

Flask answers 413 for a body over MAX_CONTENT_LENGTH only once waitress has buffered it, and
waitress alone would buffer up to 1 GiB. With the same limit given to waitress, it answers 413
right after the headers: this test sends only the headers of a 1 MiB body and expects the answer.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import sys
from pathlib import Path

import pytest
import requests

from bridge.app import MAX_CONTENT_LENGTH
from tests.support.ports import free_port
from tests.support.processes import log_tail, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = Path(sys.executable).with_name("bridge")
ONE_MIB = 1024 * 1024

pytestmark = pytest.mark.slow


def _wait_healthy(url: str, proc: object, log: Path) -> None:
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    pytest.fail(f"bridge serve did not become healthy; log:\n{log_tail(log)}")


def _answer_to_headers_only(port: int, headers: str) -> bytes:
    """Send a request's head and no body; what the server says within 5 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(headers.encode("ascii"))
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass  # the server still waits for the body: the answer so far is what it said
        return b"".join(chunks)


def test_serve_answers_413_to_a_1_mib_body_without_reading_it(tmp_path: Path) -> None:
    assert MAX_CONTENT_LENGTH == 256 * 1024
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(
        BRIDGE_DATABASE_URL=f"sqlite:///{tmp_path}/bridge.db",
        BRIDGE_ADMIN_TOKEN=secrets.token_urlsafe(32),
        BRIDGE_WEBHOOK_SECRET="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        BRIDGE_WORDPRESS_URL="http://127.0.0.1:9/",
        # This tree's bridge package, whichever checkout the virtualenv was installed from.
        PYTHONPATH=str(ROOT),
    )
    log = tmp_path / "serve.log"
    argv = [str(BRIDGE), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"]
    proc = start_server(argv, log_path=log, env=env, cwd=ROOT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        head = (
            "POST /webhooks/wordpress HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {ONE_MIB}\r\n\r\n"
        )
        answer = _answer_to_headers_only(port, head)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200] or "no answer within 5 s"
        # Just over the limit is refused the same way; at the limit it reaches the app (401).
        over = head.replace(str(ONE_MIB), str(MAX_CONTENT_LENGTH + 1))
        assert _answer_to_headers_only(port, over).startswith(b"HTTP/1.1 413")
        at_limit = requests.post(
            f"http://127.0.0.1:{port}/webhooks/wordpress",
            data=b" " * MAX_CONTENT_LENGTH,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert at_limit.status_code == 401, at_limit.text
    finally:
        stop_server(proc)
