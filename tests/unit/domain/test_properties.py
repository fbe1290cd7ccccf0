"""Property tests: over random catalogs, memberships, selections and instants, every quote is
exact (each line within half a minor unit of an exact rational value computed here, independently
of the code under test), adds up, conserves money and is deterministic; its next billing is the
selection's full-period value (plus the setup fee difference the renewal carries) and the
`paid_value` it leaves is the value of the items in force. Over sequences of changes, renewals and
payments, `paid_value` never drifts and the ledger always equals the balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.catalog import Catalog, Policy, parse_catalog
from bridge.domain.errors import NotEligible
from bridge.domain.lifecycle import renew, renewal_paid
from bridge.domain.membership import Holding, Membership, Selection
from bridge.domain.periods import BillingOption, boundary
from bridge.domain.proration import apply_quote, quote_change

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
    status = draw(
        st.sampled_from(["active"] * 5 + ["trialing", "trialing", "past_due", "cancelled"])
    )
    membership = Membership(
        plan=current.id,
        billing=variation.billing,
        plan_price_minor=agreed,
        status=status,
        anchor=anchor,
        period_start=anchor,
        period_end=period_end,
        trial_end=period_end if status == "trialing" else None,
        addons=held,
        paid_value_minor=0 if status == "trialing" else paid_value,
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


def half_up(value: Fraction) -> int:
    """The test's own rounding of a non-negative exact amount: half away from zero."""
    assert value >= 0
    return int(value + Fraction(1, 2))


def selection_value(
    w: World, plan_id: str, billing: BillingOption, quantities: dict[str, int]
) -> int:
    """The full-period value of a plan and recurring add-ons, each line rounded once."""
    total = int(unit_price(w, plan_id, billing))
    for pid, quantity in quantities.items():
        if quantity > 0 and not w.catalog.products[pid].billing.is_once:
            total += half_up(unit_price(w, pid, billing) * quantity)
    return total


@given(worlds())
def test_past_due_and_cancelled_memberships_are_refused_first(w: World) -> None:
    if w.membership.status not in ("past_due", "cancelled"):
        return
    try:
        quote_change(w.catalog, w.policy, w.membership, w.selection, w.at)
    except NotEligible as exc:
        wanted = "payment_due" if w.membership.status == "past_due" else "membership_inactive"
        assert exc.code == wanted
    else:
        raise AssertionError("a past-due or cancelled membership cannot be changed")


@given(worlds())
def test_next_billing_is_the_full_value_of_what_will_be_in_force(w: World) -> None:
    quote = quote_or_none(w)
    if quote is None or quote.kind == "no_change":
        return
    m, sel = w.membership, w.selection
    assert sel.billing is not None and sel.addons is not None and m.period_end is not None
    target = w.catalog.products[sel.plan]
    setup_difference = max(0, target.setup_fee_minor - m.setup_fee_paid_minor)
    amount = selection_value(w, sel.plan, sel.billing, dict(sel.addons))
    if m.status == "trialing":
        amount += setup_difference  # the first invoice, at trial end, carries it
        date = m.period_end
    elif quote.timing in ("end_of_term", "mixed"):
        amount += setup_difference if sel.plan != m.plan else 0
        date = m.period_end
    elif quote.kind == "addon":
        date = m.period_end
    else:
        assert quote.terms is not None
        date = quote.terms.period_end  # a restarted or kept period: its end
    assert quote.next_billing is not None
    assert (quote.next_billing.date, quote.next_billing.amount_minor) == (date, amount)
    assert quote.next_billing.covered_by_balance_minor == min(
        quote.totals.balance_after_minor, amount
    )


@given(worlds())
def test_paid_value_after_a_change_is_the_value_of_the_items_in_force(w: World) -> None:
    quote = quote_or_none(w)
    if quote is None or quote.kind == "no_change":
        return
    m, sel = w.membership, w.selection
    assert sel.billing is not None and sel.addons is not None
    after = apply_quote(m, quote)
    if m.status == "trialing":
        assert after.paid_value_minor == 0
        return
    if quote.timing == "immediate" and quote.kind != "addon":
        assert after.paid_value_minor == selection_value(w, sel.plan, sel.billing, dict(sel.addons))
        return
    # the plan waits (or does not change): held add-ons, plus added ones the plan offers now
    offered = w.catalog.products[m.plan].addons
    quantities = {pid: h.quantity for pid, h in m.addons.items()}
    for pid, quantity in sel.addons.items():
        if pid in offered and quantity > quantities.get(pid, 0):
            quantities[pid] = quantity
    assert after.paid_value_minor == selection_value(w, m.plan, m.billing, quantities)


