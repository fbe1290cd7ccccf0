"""Seed many memberships fast: one real site made by a signed `site.created`, cloned in bulk.

The first site goes through the bridge as any site does (so its rows are exactly what the code
writes); the clones copy its customer, membership, site and limits document rows with new ids,
in batches of Core `INSERT`s. Seeded databases are cached under var/bench/ (SQLite files) or as
PostgreSQL databases named `bench_*` on 127.0.0.1:5432, reused while their marker row says they
hold the same count; `make test` never touches them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, func, insert, select, text

BATCH = 5_000


def clone_sites(
    database_url: str,
    template_site: int,
    first_id: int,
    count: int,
    *,
    applied: bool = True,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Add `count` sites first_id.. like `template_site`, each with its own customer and
    membership; their limits documents are applied (or all behind, as after an outage)."""
    from bridge.adapters.storage.engine import normalize_url

    engine = create_engine(normalize_url(database_url))
    meta = MetaData()
    customers = Table("customers", meta, autoload_with=engine)
    memberships = Table("memberships", meta, autoload_with=engine)
    sites = Table("sites", meta, autoload_with=engine)
    docs = Table("limits_documents", meta, autoload_with=engine)
    started = time.monotonic()
    with engine.connect() as conn:
        site = conn.execute(select(sites).where(sites.c.id == template_site)).mappings().one()
        member = (
            conn.execute(select(memberships).where(memberships.c.id == site["membership_id"]))
            .mappings()
            .one()
        )
        customer = (
            conn.execute(select(customers).where(customers.c.id == member["customer_id"]))
            .mappings()
            .one()
        )
        doc = conn.execute(select(docs).where(docs.c.site_id == template_site)).mappings().one()
        next_customer = int(conn.execute(select(func.max(customers.c.id))).scalar() or 0) + 1
        next_member = int(conn.execute(select(func.max(memberships.c.id))).scalar() or 0) + 1
        next_user = int(conn.execute(select(func.max(customers.c.wp_user_id))).scalar() or 0) + 1
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        c_rows: list[dict[str, Any]] = []
        m_rows: list[dict[str, Any]] = []
        s_rows: list[dict[str, Any]] = []
        d_rows: list[dict[str, Any]] = []
        for k in range(n):
            i = done + k
            cid, mid, sid = next_customer + i, next_member + i, first_id + i
            c_rows.append({**customer, "id": cid, "wp_user_id": next_user + i})
            m_rows.append({**member, "id": mid, "customer_id": cid})
            s_rows.append(
                {**site, "id": sid, "membership_id": mid, "url": f"http://127.0.0.1:9/site{sid}/"}
            )
            document = dict(doc["document"] or {})
            document["site_id"] = sid
            d_rows.append(
                {
                    **doc,
                    "site_id": sid,
                    "document": document,
                    "applied_version": doc["desired_version"] if applied else 0,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(customers), c_rows)
            conn.execute(insert(memberships), m_rows)
            conn.execute(insert(sites), s_rows)
            conn.execute(insert(docs), d_rows)
        done += n
        if progress is not None:
            progress(done)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        with engine.begin() as conn:
            # The clones took ids by hand: move the sequences past them.
            for table in ("customers", "memberships"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    engine.dispose()
    return time.monotonic() - started


def count_sites(database_url: str) -> int:
    from bridge.adapters.storage.engine import normalize_url

    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM sites")).scalar() or 0)
    except Exception:
        return -1
    finally:
        engine.dispose()
