"""The rows measured against a real WordPress multisite (the test harness's network on loopback):

- the bridge's quote round trip (HTTP, `bridge serve`) against a bare WordPress REST GET (the
  /wp-json/ index) and a light WordPress route (`wp/v2/types/post`), interleaved request by request;
- an in-process quote against the same WordPress GET;
- commit → the site reports the new limits: from sending the commit until the bridge has the
  site's acknowledgement of the new document (pushed by `bridge serve` right after the commit:
  its live push, or, in a tree without live pushes, its in-process worker), back to back and
  after the process has idled (60 s by default); beside it one WordPress push round trip;
- fan-out to K real subsites whose documents are all behind: `bridge worker`'s start-up
  reconcile sends them as one fan-out (batches of B, C in flight, no documents/s cap), documents/s
  over the fan-out's own duration; beside it the network's own ceiling taken the same way: C
  clients post the same documents (each a newer version, so each is applied again) in signed
  batches of B straight at the network's batch endpoint.

Run: `.venv/bin/python bench/wordpress.py [--rounds R] [--idle-s S] [--idle-rounds I]
[--fanout-sites K] [--fanout-batch B] [--fanout-concurrency C] [--only-fanout] [--tree DIR]`
(needs the Debian packages of `make deps`).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout
import lab

LIGHT_ROUTE = "/?rest_route=/wp/v2/types/post"
INDEX_ROUTE = "/wp-json/"


def wait_applied(client: lab.Client, site_id: int, version: int, timeout_s: float = 30.0) -> float:
    """Poll the bridge (every 2 ms) until the site acknowledged `version`; when it did."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        status, body = client.json("GET", f"/api/v1/sites/{site_id}", headers=lab.OPERATOR)
        if status == 200 and body["limits"]["applied_version"] >= version:
            return time.perf_counter()
        time.sleep(0.002)
    raise RuntimeError(f"site {site_id} did not acknowledge version {version} in {timeout_s} s")


def commit_to_live(bridge: lab.Client, site_id: int, step: int) -> float:
    """Quote (not timed) then commit; ms from sending the commit to the acknowledgement."""
    status, quote = bridge.json(
        "POST",
        f"/api/v1/sites/{site_id}/quotes",
        {"plan": "premium", "addons": {"extra-disk": step}},
        lab.OPERATOR,
    )
    assert status == 201, quote
    started = time.perf_counter()
    status, commit = bridge.json("POST", f"/api/v1/quotes/{quote['id']}/commit", None, lab.OPERATOR)
    assert status == 200 and commit["status"] == "applied", commit
    status, view = bridge.json("GET", f"/api/v1/sites/{site_id}", headers=lab.OPERATOR)
    return (wait_applied(bridge, site_id, view["limits"]["desired_version"]) - started) * 1000