# Sequences: one fixed catalog (month family, an add-on billed quarterly so that its monthly value
# is never a whole number of cents), random changes, renewals and payments.
SEQUENCE_PRODUCTS: dict[str, dict[str, Any]] = {
    "free": {
        "name": "Free",
        "kind": "plan",
        "price": "0.00",
        "order": 0,
        "addons": ["backup", "disk"],
        "variations": [{"billing": {"every": 1, "unit": "year"}, "price": "0.00"}],
    },
    "basic": {
        "name": "Basic",
        "kind": "plan",
        "price": "29.00",
        "order": 1,
        "setup_fee": "10.00",
        "addons": ["backup", "disk", "setup"],
        "variations": [{"billing": {"every": 1, "unit": "year"}, "price": "290.00"}],
    },
    "premium": {
        "name": "Premium",
        "kind": "plan",
        "price": "59.99",
        "order": 2,
        "setup_fee": "25.00",
        "addons": ["backup", "disk", "setup", "seats"],
        "variations": [{"billing": {"every": 3, "unit": "month"}, "price": "170.00"}],
    },
    "backup": {
        "name": "Backup",
        "kind": "package",
        "price": "1.00",
        "billing": {"every": 3, "unit": "month"},
    },
    "disk": {"name": "Disk", "kind": "package", "price": "4.99"},
    "seats": {"name": "Seats", "kind": "package", "price": "2.50"},
    "setup": {"name": "Setup help", "kind": "service", "price": "49.00", "billing": "once"},
}
SEQUENCE_CATALOG = parse_catalog({"currency": "USD", "products": SEQUENCE_PRODUCTS})
SEQUENCE_PLANS = ("free", "basic", "premium")
SEQUENCE_ADDONS = ("backup", "disk", "seats", "setup")


def items_in_force_value(m: Membership) -> int:
    """The test's own full-period value of what `m` holds, each line rounded once."""
    total = m.plan_price_minor
    for pid, holding in m.addons.items():
        product = SEQUENCE_CATALOG.products[pid]
        if product.billing.is_once or holding.quantity <= 0:
            continue
        ratio = Fraction(family_length(m.billing), family_length(product.billing))
        total += half_up(holding.price_minor * holding.quantity * ratio)
    return total


changes = st.tuples(
    st.just("change"),
    st.sampled_from(SEQUENCE_PLANS),
    st.sampled_from(
        [
            None,
            {"every": 1, "unit": "month"},
            {"every": 1, "unit": "year"},
            {"every": 3, "unit": "month"},
        ]
    ),
    st.none() | st.dictionaries(st.sampled_from(SEQUENCE_ADDONS), st.integers(0, 3), max_size=3),
    st.fractions(0, Fraction(1, 2), max_denominator=64),
)
steps = st.lists(
    st.one_of(changes, changes, st.just(("renew",)), st.just(("pay",))), min_size=1, max_size=20
)


@given(
    steps,
    st.sampled_from(SEQUENCE_PLANS),
    st.integers(0, 5000),
    st.sampled_from([Policy(), Policy(anchor="keep"), Policy(downgrade="immediate")]),
)
def test_paid_value_and_the_ledger_stay_exact_over_any_sequence(
    ops: list[tuple[Any, ...]], plan: str, opening: int, policy: Policy
) -> None:
    price = SEQUENCE_CATALOG.products[plan].price_minor
    start = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    month = BillingOption(1, "month")
    m = Membership(
        plan=plan,
        billing=month,
        plan_price_minor=price,
        status="active",
        anchor=start,
        period_start=start,
        period_end=boundary(start, month, 1),
        paid_value_minor=price,
        balance_minor=opening,
    )
    ledger = [opening]  # the opening balance, then every movement of the balance
    now = start
    for op in ops:
        if op[0] == "pay" or (op[0] == "renew" and m.status == "past_due"):
            if m.status == "past_due":
                m = renewal_paid(m, SEQUENCE_CATALOG)  # paid outside the balance
            if op[0] == "pay":
                continue
        assert m.period_end is not None
        if op[0] == "renew":
            renewal = renew(SEQUENCE_CATALOG, m, m.period_end)
            assert renewal is not None
            ledger.append(-renewal.totals.balance_applied_minor)
            now, m = m.period_end, renewal.membership
        else:
            _, plan_id, raw_billing, addons, share = op
            billing = (
                None
                if raw_billing is None
                else BillingOption(raw_billing["every"], raw_billing["unit"])
            )
            left = int((m.period_end - now).total_seconds())
            at = now + timedelta(seconds=int(left * share))
            try:
                quote = quote_change(
                    SEQUENCE_CATALOG, policy, m, Selection(plan_id, billing, addons), at
                )
            except NotEligible as exc:
                assert exc.code in ("billing_not_offered", "not_offered_with_plan", "payment_due")
                continue
            if quote.kind == "no_change":
                continue
            s = quote.lines_total_minor
            ledger.append(max(0, -s) - min(m.balance_minor, max(0, s)))
            now, m = at, apply_quote(m, quote)
        assert m.balance_minor == sum(ledger) and m.balance_minor >= 0
        if m.status == "active":
            assert m.paid_value_minor == items_in_force_value(m), (op, m)
