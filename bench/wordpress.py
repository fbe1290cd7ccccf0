"""The rows measured against a real WordPress multisite (the test harness's network on loopback):

- the bridge's quote round trip (HTTP, `bridge serve`) against a bare WordPress REST GET (the
  /wp-json/ index) and a light WordPress route (`wp/v2/types/post`), interleaved request by request;
- an in-process quote against the same WordPress GET;
- commit → the site reports the new limits: from sending the commit until the bridge has the
  site's acknowledgement of the new document (pushed by `bridge serve` right after the commit:
  its live push, or, in a tree without live pushes, its in-process worker), back to back and
  after the process has idled (60 s by default); beside it one WordPress push round trip;
- fan-out to K real subsites whose documents are all behind (`bridge worker`), documents/s.

Run: `.venv/bin/python bench/wordpress.py [--rounds R] [--idle-s S] [--idle-rounds I]
[--fanout-sites K] [--tree DIR]` (needs the Debian packages of `make deps`).
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
            sites = [network.create_site(f"bench{n}") for n in range(4 + args.fanout_sites)]
            live_sites, fan_sites = sites[:4], sites[4:]
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
                result["fanout_wordpress"] = fanout_real(
                    args, tree, work, network, fan_sites, bridge_port
                )
        finally:
            network.stop()
    return result


def fanout_real(
    args: argparse.Namespace,
    tree: Path,
    work: Path,
    network: Any,
    fan_sites: list[Any],
    bridge_port: int,
) -> dict[str, Any]:
    import os

    database = work / "fanout.db"
    env = lab.environment(
        work,
        tree=tree,
        database_url=f"sqlite:///{database}",
        BRIDGE_WORDPRESS_URL=network.url,
        BRIDGE_QUEUE_PATH=str(work / "fanout-queue.db"),
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
    # The queue of those events is dropped: the worker's start-up reconcile finds them all behind.
    (work / "fanout-queue.db").unlink(missing_ok=True)
    count = len(fan_sites)
    argv = lab.bridge_command("worker", "--workers", str(args.workers))
    first: float | None = None
    left = count
    with lab.process(argv, env, work / "fan-worker.log"):
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with sqlite3.connect(database, timeout=30) as conn:
                left = int(
                    conn.execute(
                        "SELECT count(*) FROM limits_documents WHERE applied_version < desired_version"
                    ).fetchone()[0]
                )
            if first is None and left < count:
                first = time.monotonic()
            if left == 0:
                break
            time.sleep(0.05)
    span = time.monotonic() - (first or time.monotonic())
    done = count - left
    return {
        "sites": count,
        "acknowledged": done,
        "seconds": round(span, 2),
        "per_s": round(done / span, 1) if span else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--live-rounds", type=int, default=30)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--idle-rounds", type=int, default=3)
    parser.add_argument("--fanout-sites", type=int, default=40)
    parser.add_argument("--workers", type=int, default=8)
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
