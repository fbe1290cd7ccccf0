"""localstripe (PyPI), the stateful fake Stripe server with a fake Stripe.js, for the tests.

The real Stripe cannot be reached from this project's machines; localstripe stands in for it.
`python -m tests.support.localstripe PORT` serves it on 127.0.0.1:PORT only (its own `start()`
binds every interface) and with two adjustments, each where it is stricter than Stripe or
would touch files outside the test:
- its store is not written to /tmp/localstripe.pickle after each request (every instance would
  share that file);
- `POST /v1/payment_intents/{id}/confirm` accepts `off_session` (Stripe does; localstripe
  refuses every parameter there), so renewals confirm off-session as they do on Stripe.
What localstripe never sends (charge.refunded, disputes) the tests sign themselves with the
webhook secret (`signed_event`), and it ignores idempotency keys: the bridge's own guard (one
stored PaymentIntent per invoice) is what the tests prove.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.support.ports import free_port
from tests.support.processes import start_server, stop_server, wait_until_listening

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_bridge_localstripe"
PUBLISHABLE_KEY = "pk_test_bridge_localstripe"
WEBHOOK_SECRET = "whsec_bridge_localstripe_test"

# localstripe's test cards (localstripe/resources.py, PaymentMethod): declined when saved,
# declined when charged, asks for 3-D Secure, and a good one.
CARD_OK = "4242424242424242"
CARD_DECLINED_ON_SAVE = "4000000000000002"
CARD_DECLINED_ON_CHARGE = "4000000000000341"
CARD_3DS = "4000002500003155"


class LocalStripe:
    """A running localstripe: its API base, the Stripe.js URL, and a small client."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.js_url = f"{base}/js.stripe.com/v3/"
        self._auth = {"Authorization": f"Bearer {SECRET_KEY}"}

    def get(self, path: str, **params: Any) -> Any:
        answer = requests.get(f"{self.base}{path}", params=params, headers=self._auth, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, data: Mapping[str, Any]) -> Any:
        answer = requests.post(
            f"{self.base}{path}", json=dict(data), headers=self._auth, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def confirmed_setup(self, setup_id: str, client_secret: str, number: str) -> Any:
        """What Stripe.js's confirmCardSetup does with a card element (the tests without a
        browser use it; the browser journeys type the card into localstripe's element)."""
        answer = requests.post(
            f"{self.base}/v1/setup_intents/{setup_id}/confirm",
            json={
                "key": PUBLISHABLE_KEY,
                "client_secret": client_secret,
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
                },
            },
            timeout=10,
        )
        return answer.json()

    def authenticate(self, intent_id: str, client_secret: str, success: bool = True) -> Any:
        """What Stripe.js's confirmCardPayment does for 3-D Secure (the owner's answer)."""
        answer = requests.post(
            f"{self.base}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true" if success else "false"},
            json={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
            timeout=10,
        )
        return answer.json()

    def events(self, type: str) -> list[dict[str, Any]]:
        """The events localstripe made (newest first), as it would have sent them."""
        found = self.get("/v1/events", type=type, limit=100)
        return list(found["data"])

    def send_webhooks_to(self, url: str) -> None:
        """Have localstripe deliver its events to `url`, signed with the webhook secret."""
        requests.post(
            f"{self.base}/_config/webhooks/bridge",
            json={"url": url, "secret": WEBHOOK_SECRET},
            timeout=10,
        ).raise_for_status()


def signed_event(event: Mapping[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """The body and Stripe-Signature header of `event`, as Stripe signs a webhook."""
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={mac}"


def event_of(type: str, obj: Mapping[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event around `obj` (for what localstripe never sends)."""
    return {
        "id": event_id or f"evt_test_{hashlib.sha1(json.dumps(obj).encode()).hexdigest()[:16]}",
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "api_version": "2025-01-01",
        "data": {"object": dict(obj)},
    }


@contextmanager
def running_localstripe(log_dir: Path) -> Iterator[LocalStripe]:
    """Start localstripe on a free loopback port; stop it (its whole process group) after."""
    port = free_port()
    log_path = log_dir / f"localstripe-{port}.log"
    proc = start_server(
        [sys.executable, "-m", "tests.support.localstripe", str(port)],
        log_path=log_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    try:
        wait_until_listening(
            proc, "127.0.0.1", port, timeout_s=30, log_path=log_path, what="localstripe"
        )
        yield LocalStripe(f"http://127.0.0.1:{port}")
    finally:
        stop_server(proc)


def _serve(port: int) -> None:  # pragma: no cover - runs in the child process
    import logging

    from aiohttp import web
    from localstripe import resources, server

    # Requests and webhook deliveries ("webhook ... successfully delivered") to the log file.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    confirm = resources.PaymentIntent._api_confirm.__func__  # type: ignore[attr-defined]

    def confirm_like_stripe(cls: Any, id: str, off_session: Any = None, **kwargs: Any) -> Any:
        return confirm(cls, id, **kwargs)

    resources.PaymentIntent._api_confirm = classmethod(confirm_like_stripe)  # type: ignore[method-assign,assignment]
    # The extra routes were bound to the original function at import: bind them again.
    for route in server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if info.get("formatter") == "/v1/payment_intents/{id}/confirm":
            route._handler = server.api_extra(  # type: ignore[attr-defined]
                resources.PaymentIntent._api_confirm, "/v1/payment_intents/{id}/confirm"
            )
    web.run_app(
        server.app,
        host="127.0.0.1",
        port=port,
        print=None,
        access_log=logging.getLogger("aiohttp.access"),
    )


if __name__ == "__main__":  # pragma: no cover
    _serve(int(sys.argv[1]))
