"""Reads an Ultimate Multisite 2.x network's tables (MariaDB/MySQL) into `UmNetwork`; never writes.

The URL comes only from BRIDGE_UM_DATABASE_URL (`mysql://user:pass@host:port/db`, driven by
PyMySQL); every read happens inside one `READ ONLY` transaction, and a read-only database user is
recommended on top. Table names: `{prefix}wu_*` on the main network, `{prefix}wu_{N}_*` on
network N (schema.md §1.1); sites are WordPress's `{prefix}blogs` / `{prefix}blogmeta`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bridge.errors import UmImportRefused
from bridge.ultimate_multisite.rows import (
    UmCustomer,
    UmMembership,
    UmNetwork,
    UmPayment,
    UmProduct,
    UmSite,
)

ENV_URL = "BRIDGE_UM_DATABASE_URL"
_PREFIX = re.compile(r"^[A-Za-z0-9_]{1,40}$")


def database_url(environ: dict[str, str]) -> str:
    """BRIDGE_UM_DATABASE_URL with PyMySQL as the driver; refused when missing or not MySQL."""
    raw = environ.get(ENV_URL, "").strip()
    if not raw:
        raise UmImportRefused(
            f"Set {ENV_URL} to the network's database, e.g. mysql://reader:...@127.0.0.1/wordpress "
            "(a read-only user is recommended)."
        )
    url = make_url(raw)
    if url.get_backend_name() not in ("mysql", "mariadb"):
        raise UmImportRefused(f"{ENV_URL} must be a MariaDB/MySQL URL (mysql://...).")
    return url.set(drivername="mysql+pymysql").render_as_string(hide_password=False)


def main_site_zone(timezone_string: str | None, gmt_offset: str | None) -> tzinfo:
    """The main site's time zone: `timezone_string`, else the fixed `gmt_offset` hours."""
    if timezone_string:
        try:
            return ZoneInfo(timezone_string)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        hours = float(gmt_offset or 0)
    except ValueError:
        hours = 0.0
    return UTC if hours == 0 else timezone(timedelta(hours=hours))


