"""The receipts' invariants catch what they name (they run in the crash tests' audits)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bridge.adapters.storage import make_engine, migrate
from tests.support.audits import audit
from tests.support.receipt_audits import RECEIPTS

NAMES = (
    "every paid invoice above zero has one receipt, and no other invoice has any",
    "receipt and credit note numbers run from 1 without a gap",
    "no receipt is credited beyond its total",
)


def _doc(kind: str, number: int, invoice_id: str, total: int, of: int | None = None) -> Any:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return {
        "kind": kind,
        "number": number,
        "invoice_id": invoice_id,
        "invoice_number": 1,
        "membership_id": 1,
        "currency": "USD",
        "issued_at": at,
        "lines": [],
        "total_minor": total,
        "balance_applied_minor": 0,
        "paid_minor": total,
        "seller": {},
        "buyer": {},
        "receipt_number": of,
    }


def test_two_receipts_a_gap_and_an_over_credit_are_each_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrate(url)
    engine = make_engine(url)
    assert audit(engine, only=NAMES) == {}
    with engine.begin() as conn:
        conn.execute(insert(RECEIPTS), [_doc("receipt", 1, "inv-a", 1000)])
        conn.execute(insert(RECEIPTS), [_doc("receipt", 3, "inv-a", 1000)])
        conn.execute(insert(RECEIPTS), [_doc("credit_note", 1, "inv-a", 1200, of=1)])
    failures = audit(engine, only=NAMES)
    assert set(failures) == set(NAMES)
    assert "invoice inv-a has 2 receipts" in failures[NAMES[0]]
    assert failures[NAMES[2]] == ["receipt 1 credited 1200 of 1000"]
    engine.dispose()
