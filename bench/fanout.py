"""Pushing new limits to many sites: documents/s against what the receiving network can take.

Run: `.venv/bin/python bench/fanout.py [--sites N] [--batch B] [--concurrency C] [--tree DIR]`.
1. The receiver's own ceiling, taken the way the bridge sends: the loopback receiver of the push
   tests (signature check, version rule, per-site answers) in a child process; C client threads
   post signed batches of B documents (copies of a seeded site's real document, each a new
   version, so each is applied) straight at its batch route, S/2 seconds right before and S/2
   right after the bridge's run (their mean is the ceiling: the machine's load moves). Beside it, for
   reference, the same with one signed document per request (the single push's ceiling).
2. The bridge: N sites whose limits documents are all behind (as after an outage; seeded by
   bench/seed.py), then `bridge worker` against the same receiver: its start-up reconcile finds
   them all behind and queues one fan-out, B documents a batch, C batches in flight, no
   documents/s cap (`push.max_docs_per_s: 0`: the cap is for the operator's own network, not
   for this measure). documents/s = acknowledged ÷ the fan-out's own duration (its "fan-out
   done" log line); beside it, first → last acknowledgement as read from the database.
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


def batch_ceiling(
    url: str, seconds: float, clients: int, batch: int, template: dict[str, Any]
) -> dict[str, Any]:
    """Signed batches straight at the receiver's batch route: documents it takes per second."""
    from bridge.contract import push_webhook, sign_headers

    webhook = push_webhook(lab.SECRET)
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    documents = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        client = lab.Client(host, int(port))
        n = 0
        while time.monotonic() < stop:
            n += 1
            first = 2 + i * 1_000_000
            docs = [{**template, "site_id": first + k, "version": n} for k in range(batch)]
            body = json.dumps({"documents": docs}, separators=(",", ":"))
            headers = sign_headers(webhook, f"ceiling-batch-{i}-{n}", datetime.now(UTC), body)
            headers["Content-Type"] = "application/json"
            try:
                status, answer = client.request(
                    "POST", "/?rest_route=/bridge/v1/limits/batch", body.encode(), headers
                )
            except OSError:
                status, answer = 599, b""
                client.close()
                client = lab.Client(host, int(port))
            if status != 200 or b'"error"' in answer:
                errors[i] += 1
            else:
                documents[i] += batch
        client.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "documents": sum(documents),
        "per_s": round(sum(documents) / elapsed, 1),
        "errors": sum(errors),
        "batch": batch,
        "clients": clients,
    }


def template_document(database: Path) -> dict[str, Any]:
    """A real stored limits document (site 2's) of the seeded database."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT document FROM limits_documents WHERE site_id = 2").fetchone()
    document: dict[str, Any] = json.loads(row[0])
    return document


def fanout_log(log: Path) -> dict[str, Any] | None:
    """The worker's "fan-out done" line with the most documents acknowledged."""
    best: dict[str, Any] | None = None
    for line in log.read_text(errors="replace").splitlines():
        if '"fan-out done"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if best is None or entry.get("acknowledged", 0) > best.get("acknowledged", 0):
            best = entry
    return best


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
    batch: int,
    concurrency: int,
    database: Path,
    tree: Path,
    work: Path,
    timeout_s: float,
) -> dict[str, Any]:
    """Start `bridge worker` on N sites all behind: its start-up reconcile fans them out."""
    env = lab.environment(
        work,
        tree=tree,
        database_url=f"sqlite:///{database}",
        BRIDGE_WORDPRESS_URL=url,
        BRIDGE_PUSH_BATCH_SIZE=str(batch),
        BRIDGE_PUSH_MAX_CONCURRENT_BATCHES=str(concurrency),
        BRIDGE_PUSH_MAX_DOCS_PER_S="0",
    )
    argv = lab.bridge_command("worker", "--workers", "2")
    first: float | None = None
    last_count = sites
    started = time.monotonic()
    log = work / "worker.log"
    with lab.process(argv, env, log) as proc:
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the worker exited: {log.read_text()[-2000:]}")
            left = behind(database)
            now = time.monotonic()
            if first is None and left < sites:
                first = now
            last_count = left
            if left == 0:
                break
            time.sleep(0.1)
        end = time.monotonic()
        deadline = end + 10
        while fanout_log(log) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    done = sites - last_count
    span = end - (first or end)
    run = fanout_log(log) or {}
    seconds = float(run.get("seconds") or 0)
    return {
        "sites": sites,
        "batch": batch,
        "concurrency": concurrency,
        "acknowledged": done,
        "seconds": round(seconds, 2),
        "per_s": round(int(run.get("acknowledged", 0)) / seconds, 1) if seconds else 0.0,
        "first_to_last_ack_per_s": round(done / span, 1) if span > 0 else 0.0,
        "complete": last_count == 0,
    }


def measure(
    sites: int,
    batch: int,
    concurrency: int,
    seconds: float,
    tree: Path,
    timeout_s: float,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as work_dir:
        work = Path(work_dir)
        database = seeded_database(sites, tree, work)
        template = template_document(database)
        context, url = start_receiver(work)
        try:
            single = ceiling(url, seconds, concurrency)
            # The batch ceiling right before and right after the bridge's run, averaged: the
            # machine's load moves from second to second.
            before = batch_ceiling(url, seconds / 2, concurrency, batch, template)
            bridge = bridge_fanout(url, sites, batch, concurrency, database, tree, work, timeout_s)
            after = batch_ceiling(url, seconds / 2, concurrency, batch, template)
        finally:
            context.__exit__(None, None, None)
    top = {
        **before,
        "documents": before["documents"] + after["documents"],
        "per_s": round((before["per_s"] + after["per_s"]) / 2, 1),
        "errors": before["errors"] + after["errors"],
        "before_per_s": before["per_s"],
        "after_per_s": after["per_s"],
    }
    return {
        "receiver_ceiling": top,
        "receiver_single_ceiling": single,
        "bridge": bridge,
        "ratio": round(bridge["per_s"] / top["per_s"], 3) if top["per_s"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receiver", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.receiver is not None:
        run_receiver(args.receiver)
        return
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    result = measure(args.sites, args.batch, args.concurrency, args.seconds, tree, args.timeout)
    if args.json:
        print(json.dumps(result))
        return
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
