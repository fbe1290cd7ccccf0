"""An Ultimate Multisite 2.x network's tables, built in the harness's own WordPress database.

Written from docs/ultimate-multisite/schema.md (§1 columns, §2.4 limitation encodings, §3
membership meta, §7 fixture sketch): 7 products in two plan groups with variations, add-ons and
limits (unlimited, disabled, the v1 object form), 4 customers (one whose user is gone), 6
memberships (active with an add-on, active yearly with add-ons and a pending downgrade,
trialing, cancelled, pending, an orphan), sites mapped by blog meta, payments. The harness's
sites and users are the network's own, so blog ids and user ids match.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Sequence
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.wordpress.harness import WordPressNetwork

DDL = [
    """CREATE TABLE wp_wu_products (
        id bigint(20) NOT NULL AUTO_INCREMENT, name tinytext NOT NULL DEFAULT '',
        slug tinytext NOT NULL DEFAULT '', parent_id bigint(20) NULL,
        migrated_from_id bigint(20) DEFAULT NULL, description longtext NOT NULL DEFAULT '',
        product_group varchar(20) DEFAULT '', currency varchar(10) NOT NULL DEFAULT 'USD',
        pricing_type varchar(10) NOT NULL DEFAULT 'paid', amount decimal(13,4) DEFAULT 0,
        setup_fee decimal(13,4) DEFAULT 0, recurring tinyint(4) DEFAULT 1,
        trial_duration smallint DEFAULT 0,
        trial_duration_unit enum('day','week','month','year') NULL,
        duration smallint DEFAULT 0, duration_unit enum('day','week','month','year') NULL,
        billing_cycles smallint DEFAULT 0, list_order tinyint DEFAULT 10,
        active tinyint(4) DEFAULT 1, type tinytext NOT NULL DEFAULT '',
        date_created datetime NULL, date_modified datetime NULL, PRIMARY KEY (id))""",
    """CREATE TABLE wp_wu_customers (
        id bigint(20) unsigned NOT NULL AUTO_INCREMENT, user_id bigint(20) unsigned NOT NULL
        DEFAULT '0', type varchar(20) NOT NULL DEFAULT 'customer',
        email_verification enum('verified','pending','none') DEFAULT 'none',
        date_modified datetime NULL, date_registered datetime NULL, last_login datetime NULL,
        has_trialed smallint unsigned DEFAULT NULL, vip smallint unsigned DEFAULT '0',
        ips longtext NULL, signup_form varchar(40) DEFAULT 'by-admin',
        PRIMARY KEY (id), KEY user_id (user_id))""",
    """CREATE TABLE wp_wu_memberships (
        id bigint(20) unsigned NOT NULL AUTO_INCREMENT, customer_id bigint(20) unsigned NOT NULL
        DEFAULT '0', user_id bigint(20) unsigned DEFAULT NULL,
        migrated_from_id bigint(20) DEFAULT NULL, plan_id bigint(20) NOT NULL DEFAULT '0',
        addon_products longtext NULL, currency varchar(10) NOT NULL DEFAULT 'USD',
        initial_amount decimal(13,4) DEFAULT 0, recurring smallint unsigned NOT NULL DEFAULT '0',
        auto_renew smallint unsigned NOT NULL DEFAULT '0', duration smallint DEFAULT 0,
        duration_unit enum('day','week','month','year') NULL, amount decimal(13,4) DEFAULT 0,
        date_created datetime NULL, date_activated datetime NULL, date_trial_end datetime NULL,
        date_renewed datetime NULL, date_cancellation datetime NULL,
        date_expiration datetime NULL, date_payment_plan_completed datetime NULL,
        times_billed smallint unsigned NOT NULL DEFAULT '0',
        billing_cycles smallint unsigned NOT NULL DEFAULT '0',
        status varchar(12) NOT NULL DEFAULT 'pending', gateway_customer_id tinytext DEFAULT NULL,
        gateway_subscription_id tinytext DEFAULT NULL, gateway tinytext DEFAULT '',
        signup_method tinytext DEFAULT '', subscription_key varchar(32) DEFAULT '',
        upgraded_from bigint(20) unsigned DEFAULT NULL, date_modified datetime NULL,
        disabled smallint unsigned DEFAULT NULL, PRIMARY KEY (id), KEY customer_id (customer_id),
        KEY plan_id (plan_id), KEY status (status))""",
    """CREATE TABLE wp_wu_payments (
        id bigint(20) unsigned NOT NULL AUTO_INCREMENT, status varchar(20) NOT NULL DEFAULT
        'pending', customer_id bigint(20) unsigned NOT NULL DEFAULT '0',
        membership_id bigint(20) unsigned NOT NULL DEFAULT '0',
        parent_id bigint(20) unsigned NOT NULL DEFAULT '0', product_id bigint(9) NOT NULL
        DEFAULT '0', migrated_from_id bigint(20) DEFAULT NULL, discount_code tinytext NOT NULL
        DEFAULT '', currency varchar(10) NOT NULL DEFAULT 'USD', subtotal decimal(13,4) DEFAULT 0,
        refund_total decimal(13,4) DEFAULT 0, tax_total decimal(13,4) DEFAULT 0,
        discount_total decimal(13,4) DEFAULT 0, total decimal(13,4) DEFAULT 0,
        gateway tinytext NOT NULL DEFAULT '', gateway_payment_id tinytext DEFAULT NULL,
        date_created datetime NULL, date_modified datetime NULL, PRIMARY KEY (id))""",
    *[
        f"""CREATE TABLE wp_wu_{kind}meta (
            meta_id bigint(20) unsigned NOT NULL auto_increment,
            wu_{kind}_id bigint(20) unsigned NOT NULL DEFAULT '0',
            meta_key varchar(255) DEFAULT NULL, meta_value longtext DEFAULT NULL,
            PRIMARY KEY (meta_id), KEY wu_{kind}_id (wu_{kind}_id), KEY meta_key (meta_key(191)))"""
        for kind in ("product", "customer", "membership", "payment")
    ],
]


def _mod(enabled: bool, limit: str) -> str:
    return f's:7:"enabled";b:{int(enabled)};s:5:"limit";{limit}'


def _s(value: str) -> str:
    return f's:{len(value.encode())}:"{value}";'


def _sub(enabled: bool, number: str) -> str:
    return f'a:2:{{s:7:"enabled";b:{int(enabled)};s:6:"number";{_s(number)}}}'


def _map(items: Sequence[tuple[str, str]]) -> str:
    return f"a:{len(items)}:{{" + "".join(_s(k) + v for k, v in items) + "}"


def limitations(modules: Sequence[tuple[str, bool, str]]) -> str:
    """A `wu_limitations` array: (module id, enabled, serialized limit)."""
    body = "".join(f"{_s(m)}a:2:{{{_mod(on, limit)}}}" for m, on, limit in modules)
    return f"a:{len(modules)}:{{{body}}}"


FREE_LIMITS = limitations(
    [
        ("sites", True, _s("1")),
        ("visits", True, _s("1000")),
        ("disk_space", True, _s("100")),
        ("post_types", True, _map([("post", _sub(True, "10"))])),
        ("users", False, "a:0:{}"),
        ("domain_mapping", False, "N;"),
    ]
)
STARTER_LIMITS = limitations(
    [
        ("sites", True, _s("")),
        ("visits", True, _s("")),
        ("disk_space", True, _s("500")),
        ("post_types", True, _map([("post", _sub(True, "50")), ("page", _sub(True, ""))])),
        ("users", True, _map([("editor", _sub(True, "1")), ("author", _sub(False, ""))])),
        ("domain_mapping", True, "N;"),
    ]
)
PRO_LIMITS = limitations(
    [
        ("sites", True, _s("3")),
        ("visits", True, "i:0;"),
        ("disk_space", False, _s("2000")),
        ("post_types", False, "a:0:{}"),
        ("users", True, _map([("editor", _sub(True, "")), ("author", _sub(True, "2"))])),
        ("domain_mapping", True, "i:2;"),
    ]
)
AGENCY_LIMITS = limitations(
    [
        ("sites", False, _s("")),
        ("plugins", True, _map([("akismet/akismet.php", 'a:1:{s:10:"visibility";s:6:"hidden";}')])),
    ]
)
LEGACY_LIMITS = (
    'O:29:"WP_Ultimo\\Objects\\Limitations":2:{s:5:"sites";a:2:{s:5:"limit";i:1;s:7:"enabled";b:1;}'
    's:14:"domain_mapping";a:1:{s:7:"enabled";b:0;}}'
)
EXTRA_SITE_LIMITS = limitations([("sites", True, _s("1"))])


def yearly(amount: int) -> str:
    return (
        'a:1:{i:0;a:3:{s:8:"duration";s:1:"1";s:13:"duration_unit";s:4:"year";'
        f's:6:"amount";d:{amount};}}}}'
    )


def swap_cart() -> str:
    """A pending downgrade: Pro yearly → Starter yearly + 1 Extra Site (schema.md §3 shape)."""
    p = "\x00*\x00"
    items = (
        f's:11:"LN_PRODUCT2";O:28:"WP_Ultimo\\Checkout\\Line_Item":4:{{'
        f's:13:"{p}product_id";i:2;s:11:"{p}quantity";i:1;s:7:"{p}type";s:7:"product";'
        f's:13:"{p}unit_price";d:100;}}'
        f's:11:"LN_PRODUCT5";O:28:"WP_Ultimo\\Checkout\\Line_Item":4:{{'
        f's:13:"{p}product_id";i:5;s:11:"{p}quantity";i:1;s:7:"{p}type";s:7:"product";'
        f's:13:"{p}unit_price";d:5;}}'
    )
    return (
        f'O:23:"WP_Ultimo\\Checkout\\Cart":6:{{s:6:"errors";N;s:12:"{p}cart_type";'
        f's:9:"downgrade";s:10:"{p}plan_id";i:2;s:11:"{p}duration";i:1;'
        f's:16:"{p}duration_unit";s:4:"year";s:13:"{p}line_items";a:2:{{{items}}}}}'
    )


PRODUCTS: list[dict[str, Any]] = [
    # id, name, type, group, order, pricing, amount, setup, recurring, trial, unit, active
    dict(id=1, name="Free", type="plan", product_group="main", list_order=1, pricing_type="free", amount="0", setup_fee="0", recurring=1, trial_duration=0, duration=1, duration_unit="month", active=1),
    dict(id=2, name="Starter", type="plan", product_group="main", list_order=2, pricing_type="paid", amount="10", setup_fee="0", recurring=1, trial_duration=14, duration=1, duration_unit="month", active=1),
    dict(id=3, name="Pro", type="plan", product_group="main", list_order=3, pricing_type="paid", amount="25", setup_fee="20", recurring=1, trial_duration=0, duration=1, duration_unit="month", active=1),
    dict(id=4, name="Agency", type="plan", product_group="agency", list_order=1, pricing_type="paid", amount="99", setup_fee="0", recurring=1, trial_duration=0, duration=1, duration_unit="month", active=1),
    dict(id=5, name="Extra Site", type="package", product_group="", list_order=10, pricing_type="paid", amount="5", setup_fee="0", recurring=1, trial_duration=0, duration=1, duration_unit="month", active=1),
    dict(id=6, name="Priority Setup", type="service", product_group="", list_order=10, pricing_type="paid", amount="49", setup_fee="0", recurring=0, trial_duration=0, duration=1, duration_unit="month", active=1),
    dict(id=7, name="Legacy", type="plan", product_group="agency", list_order=2, pricing_type="paid", amount="49", setup_fee="-10", recurring=1, trial_duration=0, duration=1, duration_unit="month", active=0),
]  # fmt: skip

PRODUCT_META: list[tuple[int, str, str]] = [
    (1, "wu_limitations", FREE_LIMITS),
    (1, "wu_available_addons", "5"),
    (1, "price_variations", "a:0:{}"),
    (2, "wu_limitations", STARTER_LIMITS),
    (2, "wu_available_addons", "5,6"),
    (2, "price_variations", yearly(100)),
    (2, "taxable", "1"),
    (3, "wu_limitations", PRO_LIMITS),
    (3, "wu_available_addons", 'a:2:{i:0;s:1:"5";i:1;s:1:"6";}'),
    (3, "price_variations", yearly(250)),
    (4, "wu_limitations", AGENCY_LIMITS),
    (4, "wu_available_addons", "a:0:{}"),
    (5, "wu_limitations", EXTRA_SITE_LIMITS),
    (5, "price_variations", "a:0:{}"),
    (7, "wu_limitations", LEGACY_LIMITS),
]

SETTINGS = (
    'a:4:{s:15:"currency_symbol";s:3:"USD";s:9:"precision";s:1:"2";'
    's:17:"decimal_separator";s:1:".";s:18:"thousand_separator";s:1:",";}'
)


def memberships(users: Sequence[int]) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """Rows and meta of the six memberships (customers 1-3 own users[0..2]; 4 is an orphan)."""
    common = dict(recurring=1, auto_renew=1, duration=1, duration_unit="month", currency="USD", gateway="manual", gateway_customer_id="", gateway_subscription_id="", times_billed=1, date_trial_end=None, date_renewed=None)  # fmt: skip
    rows = [
        {**common, "id": 1, "customer_id": 1, "user_id": users[0], "plan_id": 2, "addon_products": "a:1:{i:5;i:1;}", "amount": "15", "initial_amount": "15", "status": "active", "date_created": "2026-01-10 09:00:00", "date_renewed": "2026-11-24 10:00:05", "date_expiration": "2026-12-24 23:59:59", "times_billed": 3, "gateway": "stripe", "gateway_customer_id": "cus_TEST1", "gateway_subscription_id": "sub_TEST1"},
        {**common, "id": 2, "customer_id": 2, "user_id": users[1], "plan_id": 3, "addon_products": "a:1:{i:5;i:2;}", "amount": "370", "initial_amount": "390", "status": "active", "duration_unit": "year", "date_created": "2026-06-01 12:00:00", "date_expiration": "2027-06-01 23:59:59"},
        {**common, "id": 3, "customer_id": 3, "user_id": users[2], "plan_id": 2, "addon_products": "", "amount": "10", "initial_amount": "0", "status": "trialing", "date_created": "2026-11-26 08:00:00", "date_trial_end": "2026-12-10 23:59:59", "date_expiration": "2026-12-10 23:59:59", "times_billed": 0},
        {**common, "id": 4, "customer_id": 2, "user_id": users[1], "plan_id": 3, "addon_products": None, "amount": "20", "initial_amount": "45", "status": "cancelled", "auto_renew": 0, "date_created": "2025-09-01 12:00:00", "date_expiration": "2025-11-01 23:59:59"},
        {**common, "id": 5, "customer_id": 3, "user_id": users[2], "plan_id": 3, "addon_products": "a:0:{}", "amount": "25", "initial_amount": "45", "status": "pending", "date_created": "2026-03-30 08:00:00", "date_expiration": "1970-01-01 23:59:59", "times_billed": 0},
        {**common, "id": 6, "customer_id": 4, "user_id": 99999, "plan_id": 4, "addon_products": None, "amount": "99", "initial_amount": "99", "status": "active", "date_created": "2026-02-01 00:00:00", "date_expiration": "2026-05-01 23:59:59"},
    ]  # fmt: skip
    meta = [
        (2, "wu_swap_order", swap_cart()),
        (2, "wu_swap_scheduled_date", "2027-06-01 23:59:59"),
        (2, "wu_limitations", limitations([("visits", True, _s("5000"))])),
    ]
    return rows, meta


def customers(users: Sequence[int]) -> list[dict[str, Any]]:
    return [
        {"id": 1, "user_id": users[0], "type": "customer", "ips": 'a:1:{i:0;s:9:\\"127.0.0.1\\";}'},
        {"id": 2, "user_id": users[1], "type": "customer", "ips": None},
        {"id": 3, "user_id": users[2], "type": "customer", "ips": None},
        {"id": 4, "user_id": 99999, "type": "customer", "ips": None},
    ]


BILLING_ADDRESS = (
    'O:33:"WP_Ultimo\\Objects\\Billing_Address":1:{s:13:"\x00*\x00attributes";a:2:{'
    's:15:"billing_country";s:2:"US";s:16:"billing_zip_code";s:5:"10001";}}'
)


def _root_sql(network: WordPressNetwork, sql: str) -> None:
    socket = network.db_dir / "mariadbd.sock"
    subprocess.run(
        ["mariadb", "--no-defaults", f"--socket={socket}", "-uroot", "-e", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def database_users(network: WordPressNetwork) -> tuple[str, str]:
    """(a writer URL for the fixture, a read-only URL for the import) on 127.0.0.1."""
    writer, reader = secrets.token_hex(8), secrets.token_hex(8)
    _root_sql(
        network,
        f"CREATE USER IF NOT EXISTS 'umfixture'@'127.0.0.1' IDENTIFIED BY '{writer}'; "
        f"ALTER USER 'umfixture'@'127.0.0.1' IDENTIFIED BY '{writer}'; "
        "GRANT ALL ON wordpress.* TO 'umfixture'@'127.0.0.1'; "
        f"CREATE USER IF NOT EXISTS 'umreader'@'127.0.0.1' IDENTIFIED BY '{reader}'; "
        f"ALTER USER 'umreader'@'127.0.0.1' IDENTIFIED BY '{reader}'; "
        "GRANT SELECT ON wordpress.* TO 'umreader'@'127.0.0.1';",
    )
    port = network.db_port
    return (
        f"mysql+pymysql://umfixture:{writer}@127.0.0.1:{port}/wordpress",
        f"mysql://umreader:{reader}@127.0.0.1:{port}/wordpress",
    )


def _insert(conn: Any, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{k}" for k in row)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


def build(writer_url: str, users: Sequence[int], blogs: Sequence[int]) -> None:
    """Create the UM tables and rows; customers 1-3 are users[0..2], on blogs[0..2]."""
    engine = create_engine(writer_url, poolclass=NullPool)
    with engine.begin() as conn:
        for table in ("products", "customers", "memberships", "payments"):
            conn.execute(text(f"DROP TABLE IF EXISTS wp_wu_{table}"))
        for kind in ("product", "customer", "membership", "payment"):
            conn.execute(text(f"DROP TABLE IF EXISTS wp_wu_{kind}meta"))
        for ddl in DDL:
            conn.execute(text(ddl))
        for product in PRODUCTS:
            _insert(conn, "wp_wu_products", {**product, "slug": product["name"].lower(), "description": "", "date_created": "2025-01-01 00:00:00"})  # fmt: skip
        for pid, key, value in PRODUCT_META:
            _insert(conn, "wp_wu_productmeta", {"wu_product_id": pid, "meta_key": key, "meta_value": value})  # fmt: skip
        for user in users:
            conn.execute(
                text(
                    "UPDATE wp_users SET user_email = CONCAT(user_login, '@example.invalid') WHERE ID = :u"
                ),
                {"u": user},
            )
        for customer in customers(users):
            _insert(conn, "wp_wu_customers", customer)
        _insert(conn, "wp_wu_customermeta", {"wu_customer_id": 1, "meta_key": "wu_billing_address", "meta_value": BILLING_ADDRESS})  # fmt: skip
        rows, meta = memberships(users)
        for row in rows:
            _insert(conn, "wp_wu_memberships", row)
        for mid, key, value in meta:
            _insert(conn, "wp_wu_membershipmeta", {"wu_membership_id": mid, "meta_key": key, "meta_value": value})  # fmt: skip
        for pid, (mid, total, when) in enumerate([(1, "15", "2026-10-24 10:00:00"), (1, "15", "2026-11-24 10:00:05"), (2, "390", "2026-06-01 12:00:00"), (4, "45", "2025-09-01 12:00:00")], start=1):  # fmt: skip
            _insert(conn, "wp_wu_payments", {"id": pid, "status": "completed", "customer_id": 1, "membership_id": mid, "currency": "USD", "total": total, "date_created": when})  # fmt: skip
        conn.execute(text("DELETE FROM wp_sitemeta WHERE meta_key = 'wp-ultimo_v2_settings'"))
        _insert(conn, "wp_sitemeta", {"site_id": 1, "meta_key": "wp-ultimo_v2_settings", "meta_value": SETTINGS})  # fmt: skip
        conn.execute(text("UPDATE wp_options SET option_value = 'Europe/Oslo' WHERE option_name = 'timezone_string'"))  # fmt: skip
        conn.execute(text("DELETE FROM wp_blogmeta WHERE meta_key LIKE 'wu\\_%'"))
        for n, blog in enumerate(blogs, start=1):
            for key, value in (("wu_type", "customer_owned"), ("wu_customer_id", str(n)), ("wu_membership_id", str(n))):  # fmt: skip
                _insert(conn, "wp_blogmeta", {"blog_id": blog, "meta_key": key, "meta_value": value})  # fmt: skip
        _insert(conn, "wp_blogmeta", {"blog_id": blogs[0], "meta_key": "wu_limitations", "meta_value": limitations([("disk_space", True, _s("800"))])})  # fmt: skip
    engine.dispose()


def reset(writer_url: str) -> None:
    """Leave the shared network as the harness made it: no UM tables, meta or time zone."""
    engine = create_engine(writer_url, poolclass=NullPool)
    with engine.begin() as conn:
        for table in ("products", "customers", "memberships", "payments"):
            conn.execute(text(f"DROP TABLE IF EXISTS wp_wu_{table}"))
        for kind in ("product", "customer", "membership", "payment"):
            conn.execute(text(f"DROP TABLE IF EXISTS wp_wu_{kind}meta"))
        conn.execute(text("DROP TABLE IF EXISTS v1_wu_subscriptions"))
        conn.execute(text("DELETE FROM wp_sitemeta WHERE meta_key = 'wp-ultimo_v2_settings'"))
        conn.execute(text("DELETE FROM wp_blogmeta WHERE meta_key LIKE 'wu\\_%'"))
        conn.execute(text("UPDATE wp_options SET option_value = '' WHERE option_name = 'timezone_string'"))  # fmt: skip
    engine.dispose()
