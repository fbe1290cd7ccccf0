"""Quote and commit round trips through the real app, over its public HTTP API only.

Run: `make bench` (or `.venv/bin/python bench/commit.py [--sites N] [--rounds R] [--warmup W]
[--json]`). Builds the app as a deployment would: BRIDGE_* environment, `bridge migrate` in a
child process, `create_app()`, on SQLite in a temporary folder with the SQLite job queue (pushes
are queued, as in production, and never run: no worker). Sites arrive by signed `site.created`
webhooks; then each round takes the next site in turn, POSTs a quote as the operator and commits
it: Free → Premium the first time, then one more "Extra disk" each time. The first W rounds warm
up and are not counted. Prints median and p95 per request and for the pair.

Only environment variables, the `bridge` command, `create_app` and HTTP are used, so the same
file measures another checkout too: `git worktree add /tmp/old <commit>`, then
`.venv/bin/python bench/commit.py --tree /tmp/old` imports the bridge (and reads config.yaml)
from that tree instead of this one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from standardwebhooks import Webhook

ROOT = Path(__file__).resolve().parents[1]

ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghij"
SECRET = "whsec_" + base64.b64encode(b"bench-commit-secret-32-bytes-ok!").decode()
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def environment(lab: Path, config: Path) -> dict[str, str]:
    return {
        "BRIDGE_CONFIG": str(config),
        "BRIDGE_DATABASE_URL": f"sqlite:///{lab / 'bridge.db'}",
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_GATEWAY": "test",
        "BRIDGE_QUEUE_BACKEND": "sqlite",
        "BRIDGE_QUEUE_PATH": str(lab / "queue.db"),
        "BRIDGE_WORDPRESS_URL": "http://127.0.0.1:9/",
    }


def migrate(env: dict[str, str], tree: Path) -> None:
    # A child process: the command configures logging, which would slow this one down.
    subprocess.run(
        [sys.executable, "-c", "from bridge.cli import main; main()", "migrate"],
        env={**os.environ, **env, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
    )


def seed(client: FlaskClient, sites: int) -> list[int]:
    """`site.created` for sites 2..N+1, signed like the plugin signs them."""
    webhook = Webhook(SECRET)
    ids = list(range(2, sites + 2))
    for site_id in ids:
        body = json.dumps(
            {
                "type": "site.created",
                "data": {
                    "site_id": site_id,
                    "url": f"http://net.example/site{site_id}/",
                    "name": f"Bench {site_id}",
                    "owner": {"user_id": site_id, "email": "o@example.com", "locale": "en_US"},
                },
            }
        )
        msg_id = f"msg_bench_created_{site_id}"
        at = datetime.now(UTC)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": webhook.sign(msg_id, at, body),
            "Content-Type": "application/json",
        }
        response = client.post("/webhooks/wordpress", data=body, headers=headers)
        assert response.status_code == 204, (response.status_code, response.get_data(as_text=True))
    return ids


def round_trip(client: FlaskClient, site_id: int, extra_disk: int) -> tuple[float, float]:
    """Milliseconds for the quote and for its commit."""
    selection: dict[str, Any] = {"plan": "premium", "addons": {"extra-disk": extra_disk}}
    started = time.perf_counter()
    quote = client.post(f"/api/v1/sites/{site_id}/quotes", json=selection, headers=OPERATOR)
    quoted = time.perf_counter()
    assert quote.status_code == 201, quote.get_json()
    commit = client.post(f"/api/v1/quotes/{quote.get_json()['id']}/commit", headers=OPERATOR)
    committed = time.perf_counter()
    assert commit.status_code == 200, commit.get_json()
    assert commit.get_json()["status"] == "applied", commit.get_json()
    return (quoted - started) * 1000, (committed - quoted) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose bridge to run")
    args = parser.parse_args()
    if args.rounds < 2 or args.sites < 1:
        parser.error("--rounds must be at least 2 and --sites at least 1")
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))

    with tempfile.TemporaryDirectory(prefix="bench-commit-") as lab_dir:
        env = environment(Path(lab_dir), tree / "config.yaml")
        migrate(env, tree)
        os.environ.update(env)
        from bridge import create_app

        assert Path(sys.modules["bridge"].__file__ or "").is_relative_to(tree), "wrong bridge"

        app = create_app()
        client = app.test_client()
        sites = seed(client, args.sites)
        timings: dict[str, list[float]] = {"quote": [], "commit": [], "quote + commit": []}
        for n in range(args.warmup + args.rounds):
            site_id = sites[n % len(sites)]
            quote_ms, commit_ms = round_trip(client, site_id, n // len(sites))
            if n >= args.warmup:
                timings["quote"].append(quote_ms)
                timings["commit"].append(commit_ms)
                timings["quote + commit"].append(quote_ms + commit_ms)
        runtime = app.extensions.get("bridge.runtime")
        if runtime is not None and hasattr(runtime, "engine"):
            runtime.engine.dispose()

    figures = {
        step: {
            "rounds": len(values),
            "median_ms": round(statistics.median(values), 2),
            "p95_ms": round(p95(values), 2),
        }
        for step, values in timings.items()
    }
    if args.json:
        print(json.dumps({"sites": args.sites, "warmup": args.warmup, "figures": figures}))
        return
    print(
        f"{args.rounds} quote + commit round trips over {args.sites} sites "
        f"(after {args.warmup} warm-up), SQLite, Flask test client"
    )
    print("| request | rounds | median ms | p95 ms |")
    print("|---|---|---|---|")
    for step, row in figures.items():
        print(f"| {step} | {row['rounds']} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} |")


if __name__ == "__main__":
    main()