def in_process_quote_us(rounds: int) -> float:
    """Median µs of one domain quote (bench/quote.py's catalog and memberships)."""
    import random

    import quote as quote_bench

    rng = random.Random(7)
    policy = quote_bench.Policy()
    catalog = quote_bench.build_catalog(rng)
    cases = quote_bench.build_cases(catalog, 200, rng)
    timings = []
    for n in range(rounds):
        member, selection, at = cases[n % len(cases)]
        started = time.perf_counter()
        try:
            quote_bench.quote_change(catalog, policy, member, selection, at)
        except quote_bench.NotEligible:
            continue
        timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()
    return timings[len(timings) // 2]


def measure(args: argparse.Namespace, tree: Path) -> dict[str, Any]:
    sys.path.insert(0, str(lab.ROOT))
    from bridge.adapters.wordpress import RestLimitsPusher
    from tests.wordpress.harness import WordPressNetwork

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-wp-") as work_dir:
        work = Path(work_dir)
        bridge_port = lab.free_port()
        network = WordPressNetwork(
            work / "wp",
            web_port=lab.free_port(),
            db_port=lab.free_port(),
            bridge_url=f"http://127.0.0.1:{bridge_port}",
            secret=lab.SECRET,
            plugin_dir=lab.ROOT / "wp-plugin-stub",
        )
        network.start()
        try:
            live = 0 if getattr(args, "only_fanout", False) else 4
            sites = [network.create_site(f"bench{n}") for n in range(live + args.fanout_sites)]
            live_sites, fan_sites = sites[:live], sites[live:]
            if not live_sites:
                result["fanout_wordpress"] = fanout_real(args, tree, work, network, fan_sites)
                return result
            env = lab.environment(
                work,
                tree=tree,
                BRIDGE_WORDPRESS_URL=network.url,
                BRIDGE_PUBLIC_URL=f"http://127.0.0.1:{bridge_port}",
            )
            lab.migrate(env)
            argv = lab.bridge_command("serve", "--port", str(bridge_port))
            with lab.process(argv, env, work / "serve.log") as proc:
                lab.wait_http(bridge_port, proc=proc)
                bridge = lab.Client("127.0.0.1", bridge_port)
                wp = lab.Client("127.0.0.1", network.web_port)
                for site in live_sites:
                    body, headers = lab.signed(
                        "site.created",
                        {
                            "site_id": site.blog_id,
                            "url": site.url,
                            "name": site.slug,
                            "owner": {
                                "user_id": site.owner_id,
                                "email": "o@example.com",
                                "locale": "en_US",
                            },
                        },
                        f"created-{site.blog_id}",
                    )
                    assert bridge.request("POST", "/webhooks/wordpress", body, headers)[0] == 204
                for site in live_sites:
                    wait_applied(bridge, site.blog_id, 1)

                # 1. quote round trip vs WordPress GETs, interleaved.
                rows: dict[str, list[float]] = {"quote": [], "wp_index": [], "wp_light": []}
                for n in range(args.rounds + 10):
                    site = live_sites[n % len(live_sites)]
                    for name in rows:
                        started = time.perf_counter()
                        if name == "quote":
                            status, _ = bridge.json(
                                "POST",
                                f"/api/v1/sites/{site.blog_id}/quotes",
                                {"plan": "premium"},
                                lab.OPERATOR,
                            )
                        else:
                            status, _ = wp.request(
                                "GET", INDEX_ROUTE if name == "wp_index" else LIGHT_ROUTE
                            )
                        took = (time.perf_counter() - started) * 1000
                        assert status in (200, 201), (name, status)
                        if n >= 10:
                            rows[name].append(took)
                summaries = {name: lab.summary(v) for name, v in rows.items()}
                quote_us = in_process_quote_us(5000)
                result["quote"] = {
                    **summaries,
                    "in_process_quote_us": round(quote_us, 1),
                    "ratio_quote_to_wp_index": round(
                        summaries["quote"]["p50_ms"] / summaries["wp_index"]["p50_ms"], 3
                    ),
                    "ratio_quote_to_wp_light": round(
                        summaries["quote"]["p50_ms"] / summaries["wp_light"]["p50_ms"], 3
                    ),
                    "ratio_in_process_to_wp_index": round(
                        quote_us / 1000 / summaries["wp_index"]["p50_ms"], 5
                    ),
                }

                # 2. commit → live, back to back, with a bare WordPress push beside it.
                pusher = RestLimitsPusher(lab.SECRET, timeout_s=10)
                push_ms: list[float] = []
                live_ms: list[float] = []
                probe = live_sites[0]
                for n in range(args.live_rounds):
                    site = live_sites[1 + n % 3]
                    live_ms.append(commit_to_live(bridge, site.blog_id, n + 1))
                    document = {
                        "site_id": probe.blog_id,
                        "version": 1000 + n,
                        "issued_at": datetime.now(UTC).isoformat(),
                        "limits": {"disk_mb": 100},
                        "membership": None,
                    }
                    started = time.perf_counter()
                    pusher.push_site(network.url, document, datetime.now(UTC), f"bench-probe-{n}")
                    push_ms.append((time.perf_counter() - started) * 1000)
                idle_ms: list[float] = []
                for n in range(args.idle_rounds):
                    time.sleep(args.idle_s)
                    site = live_sites[1 + n % 3]
                    idle_ms.append(commit_to_live(bridge, site.blog_id, 100 + n))
                pusher.close()
                push = lab.summary(push_ms)
                result["live"] = {
                    "back_to_back": lab.summary(live_ms),
                    "after_idle": {**lab.summary(idle_ms), "idle_s": args.idle_s},
                    "wordpress_push": push,
                    "budget_ms": round(push["p50_ms"] + 50, 1),
                    "samples_ms": {"back_to_back": live_ms, "after_idle": idle_ms, "push": push_ms},
                }
                bridge.close()
                wp.close()

            # 3. fan-out to real subsites all behind (one bridge worker process).
            if fan_sites:
                result["fanout_wordpress"] = fanout_real(args, tree, work, network, fan_sites)
        finally:
            network.stop()
    return result


def fanout_real(
    args: argparse.Namespace, tree: Path, work: Path, network: Any, fan_sites: list[Any]
) -> dict[str, Any]:
    import os

    batch = getattr(args, "fanout_batch", 100)
    concurrency = getattr(args, "fanout_concurrency", 2)
    database = work / "fanout.db"
    env = lab.environment(
        work,
        tree=tree,
        database_url=f"sqlite:///{database}",
        BRIDGE_WORDPRESS_URL=network.url,
        BRIDGE_QUEUE_PATH=str(work / "fanout-queue.db"),
        BRIDGE_PUSH_BATCH_SIZE=str(batch),
        BRIDGE_PUSH_MAX_CONCURRENT_BATCHES=str(concurrency),
        BRIDGE_PUSH_MAX_DOCS_PER_S="0",
    )
    lab.migrate(env)
    os.environ.update(env)
    from bridge import create_app

    app = create_app()
    client = app.test_client()
    for site in fan_sites:
        body, headers = lab.signed(
            "site.created",
            {
                "site_id": site.blog_id,
                "url": site.url,
                "name": site.slug,
                "owner": {"user_id": site.owner_id, "email": "o@example.com", "locale": "en_US"},
            },
            f"fan-created-{site.blog_id}",
        )
        assert client.post("/webhooks/wordpress", data=body, headers=headers).status_code == 204
    app.extensions["bridge"].runtime.close()
    count = len(fan_sites)
    # 1. The sites' first documents (a first apply creates each site's option rows): warm-up.
    first = worker_fanout(env, work, database, count, "fan-worker-1.log")
    # 2. Measured: every document one version newer, as when a plan's limits rise, so each
    #    apply updates what the warm-up stored, like the ceiling's below.
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE limits_documents SET desired_version = desired_version + 1, "
            "document = json_set(document, '$.version', desired_version + 1)"
        )
    bridge = {
        **worker_fanout(env, work, database, count, "fan-worker-2.log"),
        "batch": batch,
        "concurrency": concurrency,
        "warm_up_per_s": first["per_s"],
    }
    top = network_ceiling(
        network, database, batch, concurrency, rounds=getattr(args, "ceiling_rounds", 3)
    )
    return {
        **bridge,
        "ceiling": top,
        "ratio": round(bridge["per_s"] / top["per_s"], 3) if top["per_s"] else None,
    }


