"""Quote p95 as the database grows: 1,000 and 100,000 memberships on SQLite, 1,000 and
1,000,000 on PostgreSQL.

Run: `.venv/bin/python bench/scale.py [--sizes sqlite:1000,sqlite:100000,postgresql:1000,
postgresql:1000000] [--quotes Q]`. Each database is seeded once (bench/seed.py) and cached:
SQLite under var/bench/, PostgreSQL as `bench_quote_<n>` on 127.0.0.1:5432 (trust). One app per
database in this process (Flask test client: the database work, not the HTTP server, is measured),
the operator's quote of a random site, interleaved across the databases, Q quotes each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab
import seed

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_SIZES = "sqlite:1000,sqlite:100000,postgresql:1000,postgresql:1000000"


def database_for(backend: str, size: int) -> str:
    if backend == "sqlite":
        lab.CACHE.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{lab.CACHE / f'quote-{size}.db'}"
    import psycopg

    name = f"bench_quote_{size}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop(backend: str, url: str) -> None:
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for extra in ("", "-wal", "-shm"):
            Path(str(path) + extra).unlink(missing_ok=True)
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure_seeded(backend: str, size: int, tree: Path, work: Path) -> str:
    url = database_for(backend, size)
    if seed.count_sites(url) == size:
        return url
    print(f"seeding {size:,} memberships on {backend} (cached for the next runs)", flush=True)
    drop(backend, url)
    env = lab.environment(work, tree=tree, database_url=url)
    lab.migrate(env)
    app = _app(env)
    body, headers = lab.site_created(2)
    response = app.test_client().post("/webhooks/wordpress", data=body, headers=headers)
    assert response.status_code == 204, response.status_code
    _close(app)
    took = seed.clone_sites(
        url,
        2,
        3,
        size - 1,
        progress=lambda n: print(f"  {n + 1:,}", end="\r", flush=True) if n % 50_000 == 0 else None,
    )
    print(f"  seeded in {took:.0f} s", flush=True)
    return url


def _app(env: dict[str, str]) -> Any:
    os.environ.update(env)
    from bridge import create_app

    return create_app()


def _close(app: Any) -> None:
    runtime = app.extensions["bridge"].runtime
    runtime.close()


def measure(sizes: list[tuple[str, int]], quotes: int, tree: Path) -> dict[str, Any]:
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work_dir:
        work = Path(work_dir)
        apps = {}
        for backend, size in sizes:
            url = ensure_seeded(backend, size, tree, work)
            apps[(backend, size)] = _app(lab.environment(work, tree=tree, database_url=url))
        timings: dict[tuple[str, int], list[float]] = {key: [] for key in apps}
        clients = {key: app.test_client() for key, app in apps.items()}
        for n in range(quotes + 20):
            for key, client in clients.items():
                site_id = rng.randint(2, key[1] + 1)
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1/sites/{site_id}/quotes",
                    json={"plan": "premium"},
                    headers=lab.OPERATOR,
                )
                took = (time.perf_counter() - started) * 1000
                assert response.status_code == 201, (key, response.get_json())
                if n >= 20:
                    timings[key].append(took)
        for app in apps.values():
            _close(app)
    rows = {f"{b}:{s}": lab.summary(v) for (b, s), v in timings.items()}
    result: dict[str, Any] = {"quotes": quotes, "rows": rows, "ratios": {}}
    for backend in ("sqlite", "postgresql"):
        mine = sorted(s for b, s in timings if b == backend)
        if len(mine) >= 2:
            small, big = mine[0], mine[-1]
            result["ratios"][f"{backend} p95 {big} / {small}"] = round(
                rows[f"{backend}:{big}"]["p95_ms"] / rows[f"{backend}:{small}"]["p95_ms"], 3
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("--quotes", type=int, default=300)
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    sizes = [(b, int(s)) for b, s in (item.split(":") for item in args.sizes.split(","))]
    result = measure(sizes, args.quotes, tree)
    if args.json:
        print(json.dumps(result))
        return
    print("| database | memberships | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for key, row in result["rows"].items():
        backend, size = key.split(":")
        print(
            f"| {backend} | {int(size):,} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} |"
        )
    for name, ratio in result["ratios"].items():
        print(f"{name}: {ratio}")


if __name__ == "__main__":
    main()
