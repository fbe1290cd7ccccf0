"""The receipts' invariants (issue 17), registered with the crash tests' audits: importing this
module adds them to `tests.support.audits.REGISTRY`."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import cast

from sqlalchemy import Table, select

from bridge.adapters.storage.models import InvoiceRow, ReceiptRow
from tests.support.audits import AuditScope, invariant

RECEIPTS = cast(Table, ReceiptRow.__table__)
INVOICES = cast(Table, InvoiceRow.__table__)


@invariant("every paid invoice above zero has one receipt, and no other invoice has any")
# A late payment (paid after its invoice expired or stopped applying) is credited to the balance
# with a ledger entry that says why, and takes no receipt (README, "Receipts and credit notes").
def one_receipt_per_paid_invoice(scope: AuditScope) -> list[str]:
    rows = scope.conn.execute(select(RECEIPTS.c.invoice_id).where(RECEIPTS.c.kind == "receipt"))
    receipts = Counter(r for (r,) in rows)
    problems = [f"invoice {i} has {n} receipts" for i, n in receipts.items() if n > 1]
    invoices = scope.conn.execute(
        select(
            INVOICES.c.id,
            INVOICES.c.number,
            INVOICES.c.status,
            INVOICES.c.total_minor,
            INVOICES.c.closed_reason,
        )
    ).mappings()
    for inv in invoices:
        credited = (inv["closed_reason"] or "").startswith("credited to the balance")
        wanted = inv["status"] == "paid" and inv["total_minor"] > 0 and not credited
        if wanted and not receipts[inv["id"]]:
            problems.append(f"paid invoice {inv['number']} has no receipt")
        if not wanted and receipts[inv["id"]]:
            problems.append(f"invoice {inv['number']} ({inv['status']}) has a receipt")
    return problems


@invariant("receipt and credit note numbers run from 1 without a gap")
def gapless_receipt_numbers(scope: AuditScope) -> list[str]:
    numbers: dict[str, list[int]] = defaultdict(list)
    for kind, number in scope.conn.execute(select(RECEIPTS.c.kind, RECEIPTS.c.number)):
        numbers[kind].append(number)
    return [
        f"{kind} numbers are {sorted(found)[:10]}..., not 1..{len(found)}"
        for kind, found in numbers.items()
        if sorted(found) != list(range(1, len(found) + 1))
    ]


@invariant("no receipt is credited beyond its total")
def credit_notes_within_receipt(scope: AuditScope) -> list[str]:
    totals: dict[int, int] = {}
    credited: dict[int, int] = defaultdict(int)
    for row in scope.conn.execute(select(RECEIPTS)).mappings():
        if row["kind"] == "receipt":
            totals[row["number"]] = row["total_minor"]
        elif row["receipt_number"] is not None:
            credited[row["receipt_number"]] += row["total_minor"]
    return [
        f"receipt {n} credited {c} of {totals.get(n, 0)}"
        for n, c in credited.items()
        if c > totals.get(n, 0)
    ]
