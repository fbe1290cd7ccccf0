"""Every writer locks a membership before its invoices, so two writers never deadlock (PostgreSQL).

Found by the crash test: an `invoice.paid` and a cancellation of the same membership, at the same
moment, answered 500. The payment locked the invoice and then waited for the membership; the
cancellation held the membership and waited for the invoice (to void it): PostgreSQL's deadlock
detector aborted one of them. Here the test holds the membership's row lock itself, lets a
payment start, and then asks for the invoice's row lock without waiting: it must be free, since
the payment may only lock the invoice once it has the membership.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bridge.app import runtime_of
from bridge.services import payments
from bridge.services.context import SYSTEM
from tests.support.bridge_app import AUTH, bridge_app, post_event, site_created_data

pytestmark = pytest.mark.postgres


def _wait_for_a_lock_wait(conn: psycopg.Connection[Any], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
        if waiting and waiting[0] >= 1:
            return
        time.sleep(0.02)
    pytest.fail("the payment never waited for the membership's lock")


@pytest.mark.parametrize("path", ["operator", "invoice.paid"])
def test_a_payment_locks_the_membership_before_the_invoice(
    path: str, tmp_path: Path, postgres_url: str
) -> None:
    with bridge_app(tmp_path, postgres_url, BRIDGE_GATEWAY="manual") as (app, _pusher, _clock):
        client = app.test_client()
        site_id = 700 + (1 if path == "operator" else 2)
        assert post_event(client, "site.created", site_created_data(site_id)).status_code == 204
        quote = client.post(
            f"/api/v1/sites/{site_id}/quotes", json={"plan": "premium"}, headers=AUTH
        ).get_json()
        commit = client.post(f"/api/v1/quotes/{quote['id']}/commit", headers=AUTH).get_json()
        assert commit["status"] == "pending_payment"
        invoice = commit["invoice"]
        ctx = runtime_of(app).ctx
        outcome: list[Any] = []

        def pay() -> None:
            try:
                if path == "operator":
                    outcome.append(payments.pay_invoice(ctx, invoice["id"], "bank-1", SYSTEM))
                else:
                    response = post_event(
                        client,
                        "invoice.paid",
                        {
                            "invoice_id": invoice["id"],
                            "amount": invoice["amount_due"],
                            "currency": invoice["currency"],
                            "reference": "psp-1",
                        },
                    )
                    outcome.append(response.status_code)
            except Exception as exc:  # reported below
                outcome.append(exc)

        with (
            psycopg.connect(postgres_url) as holder,
            psycopg.connect(postgres_url, autocommit=True) as watcher,
        ):
            holder.execute(
                "SELECT id FROM memberships WHERE id = %s FOR UPDATE", (invoice["membership_id"],)
            )
            payer = threading.Thread(target=pay)
            payer.start()
            _wait_for_a_lock_wait(watcher)
            try:
                holder.execute(
                    "SELECT id FROM invoices WHERE id = %s FOR UPDATE NOWAIT", (invoice["id"],)
                )
                free = True
            except psycopg.errors.LockNotAvailable:
                free = False
            holder.rollback()
            payer.join(timeout=30)
        assert free, "the payment held the invoice's lock while it waited for the membership"
        assert len(outcome) == 1 and not isinstance(outcome[0], Exception), outcome
