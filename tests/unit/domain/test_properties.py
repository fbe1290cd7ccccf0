"""Property tests: over random catalogs, memberships, selections and instants, every quote is
exact (each line within half a minor unit of an exact rational value computed here, independently
of the code under test), adds up, conserves money and is deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.catalog import Catalog, Policy, parse_catalog
from bridge.domain.errors import NotEligible
from bridge.domain.membership import Holding, Membership, Selection
from bridge.domain.periods import BillingOption, boundary
from bridge.domain.proration import quote_change

# The test's own model of period lengths, in a common unit per family (months or days).
MONTHS = {"month": 1, "year": 12}
DAYS = {"day": 1, "week": 7}


@dataclass
class World:
    catalog: Catalog
    policy: Policy
    membership: Membership
    selection: Selection
    at: datetime
    raw: dict[str, Any]


def amount(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


@st.composite
def worlds(draw: st.DrawFn) -> World:
    family = draw(st.sampled_from([MONTHS, DAYS]))
    units = sorted(family)
    option = st.builds(
        lambda n, u: {"every": n, "unit": u}, st.integers(1, 3), st.sampled_from(units)
    )
    n_addons = draw(st.integers(0, 3))
    products: dict[str, dict[str, Any]] = {}
    addon_ids = []
    for i in range(n_addons):
        pid = f"pack{i}"
        addon_ids.append(pid)
        is_service = draw(st.booleans()) and i == 0
        products[pid] = {
            "name": f"Pack {i}",
            "kind": "service" if is_service else "package",
            "price": amount(draw(st.integers(0, 20000))),
            "billing": "once" if is_service else {"every": 1, "unit": units[0]},
            **({} if is_service else {"limits": {"disk_mb": draw(st.integers(0, 500))}}),
        }
    for i in range(draw(st.integers(1, 4))):
        default = draw(option)
        variations = []
        other = draw(option)
        if other != default and draw(st.booleans()):
            variations.append({"billing": other, "price": amount(draw(st.integers(0, 200000)))})
        products[f"plan{i}"] = {
            "name": f"Plan {i}",
            "kind": "plan",
            "price": amount(draw(st.integers(0, 200000))),
            "billing": default,
            "variations": variations,
            "order": i,
            "setup_fee": amount(draw(st.sampled_from([0, 0, 1000, 2500]))),
            "addons": draw(st.lists(st.sampled_from(addon_ids), unique=True)) if addon_ids else [],
            "limits": {
                "disk_mb": draw(st.integers(0, 5000)),
                "posts": {"post": draw(st.integers(0, 50))},
            },
        }
    catalog = parse_catalog({"currency": "USD", "products": products})
    plans = [p for p in catalog.products.values() if p.kind == "plan"]
    current = draw(st.sampled_from(plans))
    variation = draw(st.sampled_from(current.billing_options()))
    agreed = draw(st.sampled_from([variation.price_minor, draw(st.integers(0, 200000))]))
    anchor = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(0, 4 * 365 * 86400))
    )
    period_end = boundary(anchor, variation.billing, 1)
    held = {}
    for pid in current.addons:
        product = catalog.products[pid]
        if not product.billing.is_once and draw(st.booleans()):
            held[pid] = Holding(draw(st.integers(1, 3)), draw(st.integers(0, 20000)))
    paid_value = draw(st.integers(0, 300000))
    membership = Membership(
        plan=current.id,
        billing=variation.billing,
        plan_price_minor=agreed,
        status="active",
        anchor=anchor,
        period_start=anchor,
        period_end=period_end,
        addons=held,
        paid_value_minor=paid_value,
        balance_minor=draw(st.integers(0, 50000)),
        setup_fee_paid_minor=draw(st.sampled_from([0, 1000])),
    )
    target = draw(st.sampled_from(plans))
    target_billing = draw(st.sampled_from(target.billing_options())).billing
    addons = {pid: draw(st.integers(0, 3)) for pid in target.addons}
    if draw(st.booleans()):  # sometimes ask for exactly what the membership has
        target, target_billing, addons = (
            current,
            variation.billing,
            {pid: h.quantity for pid, h in held.items()},
        )
    span = int((period_end - anchor).total_seconds())
    at = anchor + timedelta(seconds=draw(st.integers(-86400, span + 86400)))
    policy = Policy(
        anchor=draw(st.sampled_from(["restart", "keep"])),
        downgrade=draw(st.sampled_from(["end_of_term", "immediate"])),
    )
    raw = {"products": products}
    return World(catalog, policy, membership, Selection(target.id, target_billing, addons), at, raw)


def exact_fraction_left(m: Membership, at: datetime) -> Fraction:
    assert m.period_end is not None
    total = (m.period_end - m.period_start).total_seconds()
    left = (m.period_end - at).total_seconds()
    return min(max(Fraction(int(left)) / Fraction(int(total)), Fraction(0)), Fraction(1))


def family_length(option: BillingOption) -> int:
    return (MONTHS | DAYS)[option.unit] * option.every


def unit_price(w: World, product_id: str, billing: BillingOption) -> Fraction:
    """The test's own price of one unit of a line's product over one period of `billing`."""
    product = w.catalog.products[product_id]
    if product.kind == "plan":
        same = product_id == w.membership.plan and billing == w.membership.billing
        return Fraction(w.membership.plan_price_minor if same else product.price_for(billing) or 0)
    held = w.membership.addons.get(product_id)
    price = held.price_minor if held else product.price_minor
    if product.billing.is_once:
        return Fraction(price)
    return Fraction(price) * Fraction(family_length(billing), family_length(product.billing))


def quote_or_none(w: World):  # type: ignore[no-untyped-def]
    try:
        return quote_change(w.catalog, w.policy, w.membership, w.selection, w.at)
    except NotEligible:
        return None


@given(worlds())
def test_every_line_is_within_half_a_minor_unit_of_its_exact_value(w: World) -> None:
    quote = quote_or_none(w)
    if quote is None:
        return
    f = exact_fraction_left(w.membership, w.at)
    for line in quote.lines:
        if line.type == "credit":
            exact = w.membership.paid_value_minor * f
            assert abs(-line.amount_minor - exact) <= Fraction(1, 2)
        elif line.type == "setup_fee":
            product = w.catalog.products[line.product or ""]
            assert line.amount_minor == product.setup_fee_minor - w.membership.setup_fee_paid_minor
        else:
            assert line.product is not None
            quantity = int(line.inputs["quantity"])
            billing = (
                w.selection.billing
                if line.type == "plan"
                else (
                    w.membership.billing
                    if quote.timing in ("mixed", "end_of_term") or quote.kind == "addon"
                    else w.selection.billing
                )
            )
            assert billing is not None
            share = Fraction(str(line.inputs["fraction"]))
            assert share in (Fraction(1), f)  # a full period, or co-terminating with the period
            exact = unit_price(w, line.product, billing) * quantity * share
            assert abs(line.amount_minor - exact) <= Fraction(1, 2), (line, exact)


@given(worlds())
def test_the_invoice_adds_up_and_money_is_conserved(w: World) -> None:
    quote = quote_or_none(w)
    if quote is None:
        return
    t = quote.totals
    charges = sum(line.amount_minor for line in quote.lines if line.type != "credit")
    credit = -sum(line.amount_minor for line in quote.lines if line.type == "credit")
    balance = w.membership.balance_minor
    assert credit == t.credit_minor
    assert t.due_now_minor >= 0
    assert 0 <= t.credit_minor <= w.membership.paid_value_minor
    assert t.balance_applied_minor == min(balance, max(0, charges - credit))
    # charges = credit used + balance used + due now; what credit is left stays in the balance
    assert charges == min(credit, charges) + t.balance_applied_minor + t.due_now_minor
    assert t.balance_after_minor == balance - t.balance_applied_minor + max(0, credit - charges)
    assert t.balance_after_minor >= 0


@given(worlds())
def test_a_selection_equal_to_the_membership_is_no_change_and_nothing_else_is(w: World) -> None:
    quote = quote_or_none(w)
    if quote is None:
        return
    held = {pid: h.quantity for pid, h in w.membership.addons.items() if h.quantity > 0}
    wanted = {pid: q for pid, q in (w.selection.addons or {}).items() if q > 0}
    same = (w.selection.plan, w.selection.billing, wanted) == (
        w.membership.plan,
        w.membership.billing,
        held,
    )
    assert (quote.kind == "no_change") == same


@given(worlds())
def test_the_same_input_gives_the_same_quote(w: World) -> None:
    first = quote_or_none(w)
    again = quote_or_none(w)
    assert first == again
