"""The rows of an Ultimate Multisite 2.x network, as read (schema.md §1): plain values, no parsing.

Money stays the database's decimal text ("10.0000"), datetimes stay naive as stored (their
zone depends on the column, schema.md §6.5), serialized values stay text. The reader fills
these; the mapping reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

Meta = Mapping[str, str | None]


@dataclass(frozen=True)
class UmProduct:
    id: int
    name: str
    slug: str
    description: str
    product_group: str
    pricing_type: str
    amount: str
    setup_fee: str
    recurring: int
    trial_duration: int
    trial_duration_unit: str | None
    duration: int
    duration_unit: str | None
    billing_cycles: int
    list_order: int
    active: int
    type: str
    meta: Meta = field(default_factory=dict)


@dataclass(frozen=True)
class UmCustomer:
    id: int
    user_id: int
    type: str
    user_exists: bool
    user_email: str | None
    user_locale: str | None
    meta: Meta = field(default_factory=dict)


@dataclass(frozen=True)
class UmMembership:
    id: int
    customer_id: int
    plan_id: int
    addon_products: str | None
    currency: str
    amount: str
    initial_amount: str
    recurring: int
    auto_renew: int
    duration: int
    duration_unit: str | None
    status: str
    date_created: datetime | None
    date_trial_end: datetime | None
    date_renewed: datetime | None
    date_expiration: datetime | None
    times_billed: int
    billing_cycles: int
    gateway: str | None
    gateway_customer_id: str | None
    gateway_subscription_id: str | None
    meta: Meta = field(default_factory=dict)


@dataclass(frozen=True)
class UmSite:
    """A blog of the network with its UM blog meta (`wu_membership_id`, `wu_type`, ...)."""

    blog_id: int
    url: str
    name: str
    deleted: bool
    meta: Meta = field(default_factory=dict)


@dataclass(frozen=True)
class UmPayment:
    id: int
    membership_id: int
    status: str
    currency: str
    total: str
    date_created: datetime | None


@dataclass(frozen=True)
class UmNetwork:
    """Everything the import reads from one network (one table prefix + network id)."""

    prefix: str
    network_id: int
    settings: str | None  # network option wp-ultimo_v2_settings (serialized)
    timezone: str | None  # the main site's timezone_string ('' when an offset is used)
    gmt_offset: str | None  # the main site's gmt_offset option
    tax_rates: str | None  # network option wu_tax_rates (serialized), see schema.md §5.1
    products: tuple[UmProduct, ...] = ()
    customers: tuple[UmCustomer, ...] = ()
    memberships: tuple[UmMembership, ...] = ()
    sites: tuple[UmSite, ...] = ()
    payments: tuple[UmPayment, ...] = ()
