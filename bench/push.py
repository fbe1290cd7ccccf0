"""Limits push round trip, REST against XML-RPC, on a real WordPress multisite on loopback.

Run: `.venv/bin/python bench/push.py [--pushes N]` (needs the Debian packages of `make deps`).
Brings up the test harness's network (private MariaDB, php -S with 4 workers, the plugin
network-activated), creates one subsite, then pushes signed limits documents to it, alternating
the two transports push by push so both see the same machine load. Prints median and p90 per
transport and the ratio to REST.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.adapters.wordpress import RestLimitsPusher, XmlRpcLimitsPusher  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.wordpress.harness import WordPressNetwork, new_webhook_secret  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=100)
    args = parser.parse_args()
    secret = new_webhook_secret()
    with tempfile.TemporaryDirectory(prefix="bench-push-") as lab:
        network = WordPressNetwork(
            Path(lab),
            web_port=free_port(),
            db_port=free_port(),
            bridge_url="http://127.0.0.1:9",
            secret=secret,
            plugin_dir=ROOT / "wp-plugin-stub",
        )
        network.start()
        try:
            site = network.create_site("bench")
            timings: dict[str, list[float]] = {"rest": [], "xmlrpc": []}
            rest, xmlrpc = (
                RestLimitsPusher(secret, timeout_s=10),
                XmlRpcLimitsPusher(secret, timeout_s=10),
            )
            try:
                pushers = {"rest": rest, "xmlrpc": xmlrpc}
                for version in range(1, 2 * args.pushes + 1):
                    name = "rest" if version % 2 else "xmlrpc"
                    document = {
                        "site_id": site.blog_id,
                        "version": version,
                        "issued_at": datetime.now(UTC).isoformat(),
                        "limits": {"posts": {"post": version}, "disk_mb": 100},
                        "membership": None,
                    }
                    started = time.perf_counter()
                    result = pushers[name].push_site(
                        site.url, document, datetime.now(UTC), f"msg_bench_{version}"
                    )
                    timings[name].append((time.perf_counter() - started) * 1000)
                    assert result.applied_version == version and not result.ignored
            finally:
                rest.close()
                xmlrpc.close()
        finally:
            network.stop()
    base = statistics.median(timings["rest"])
    print(f"{args.pushes} pushes per transport, alternating, one subsite, php -S with 4 workers")
    print("| transport | median ms | p90 ms | ratio |")
    print("|---|---|---|---|")
    for name, values in timings.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(
            f"| {name} | {statistics.median(values):.1f} | {p90:.1f} | {statistics.median(values) / base:.2f} |"
        )


if __name__ == "__main__":
    main()
