"""The crash test's workload: what operators, owners and the network do, at random, over HTTP.

Each client thread draws its actions from its own `random.Random` (seeded from the run's seed and
the thread's number): quotes and commits, payments (the operator's pay, a signed `invoice.paid`,
sometimes delivered twice, and the `test` gateway through `serve-test`), cancellations, the
roll-over, and memberships put on Premium with a period that ends a few seconds ahead (so
renewals happen during the run). A request whose answer is lost (its server was killed) is sent
again, to the other server, as a client would: a commit retried after it went through must
answer 409 `already_committed` with its invoice.

The seed fixes the choices, not the timing (threads and kills interleave differently each run).
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import requests
from sqlalchemy import Engine, Table, select

from bridge.adapters.storage.models import InvoiceRow
from bridge.contract import events_webhook, sign_headers
from tests.integration.faults.cluster import Cluster
from tests.integration.scale.fleet import AUTH, SECRET

INVOICES = cast(Table, InvoiceRow.__table__)
LOST = requests.RequestException  # connection refused or reset, a cut answer, a timeout
SELECTIONS: list[dict[str, Any]] = [
    {"plan": "premium"},
    {"plan": "premium", "billing": {"every": 1, "unit": "year"}},
    {"plan": "premium", "addons": {"extra-disk": 1}},
    {"plan": "premium", "addons": {"extra-disk": 2, "unlimited-visits": 1}},
    {"plan": "free"},
    {"plan": "free", "addons": {"extra-disk": 1}},
    {"plan": "premium", "addons": {"site-migration": 1}},
]


def amount_text(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def month_before(at: datetime) -> datetime:
    year, month = (at.year - 1, 12) if at.month == 1 else (at.year, at.month - 1)
    return at.replace(year=year, month=month, day=min(at.day, 28))


@dataclass
class Tally:
    """What the clients saw; any 5xx is a failure of the run."""

    answers: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, response: requests.Response | None) -> None:
        key = f"{what} {'lost' if response is None else response.status_code}"
        if response is not None and response.status_code in (409, 503):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                key += f" {response.json()['error']['code']}"
        with self.lock:
            self.answers[key] += 1
            if response is not None and response.status_code >= 500:
                self.failures.append(f"{what}: {response.status_code} {response.text[:300]}")


class Client:
    def __init__(
        self, cluster: Cluster, engine: Engine, sites: list[int], rng: random.Random, tally: Tally
    ) -> None:
        self.cluster, self.engine, self.sites, self.rng, self.tally = (
            cluster,
            engine,
            sites,
            rng,
            tally,
        )

    def _send(
        self, what: str, method: str, path: str, tries: int = 3, **kwargs: Any
    ) -> requests.Response | None:
        """Send to a random server; a lost answer is sent again to a random server."""
        for _ in range(tries):
            server = self.rng.choice(self.cluster.servers)
            try:
                response = requests.request(method, f"{server.url}{path}", timeout=30, **kwargs)
            except LOST:
                self.tally.note(what, None)
                time.sleep(0.05)  # its server is down: a client waits a moment, then tries again
                continue
            self.tally.note(what, response)
            return response
        return None

    def act(self) -> None:
        actions: list[tuple[int, Callable[[], None]]] = [
            (6, self.commit),
            (3, self.pay),
            (1, self.cancel),
            (1, self.roll_over),
            (1, self.short_period),
        ]
        choice = self.rng.choices([a for _, a in actions], [w for w, _ in actions])[0]
        choice()

    def commit(self) -> None:
        site = self.rng.choice(self.sites)
        selection = self.rng.choice(SELECTIONS)
        quote = self._send(
            "quote", "POST", f"/api/v1/sites/{site}/quotes", json=selection, headers=AUTH
        )
        if quote is None or quote.status_code != 201:
            return
        quote_id = quote.json()["id"]
        for attempt in range(4):
            response = self._send(
                "commit" if attempt == 0 else "commit retried",
                "POST",
                f"/api/v1/quotes/{quote_id}/commit",
                tries=1,
                headers=AUTH,
            )
            if response is not None:
                if attempt and response.status_code == 409:
                    body = response.json()["error"]
                    if body["code"] == "already_committed" and not body.get("invoice_id"):
                        with self.tally.lock:
                            self.tally.failures.append(f"already_committed without invoice: {body}")
                return

    def _open_invoice(self) -> Any:
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(INVOICES.c.id, INVOICES.c.amount_due_minor, INVOICES.c.currency).where(
                        INVOICES.c.status.in_(("open", "expired", "void"))
                    )
                ).mappings()
            )
        return self.rng.choice(rows) if rows else None

    def pay(self) -> None:
        invoice = self._open_invoice()
        if invoice is None:
            return
        if self.rng.random() < 0.5:
            self._send(
                "pay",
                "POST",
                f"/api/v1/invoices/{invoice['id']}/pay",
                json={"reference": f"bank-{self.rng.randrange(10**6)}"},
                headers=AUTH,
            )
            return
        body = json.dumps(
            {
                "type": "invoice.paid",
                "data": {
                    "invoice_id": invoice["id"],
                    "amount": amount_text(invoice["amount_due_minor"]),
                    "currency": invoice["currency"],
                    "reference": f"psp-{self.rng.randrange(10**6)}",
                },
            }
        )
        webhook_id = f"msg_{secrets.token_hex(8)}"
        for _ in range(2 if self.rng.random() < 0.3 else 1):  # the network sends it again
            headers = sign_headers(events_webhook(SECRET), webhook_id, datetime.now(UTC), body)
            headers["Content-Type"] = "application/json"
            self._send("invoice.paid", "POST", "/webhooks/wordpress", data=body, headers=headers)

    def cancel(self) -> None:
        site = self.rng.choice(self.sites)
        mode = self.rng.choice(["end_of_term", "immediate"])
        self._send(
            "cancel",
            "POST",
            f"/api/v1/sites/{site}/cancellation",
            json={"mode": mode},
            headers=AUTH,
        )

    def roll_over(self) -> None:
        self._send("roll-over", "POST", "/api/v1/roll-over", headers=AUTH)

    def short_period(self) -> None:
        """Premium monthly whose period ends in a few seconds: the roll-over renews it."""
        site = self.rng.choice(self.sites)
        end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=self.rng.randint(2, 6))
        doc = {
            "plan": "premium",
            "anchor": month_before(end).isoformat().replace("+00:00", "Z"),
            "balance": amount_text(self.rng.randrange(0, 5000)),
        }
        self._send("import", "PUT", f"/api/v1/sites/{site}/membership", json=doc, headers=AUTH)


def run_clients(
    cluster: Cluster,
    engine: Engine,
    sites: list[int],
    seed: int,
    round_no: int,
    stop: threading.Event,
    tally: Tally,
    threads: int = 3,
) -> list[threading.Thread]:
    """Start `threads` clients acting until `stop` is set."""

    def loop(n: int) -> None:
        client = Client(cluster, engine, sites, random.Random(f"{seed}:{round_no}:{n}"), tally)
        while not stop.is_set():
            client.act()

    started = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(threads)]
    for t in started:
        t.start()
    return started
