"""The pure mapping of products and memberships: statuses, periods, agreed prices, tax, swaps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from bridge.domain.catalog import Catalog, parse_catalog
from bridge.domain.periods import BillingOption
from bridge.ultimate_multisite.members import STATUSES, local_to_utc, utc
from bridge.ultimate_multisite.plan import (
    currency_refusal,
    map_catalog,
    map_members,
    merge_catalog,
)
from bridge.ultimate_multisite.report import Report
from bridge.ultimate_multisite.rows import (
    UmCustomer,
    UmMembership,
    UmNetwork,
    UmProduct,
    UmSite,
)

SETTINGS = 'a:1:{s:15:"currency_symbol";s:3:"USD";}'
FREE = {"name": "Free", "kind": "plan", "price": "0.00", "billing": {"every": 1, "unit": "month"}}


def product(id: int, **kw: Any) -> UmProduct:
    base: dict[str, Any] = dict(
        id=id, name=f"P{id}", slug=f"p{id}", description="", product_group="g",
        pricing_type="paid", amount="10.0000", setup_fee="0.0000", recurring=1,
        trial_duration=0, trial_duration_unit="day", duration=1, duration_unit="month",
        billing_cycles=0, list_order=id, active=1, type="plan", meta={},
    )  # fmt: skip
    base.update(kw)
    return UmProduct(**base)


def membership(id: int, **kw: Any) -> UmMembership:
    base: dict[str, Any] = dict(
        id=id, customer_id=1, plan_id=1, addon_products=None, currency="USD",
        amount="10.0000", initial_amount="10.0000", recurring=1, auto_renew=1, duration=1,
        duration_unit="month", status="active", date_created=datetime(2026, 1, 1),
        date_trial_end=None, date_renewed=None, date_expiration=datetime(2026, 3, 31, 23, 59, 59),
        times_billed=1, billing_cycles=0, gateway="manual", gateway_customer_id="",
        gateway_subscription_id="", meta={},
    )  # fmt: skip
    base.update(kw)
    return UmMembership(**base)


CUSTOMER = UmCustomer(1, 7, "customer", True, "seven@example.invalid", "nb_NO", {})


def network(products: list[UmProduct], memberships: list[UmMembership], **kw: Any) -> UmNetwork:
    return UmNetwork(
        prefix="wp_",
        network_id=1,
        settings=kw.pop("settings", SETTINGS),
        timezone="Europe/Oslo",
        gmt_offset="0",
        tax_rates=kw.pop("tax_rates", None),
        products=tuple(products),
        customers=(CUSTOMER,),
        memberships=tuple(memberships),
        sites=tuple(kw.pop("sites", ())),
    )


def run(net: UmNetwork) -> tuple[Catalog, Any, Report]:
    report = Report()
    products = map_catalog(net, "USD", report)
    data = merge_catalog(
        {"currency": "USD", "products": {"free": FREE}}, {k: v.data for k, v in products.items()}
    )
    catalog = parse_catalog(data)
    members = map_members(net, catalog, products, "free", UTC, report)
    return catalog, members, report


def test_status_table_maps_each_um_status() -> None:
    assert STATUSES == {
        "active": ("active", False),
        "trialing": ("trialing", False),
        "on-hold": ("past_due", False),
        "expired": ("cancelled", True),
        "cancelled": ("cancelled", False),
        "pending": None,
    }


@pytest.mark.parametrize(
    ("um", "ours", "plan"),
    [
        ("active", "active", "1"),
        ("on-hold", "past_due", "1"),
        ("expired", "cancelled", "free"),
        ("cancelled", "cancelled", "1"),
    ],
)
def test_each_status_lands_as_the_table_says(um: str, ours: str, plan: str) -> None:
    _, members, _ = run(network([product(1)], [membership(1, status=um)]))
    (m,) = members.memberships
    assert (m.membership.status, m.membership.plan) == (ours, plan)


def test_a_pending_membership_is_listed_not_imported() -> None:
    _, members, report = run(network([product(1)], [membership(1, status="pending")]))
    assert members.memberships == ()
    assert ("membership", "1", "pending (never paid or activated)") in report.unmapped


def test_period_ends_at_date_expiration_and_starts_one_period_before() -> None:
    expiry = datetime(2026, 3, 24, 23, 59, 59)
    _, members, _ = run(network([product(1)], [membership(1, date_expiration=expiry)]))
    m = members.memberships[0].membership
    assert m.period_end == expiry.replace(tzinfo=UTC)
    assert m.period_start == m.anchor == datetime(2026, 2, 24, 23, 59, 59, tzinfo=UTC)


def test_a_clamped_month_end_is_anchored_at_the_period_end_so_renewals_keep_the_day() -> None:
    _, members, _ = run(network([product(1)], [membership(1)]))
    m = members.memberships[0].membership
    assert m.period_end == m.anchor == datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert m.period_start == datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)


def test_placeholder_expiry_1970_is_refused_for_a_live_membership() -> None:
    _, members, report = run(
        network([product(1)], [membership(1, date_expiration=datetime(1970, 1, 1, 23, 59, 59))])
    )
    assert members.memberships == ()
    assert report.unmapped[0][2].startswith("no usable date_expiration")


def test_date_renewed_is_read_in_the_main_sites_local_time() -> None:
    oslo_winter = timezone(timedelta(hours=1))
    assert local_to_utc(datetime(2026, 1, 10, 10, 0), oslo_winter) == datetime(
        2026, 1, 10, 9, 0, tzinfo=UTC
    )
    assert utc(datetime(2026, 1, 10, 10, 0)) == datetime(2026, 1, 10, 10, 0, tzinfo=UTC)


def test_catalog_prices_are_agreed_when_the_total_matches_plan_and_add_ons() -> None:
    addon = product(2, type="package", amount="5.0000", product_group="")
    plan = product(1, meta={"wu_available_addons": "2"})
    _, members, report = run(
        network([plan, addon], [membership(1, addon_products="a:1:{i:2;i:2;}", amount="20.0000")])
    )
    m = members.memberships[0]
    assert (m.membership.plan_price_minor, m.derived_prices) == (1000, False)
    assert m.membership.addons["2"].quantity == 2 and m.membership.paid_value_minor == 2000
    assert report.money[0].matches


def test_a_total_that_does_not_match_derives_the_plan_price_and_flags_it() -> None:
    _, members, report = run(network([product(1)], [membership(1, amount="8.0000")]))
    m = members.memberships[0]
    assert (m.membership.plan_price_minor, m.derived_prices) == (800, True)
    assert any("does not match the catalog's prices" in note for _, _, note in report.notes)


def test_tax_exclusive_total_matches_and_the_rate_is_carried() -> None:
    settings = (
        'a:3:{s:15:"currency_symbol";s:3:"USD";s:12:"enable_taxes";b:1;s:13:"inclusive_tax";b:0;}'
    )
    rates = 'a:1:{s:7:"default";a:2:{s:4:"name";s:7:"Default";s:5:"rates";a:1:{i:0;a:2:{s:7:"country";s:0:"";s:8:"tax_rate";s:2:"25";}}}}'
    plan = product(1, meta={"taxable": "1"})
    _, members, report = run(
        network([plan], [membership(1, amount="12.5000")], settings=settings, tax_rates=rates)
    )
    m = members.memberships[0]
    assert m.tax_rate_paid == Decimal("25") and not m.derived_prices
    assert m.membership.plan_price_minor == 1000 and m.membership.paid_value_minor == 1000
    assert report.money[0].ours_with_tax_minor == 1250
    # The bridge's credit for the unused time carries the tax the period was paid with.
    assert m.membership.tax_rate_paid == "25"


def test_an_untaxed_or_unpaid_membership_keeps_no_rate_paid() -> None:
    _, members, _ = run(network([product(1)], [membership(1)]))
    assert members.memberships[0].membership.tax_rate_paid is None


def test_setup_fee_paid_once_billed_and_zero_before() -> None:
    plan = product(1, setup_fee="20.0000")
    _, members, _ = run(network([plan], [membership(1), membership(2, times_billed=0)]))
    assert [m.membership.setup_fee_paid_minor for m in members.memberships] == [2000, 0]


def test_an_unreadable_scheduled_swap_is_refused_with_a_line() -> None:
    m = membership(1, meta={"wu_swap_order": 'O:23:"WP_Ultimo\\Checkout\\Cart":9:{s:1'})
    _, members, report = run(network([product(1)], [m]))
    assert members.memberships[0].membership.scheduled_change is None
    assert any(note.startswith("scheduled swap refused") for _, _, note in report.notes)


def test_another_currency_is_refused_with_a_sentence() -> None:
    net = network([], [], settings='a:1:{s:15:"currency_symbol";s:3:"EUR";}')
    assert currency_refusal(net, "EUR") is None
    assert "charges in EUR" in (currency_refusal(net, "USD") or "")


def test_products_keep_um_ids_and_map_trials_variations_and_fees() -> None:
    p = product(
        3,
        trial_duration=1,
        trial_duration_unit="week",
        setup_fee="-5.0000",
        billing_cycles=12,
        meta={"price_variations": 'a:1:{i:0;a:3:{s:8:"duration";i:3;s:13:"duration_unit";s:5:"month";s:6:"amount";d:27.5;}}'},
    )  # fmt: skip
    catalog, _, report = run(network([p], []))
    mapped = catalog.products["3"]
    assert mapped.trial_days == 7 and mapped.setup_fee_minor == 0
    assert [(v.billing, v.price_minor) for v in mapped.variations] == [
        (BillingOption(3, "month"), 2750)
    ]
    notes = [n for _, _, n in report.notes]
    assert "negative setup fee (signup credit) becomes 0" in notes
    assert "billing cycles (12) have no counterpart" in notes


def test_contact_us_pricing_is_reported_and_priced_zero() -> None:
    catalog, _, report = run(network([product(1, pricing_type="contact_us")], []))
    assert catalog.products["1"].price_minor == 0
    assert ("product", "1", "contact_us pricing has no counterpart; price 0") in report.notes


def test_sites_come_from_blog_meta_with_their_overrides() -> None:
    site = UmSite(
        2,
        "http://127.0.0.1:9/a/",
        "A",
        False,
        {
            "wu_membership_id": "1",
            "wu_type": "customer_owned",
            "wu_limitations": 'a:1:{s:5:"users";a:2:{s:7:"enabled";b:1;s:5:"limit";a:1:{s:6:"editor";a:2:{s:7:"enabled";b:1;s:6:"number";s:1:"4";}}}}',
        },
    )  # fmt: skip
    _, members, _ = run(network([product(1)], [membership(1)], sites=[site]))
    (s,) = members.memberships[0].sites
    assert s.blog_id == 2 and s.overrides is not None and s.overrides.users == 4


def test_the_report_names_no_email_address() -> None:
    _, _, report = run(
        network([product(1)], [membership(1), replace(membership(2), customer_id=9)])
    )
    assert "@" not in "\n".join(report.lines())


def test_a_billing_address_becomes_the_receipts_buyer_and_a_partial_one_does_not() -> None:
    from bridge.ultimate_multisite.members import ImportedCustomer, buyer_of

    full = {
        "company_name": "Fjord AS",
        "billing_address_line_1": "Storgata 1",
        "billing_zip_code": "0155",
        "billing_city": "Oslo",
        "billing_country": "NO",
    }
    buyer = buyer_of(ImportedCustomer(1, 2, "o@example.invalid", "nb_NO", full))
    assert buyer is not None
    assert (buyer.name, buyer.address) == ("Fjord AS", "Storgata 1, 0155 Oslo, NO")
    nameless = {k: v for k, v in full.items() if k != "company_name"}
    assert buyer_of(ImportedCustomer(1, 2, "o@example.invalid", "nb_NO", nameless)) is None