class UmReader:
    """One read of one network: `read()` returns every row the import maps."""

    def __init__(self, url: str, prefix: str = "wp_", network_id: int = 1) -> None:
        if not _PREFIX.match(prefix):
            raise UmImportRefused(f"The table prefix {prefix!r} is not a WordPress prefix.")
        if network_id < 1:
            raise UmImportRefused("The network id must be 1 or more.")
        self.url = url
        self.prefix = prefix
        self.network_id = network_id
        self.wu = f"{prefix}wu_" if network_id == 1 else f"{prefix}wu_{network_id}_"

    def read(self) -> UmNetwork:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
                conn.commit()
                try:
                    return self._read(conn)
                finally:
                    conn.rollback()
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            first = (str(cause).splitlines() or [""])[0][:200]
            raise UmImportRefused(
                f"Could not read the network's database: {type(cause).__name__}: {first}"
            ) from exc
        finally:
            engine.dispose()

    # -- queries -----------------------------------------------------------------------------

    def _tables(self, conn: Connection) -> set[str]:
        rows = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name LIKE :p"
            ),
            {"p": self.prefix.replace("_", "\\_") + "%"},
        ).scalars()
        return {str(r) for r in rows}

    def _sitemeta(self, conn: Connection, key: str) -> str | None:
        value = conn.execute(
            text(
                f"SELECT meta_value FROM {self.prefix}sitemeta "
                "WHERE site_id = :n AND meta_key = :k ORDER BY meta_id DESC LIMIT 1"
            ),
            {"n": self.network_id, "k": key},
        ).scalar()
        return None if value is None else str(value)

    def _check_version(self, conn: Connection, tables: set[str]) -> None:
        if f"{self.wu}products" in tables and f"{self.wu}memberships" in tables:
            return
        if f"{self.prefix}wu_subscriptions" in tables or self._sitemeta(conn, "wp-ultimo_settings"):
            raise UmImportRefused(
                "This network still runs WP Ultimo 1.x (wu_subscriptions, no wu_products): only "
                "Ultimate Multisite 2.x tables are imported. Run Ultimate Multisite's own "
                "migration to 2.x first, then import again."
            )
        raise UmImportRefused(
            f"No Ultimate Multisite 2.x tables ({self.wu}products, {self.wu}memberships) in this "
            "database; check --prefix and --network-id."
        )

    def _meta(self, conn: Connection, table: str, column: str) -> dict[int, dict[str, str | None]]:
        out: dict[int, dict[str, str | None]] = defaultdict(dict)
        for owner, key, value in conn.execute(
            text(f"SELECT {column}, meta_key, meta_value FROM {table} ORDER BY meta_id")
        ):
            out[int(owner)][str(key)] = None if value is None else str(value)
        return out

    def _option(self, conn: Connection, blog_id: int, name: str, tables: set[str]) -> str | None:
        table = f"{self.prefix}options" if blog_id == 1 else f"{self.prefix}{blog_id}_options"
        if table not in tables:
            return None
        value = conn.execute(
            text(f"SELECT option_value FROM {table} WHERE option_name = :n"), {"n": name}
        ).scalar()
        return None if value is None else str(value)

    def _read(self, conn: Connection) -> UmNetwork:
        tables = self._tables(conn)
        self._check_version(conn, tables)
        p, wu = self.prefix, self.wu
        blogs = list(
            conn.execute(
                text(
                    f"SELECT blog_id, domain, path, deleted, archived, spam FROM {p}blogs "
                    "WHERE site_id = :n ORDER BY blog_id"
                ),
                {"n": self.network_id},
            ).mappings()
        )
        main_blog = int(blogs[0]["blog_id"]) if blogs else 1
        siteurl = self._option(conn, main_blog, "siteurl", tables) or "http://"
        scheme = "https" if siteurl.startswith("https:") else "http"
        product_meta = self._meta(conn, f"{wu}productmeta", "wu_product_id")
        products = tuple(
            UmProduct(
                id=int(r["id"]),
                name=str(r["name"] or ""),
                slug=str(r["slug"] or ""),
                description=str(r["description"] or ""),
                product_group=str(r["product_group"] or ""),
                pricing_type=str(r["pricing_type"] or "paid"),
                amount=str(r["amount"] if r["amount"] is not None else "0"),
                setup_fee=str(r["setup_fee"] if r["setup_fee"] is not None else "0"),
                recurring=int(r["recurring"] or 0),
                trial_duration=int(r["trial_duration"] or 0),
                trial_duration_unit=r["trial_duration_unit"] or None,
                duration=int(r["duration"] or 0),
                duration_unit=r["duration_unit"] or None,
                billing_cycles=int(r["billing_cycles"] or 0),
                list_order=int(r["list_order"] or 0),
                active=int(r["active"] if r["active"] is not None else 1),
                type=str(r["type"] or "plan"),
                meta=product_meta.get(int(r["id"]), {}),
            )
            for r in conn.execute(
                text(
                    "SELECT id, name, slug, description, product_group, pricing_type, amount, "
                    "setup_fee, recurring, trial_duration, trial_duration_unit, duration, "
                    "duration_unit, billing_cycles, list_order, active, type "
                    f"FROM {wu}products ORDER BY id"
                )
            ).mappings()
        )
        customer_meta = self._meta(conn, f"{wu}customermeta", "wu_customer_id")
        customers = tuple(
            UmCustomer(
                id=int(r["id"]),
                user_id=int(r["user_id"]),
                type=str(r["type"] or "customer"),
                user_exists=r["ID"] is not None,
                user_email=r["user_email"],
                user_locale=r["locale"] or None,
                meta=customer_meta.get(int(r["id"]), {}),
            )
            for r in conn.execute(
                text(
                    "SELECT c.id, c.user_id, c.type, u.ID, u.user_email, "
                    f"(SELECT um.meta_value FROM {p}usermeta um WHERE um.user_id = u.ID "
                    "AND um.meta_key = 'locale' LIMIT 1) AS locale "
                    f"FROM {wu}customers c LEFT JOIN {p}users u ON u.ID = c.user_id ORDER BY c.id"
                )
            ).mappings()
        )
        membership_meta = self._meta(conn, f"{wu}membershipmeta", "wu_membership_id")
        memberships = tuple(
            UmMembership(
                id=int(r["id"]),
                customer_id=int(r["customer_id"]),
                plan_id=int(r["plan_id"]),
                addon_products=r["addon_products"],
                currency=str(r["currency"] or ""),
                amount=str(r["amount"] if r["amount"] is not None else "0"),
                initial_amount=str(r["initial_amount"] if r["initial_amount"] is not None else "0"),
                recurring=int(r["recurring"] or 0),
                auto_renew=int(r["auto_renew"] or 0),
                duration=int(r["duration"] or 0),
                duration_unit=r["duration_unit"] or None,
                status=str(r["status"] or "pending"),
                date_created=r["date_created"],
                date_trial_end=r["date_trial_end"],
                date_renewed=r["date_renewed"],
                date_expiration=r["date_expiration"],
                times_billed=int(r["times_billed"] or 0),
                billing_cycles=int(r["billing_cycles"] or 0),
                gateway=r["gateway"],
                gateway_customer_id=r["gateway_customer_id"],
                gateway_subscription_id=r["gateway_subscription_id"],
                meta=membership_meta.get(int(r["id"]), {}),
            )
            for r in conn.execute(
                text(
                    "SELECT id, customer_id, plan_id, addon_products, currency, amount, "
                    "initial_amount, recurring, auto_renew, duration, duration_unit, status, "
                    "date_created, date_trial_end, date_renewed, date_expiration, times_billed, "
                    "billing_cycles, gateway, gateway_customer_id, gateway_subscription_id "
                    f"FROM {wu}memberships ORDER BY id"
                )
            ).mappings()
        )
        blog_meta = self._meta(conn, f"{p}blogmeta", "blog_id") if f"{p}blogmeta" in tables else {}
        sites = tuple(
            UmSite(
                blog_id=int(b["blog_id"]),
                url=f"{scheme}://{b['domain']}{b['path']}",
                name=self._option(conn, int(b["blog_id"]), "blogname", tables)
                or f"{b['domain']}{b['path']}",
                deleted=bool(b["deleted"]) or bool(b["spam"]),
                meta={
                    k: v
                    for k, v in blog_meta.get(int(b["blog_id"]), {}).items()
                    if k.startswith("wu_")
                },
            )
            for b in blogs
        )
        payments: tuple[UmPayment, ...] = ()
        if f"{wu}payments" in tables:
            payments = tuple(
                UmPayment(
                    id=int(r["id"]),
                    membership_id=int(r["membership_id"]),
                    status=str(r["status"]),
                    currency=str(r["currency"] or ""),
                    total=str(r["total"] if r["total"] is not None else "0"),
                    date_created=r["date_created"],
                )
                for r in conn.execute(
                    text(
                        "SELECT id, membership_id, status, currency, total, date_created "
                        f"FROM {wu}payments ORDER BY id"
                    )
                ).mappings()
            )
        return UmNetwork(
            prefix=p,
            network_id=self.network_id,
            settings=self._sitemeta(conn, "wp-ultimo_v2_settings"),
            timezone=self._option(conn, main_blog, "timezone_string", tables),
            gmt_offset=self._option(conn, main_blog, "gmt_offset", tables),
            tax_rates=self._sitemeta(conn, "wp-ultimo_tax_rates"),
            products=products,
            customers=customers,
            memberships=memberships,
            sites=sites,
            payments=payments,
        )


def read_network(url: str, prefix: str, network_id: int) -> tuple[UmNetwork, Any]:
    """The network's rows and its main site's time zone."""
    network = UmReader(url, prefix, network_id).read()
    return network, main_site_zone(network.timezone, network.gmt_offset)