def worker_fanout(
    env: dict[str, str], work: Path, database: Path, count: int, log_name: str
) -> dict[str, Any]:
    """`bridge worker` on a fresh queue: its start-up reconcile finds the sites behind and, as
    after an outage, sends them as one fan-out; documents/s over the fan-out's own duration."""
    # With its -wal and -shm: a stale WAL beside a new queue file is a "disk I/O error" at the
    # worker's start (why this row used to read 0).
    for name in ("fanout-queue.db", "fanout-queue.db-wal", "fanout-queue.db-shm"):
        (work / name).unlink(missing_ok=True)
    argv = lab.bridge_command("worker", "--workers", "2")
    log = work / log_name
    left = count
    with lab.process(argv, env, log):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            left = behind(database)
            if left == 0:
                break
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while fanout.fanout_log(log) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    run = fanout.fanout_log(log) or {}
    if not run:
        print(f"no fan-out in the worker's log: {log.read_text()[-3000:]}", file=sys.stderr)
    seconds = float(run.get("seconds") or 0)
    return {
        "sites": count,
        "acknowledged": count - left,
        "seconds": round(seconds, 2),
        "per_s": round(int(run.get("acknowledged", 0)) / seconds, 1) if seconds else 0.0,
    }


def behind(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*) FROM limits_documents WHERE applied_version < desired_version"
        ).fetchone()
    return int(row[0])


def network_ceiling(
    network: Any, database: Path, batch: int, concurrency: int, rounds: int
) -> dict[str, Any]:
    """The network's own ceiling, taken the way the fan-out sends: C clients post the bridge's
    own stored documents, each a newer version (so each is applied, as in the fan-out), in
    signed batches of B to the batch endpoint; documents applied per second."""
    import threading

    from bridge.contract import push_webhook, sign_headers

    with sqlite3.connect(database) as conn:
        stored = [json.loads(r[0]) for r in conn.execute("SELECT document FROM limits_documents")]
    chunks = [stored[n : n + batch] for n in range(0, len(stored), batch)]
    webhook = push_webhook(lab.SECRET)
    applied = [0] * concurrency
    errors = [0] * concurrency

    def run(i: int) -> None:
        wp = lab.Client("127.0.0.1", network.web_port)
        wp.timeout_s = 120
        for n in range(rounds):
            for k, chunk in enumerate(chunks):
                if k % concurrency != i:
                    continue
                version = 1000 + n  # newer than the fan-out's: each is applied again
                docs = [{**d, "version": version} for d in chunk]
                body = json.dumps({"documents": docs}, separators=(",", ":"))
                headers = sign_headers(webhook, f"wp-ceiling-{n}-{k}", datetime.now(UTC), body)
                headers["Content-Type"] = "application/json"
                status, answer = wp.request(
                    "POST", "/?rest_route=/bridge/v1/limits/batch", body.encode(), headers
                )
                results = json.loads(answer).get("results", []) if status == 200 else []
                applied[i] += sum(1 for r in results if r.get("status") == "applied")
                errors[i] += len(docs) - sum(1 for r in results if r.get("status") == "applied")
        wp.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "documents": sum(applied),
        "seconds": round(elapsed, 2),
        "per_s": round(sum(applied) / elapsed, 1) if elapsed else 0.0,
        "errors": sum(errors),
        "batch": batch,
        "clients": concurrency,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--live-rounds", type=int, default=30)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--idle-rounds", type=int, default=3)
    parser.add_argument("--fanout-sites", type=int, default=200)
    parser.add_argument("--fanout-batch", type=int, default=100)
    parser.add_argument("--fanout-concurrency", type=int, default=2)
    parser.add_argument("--ceiling-rounds", type=int, default=3)
    parser.add_argument("--only-fanout", action="store_true")
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    result = measure(args, tree)
    if args.json:
        print(json.dumps(result))
        return
    shown = {k: v for k, v in result.items()}
    if "live" in shown:
        shown["live"] = {k: v for k, v in shown["live"].items() if k != "samples_ms"}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    main()
