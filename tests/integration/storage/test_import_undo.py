"""`bridge import ultimate-multisite --undo BATCH` on SQLite and PostgreSQL: what it removes.

The batch is written here as the importer writes it (its records, a membership with the buyer
named on its receipts), so the test needs no Ultimate Multisite network; the whole import and
undo against UM's tables is tests/integration/wordpress/test_um_import.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bridge.domain.membership import Membership
from bridge.domain.periods import BillingOption
from bridge.domain.receipt import Party
from bridge.services.context import OPERATOR, Context
from bridge.services.ports import Owner
from bridge.services.um_import import SOURCE, membership_json
from bridge.services.um_undo import undo_import

AT = datetime(2026, 12, 1, tzinfo=UTC)
BUYER = Party("Ada Example AS", "Storgata 1\n0155 Oslo", "NO999999999MVA")


def _membership() -> Membership:
    return Membership(
        plan="premium",
        billing=BillingOption(1, "month"),
        plan_price_minor=2900,
        status="active",
        anchor=AT,
        period_start=AT,
        period_end=datetime(2027, 1, 1, tzinfo=UTC),
        paid_value_minor=2900,
    )


def _imported_with_buyer(ctx: Context) -> tuple[int, int]:
    """A batch that created one membership and the buyer of its receipts: (batch, membership)."""
    with ctx.uow() as uow:
        batch = uow.imports.start_batch(SOURCE, "net.example", "cli:test", None, AT)
        customer = uow.customers.ensure(Owner(501, "ada@example.invalid", "nb_NO"), AT)
        m = _membership()
        membership_id = uow.memberships.add(customer, m, AT)
        uow.imports.remember(batch, SOURCE, "customer", "1", str(customer), {}, None, {})
        uow.imports.remember(
            batch, SOURCE, "membership", "1", str(membership_id), membership_json(m), m.version, {}
        )
        uow.sales_receipts.set_buyer(membership_id, BUYER, AT)
        uow.imports.finish_batch(batch, None, {})
        uow.commit()
    return batch, membership_id


def test_undo_removes_the_billing_details_of_the_memberships_it_removes(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    with ctx.uow() as uow:  # a membership of the bridge's own, with its buyer: not the import's
        own = uow.memberships.add(
            uow.customers.ensure(Owner(502, "bo@example.invalid", "en_US"), AT), _membership(), AT
        )
        uow.sales_receipts.set_buyer(own, Party("Bo", "Loopback Lane 1", None), AT)
        uow.commit()
    batch, imported = _imported_with_buyer(ctx)
    with ctx.uow() as uow:
        assert uow.sales_receipts.buyer_of(imported) == BUYER

    lines = undo_import(ctx, batch, OPERATOR, "cli:test")

    assert f"membership {imported} (UM 1) removed" in lines
    with ctx.uow() as uow:
        assert uow.sales_receipts.buyer_of(imported) is None
        assert uow.sales_receipts.buyer_of(own) == Party("Bo", "Loopback Lane 1", None)
        # A membership made later never inherits the removed one's buyer, even on its id.
        again = uow.memberships.add(None, _membership(), AT)
        assert uow.sales_receipts.buyer_of(again) is None
