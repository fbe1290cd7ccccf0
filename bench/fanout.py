"""Pushing new limits to many sites: documents/s against what the receiving network can take.

Run: `.venv/bin/python bench/fanout.py [--sites N] [--workers W] [--tree DIR]`.
1. The receiver's own ceiling: the loopback receiver of the push tests (signature check, version
   rule) in a child process; C client threads post signed documents straight at it for S seconds.
2. The bridge: N sites whose limits documents are all behind (as after an outage or a plan's
   limits change; seeded by bench/seed.py), then `bridge worker --workers W` against the same
   receiver; documents/s from the first acknowledged site to the last (read from the database).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab
import seed


def run_receiver(port_file: Path) -> None:
    """The child: the push tests' receiver, its port written to `port_file`."""
    sys.path.insert(0, str(lab.ROOT))
    from tests.integration.push.receiver import Receiver

    with Receiver(lab.SECRET) as receiver:
        port_file.write_text(receiver.url)
        while True:
            time.sleep(3600)


def start_receiver(work: Path) -> tuple[Any, str]:
    port_file = work / "receiver.url"
    argv = [sys.executable, str(Path(__file__).resolve()), "--receiver", str(port_file)]
    env = lab.environment(work)
    env["PYTHONPATH"] = str(lab.ROOT)
    context = lab.process(argv, env, work / "receiver.log")
    context.__enter__()
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.05)
    return context, port_file.read_text()


def ceiling(
    url: str, seconds: float, clients: int, path: str = "/?rest_route=/bridge/v1/limits"
) -> dict[str, Any]:
    """Signed documents straight at the receiver: the most it takes per second."""
    from bridge.contract import push_webhook, sign_headers

    webhook = push_webhook(lab.SECRET)
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    counts = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            site_id = 2 + i * 1_000_000 + n
            body = json.dumps({"site_id": site_id, "version": 1, "limits": {}, "membership": None})
            headers = sign_headers(webhook, f"ceiling-{i}-{n}", datetime.now(UTC), body)
            headers["Content-Type"] = "application/json"
            client = lab.Client(host, int(port))
            try:
                status, _ = client.request("POST", path, body.encode(), headers)
            except OSError:
                status = 599
            client.close()
            counts[i] += 1
            if status != 200:
                errors[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "documents": sum(counts),
        "per_s": round(sum(counts) / elapsed, 1),
        "errors": sum(errors),
    }


def seeded_database(sites: int, tree: Path, work: Path) -> Path:
    """A SQLite database with `sites` sites all behind, copied from the cache."""
    cached = lab.CACHE / f"fanout-{sites}.db"
    if seed.count_sites(f"sqlite:///{cached}") != sites:
        lab.CACHE.mkdir(parents=True, exist_ok=True)
        for extra in ("", "-wal", "-shm"):
            Path(str(cached) + extra).unlink(missing_ok=True)
        env = lab.environment(work, tree=tree, database_url=f"sqlite:///{cached}")
        lab.migrate(env)
        import os

        os.environ.update(env)
        from bridge import create_app

        app = create_app()
        body, headers = lab.site_created(2)
        assert (
            app.test_client().post("/webhooks/wordpress", data=body, headers=headers).status_code
            == 204
        )
        app.extensions["bridge"].runtime.close()
        seed.clone_sites(f"sqlite:///{cached}", 2, 3, sites - 1, applied=False)
        import sqlite3

        conn = sqlite3.connect(cached)
        with conn:
            conn.execute("UPDATE limits_documents SET applied_version = 0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    target = work / "bridge.db"
    shutil.copy(cached, target)
    return target


def behind(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*) FROM limits_documents WHERE applied_version < desired_version"
        ).fetchone()
    return int(row[0])


def bridge_fanout(
    url: str,
    sites: int,
    workers: int,
    tree: Path,
    work: Path,
    timeout_s: float,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start `bridge worker` on N sites all behind; documents/s first ack → last ack."""
    database = seeded_database(sites, tree, work)
    env = lab.environment(
        work,
        tree=tree,
        database_url=f"sqlite:///{database}",
        BRIDGE_WORDPRESS_URL=url,
        **(extra or {}),
    )
    argv = lab.bridge_command("worker", "--workers", str(workers))
    first: float | None = None
    last_count = sites
    started = time.monotonic()
    with lab.process(argv, env, work / "worker.log") as proc:
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the worker exited: {(work / 'worker.log').read_text()[-2000:]}"
                )
            left = behind(database)
            now = time.monotonic()
            if first is None and left < sites:
                first = now
            last_count = left
            if left == 0:
                break
            time.sleep(0.1)
    end = time.monotonic()
    done = sites - last_count
    span = end - (first or end)
    return {
        "sites": sites,
        "workers": workers,
        "acknowledged": done,
        "seconds": round(span, 2),
        "per_s": round(done / span, 1) if span > 0 else 0.0,
        "complete": last_count == 0,
    }


def measure(
    sites: int, workers: int, seconds: float, clients: int, tree: Path, timeout_s: float
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as work_dir:
        work = Path(work_dir)
        context, url = start_receiver(work)
        try:
            top = ceiling(url, seconds, clients)
            bridge = bridge_fanout(url, sites, workers, tree, work, timeout_s)
        finally:
            context.__exit__(None, None, None)
    return {
        "receiver_ceiling": top,
        "bridge": bridge,
        "ratio": round(bridge["per_s"] / top["per_s"], 3) if top["per_s"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receiver", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.receiver is not None:
        run_receiver(args.receiver)
        return
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    result = measure(args.sites, args.workers, args.seconds, args.clients, tree, args.timeout)
    if args.json:
        print(json.dumps(result))
        return
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
