"""Signed webhook ingest against a bare Flask route on the same waitress server and threads.

Run: `.venv/bin/python bench/ingest.py [--seconds S] [--rounds R] [--clients C] [--tree DIR]`.
A child process serves the bridge (`create_app()` from BRIDGE_* variables, SQLite, no queue
worker) with one extra route, `GET /bench/bare` answering 204, on waitress with 8 threads, as
`bridge serve` does. C client threads (keep-alive, http.client) send for S seconds, first to the
bare route, then signed `usage.reported` events (each a new webhook id, over 50 sites), and again,
R rounds; the best round of each counts. Events are signed before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab

SITES = 50
THREADS = 8


def serve(port: int, threads: int) -> None:
    """The child: the bridge app plus the bare route, on one waitress server."""
    from flask import Response
    from waitress.server import create_server

    from bridge import create_app

    app = create_app()
    app.add_url_rule("/bench/bare", "bench_bare", lambda: Response(status=204))
    server = create_server(app, host="127.0.0.1", port=port, threads=threads, ident="bench")
    server.run()


def usage_events(count: int, run: str) -> list[tuple[bytes, dict[str, str]]]:
    events = []
    for n in range(count):
        site_id = 2 + n % SITES
        events.append(
            lab.signed(
                "usage.reported",
                {"site_id": site_id, "usage": {"disk_mb": n % 500, "posts": {"post": n % 40}}},
                f"msg_bench_usage_{run}_{n}",
            )
        )
    return events


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(port: int, seconds: float, clients: int, make: Any, pid: int) -> dict[str, Any]:
    """C threads for `seconds`: requests/s, latency summary, errors, and the server's CPU per
    request (less sensitive than requests/s to what else runs on a shared machine)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        client = lab.Client("127.0.0.1", port)
        n = 0
        while time.monotonic() < stop:
            method, path, body, headers = make(i, n)
            n += 1
            started = time.perf_counter()
            try:
                status, _ = client.request(method, path, body, headers)
            except OSError:
                status = 599
            latencies[i].append((time.perf_counter() - started) * 1000)
            if status >= 300:
                errors[i] += 1
        client.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    cpu_before = cpu_s(pid)
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = cpu_s(pid) - cpu_before
    flat = [x for per in latencies for x in per]
    return {
        "requests": len(flat),
        "per_s": round(len(flat) / elapsed, 1),
        "errors": sum(errors),
        "server_cpu_us": round(cpu / max(len(flat), 1) * 1e6, 1),
        **lab.summary(flat),
    }


def measure(tree: Path, seconds: float, rounds: int, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as lab_dir:
        work = Path(lab_dir)
        env = lab.environment(work, tree=tree)
        lab.migrate(env)
        port = lab.free_port()
        argv = [sys.executable, str(Path(__file__).resolve()), "--serve", str(port)]
        with lab.process(argv, env, work / "serve.log") as proc:
            lab.wait_http(port, "/healthz", proc=proc)
            client = lab.Client("127.0.0.1", port)
            for site_id in range(2, SITES + 2):
                body, headers = lab.site_created(site_id)
                status, _ = client.request("POST", "/webhooks/wordpress", body, headers)
                assert status == 204, status
            client.close()
            # Signed in advance, enough for ~3,000 events/s per round.
            per_round = int(3000 * seconds)
            rounds_of_events = [usage_events(per_round, f"r{r}") for r in range(rounds)]
            bare: list[dict[str, Any]] = []
            hooks: list[dict[str, Any]] = []
            for r in range(rounds):
                bare.append(
                    load(
                        port,
                        seconds,
                        clients,
                        lambda i, n: ("GET", "/bench/bare", None, {}),
                        proc.pid,
                    )
                )
                events = rounds_of_events[r]

                def make(
                    i: int, n: int, events: Any = events
                ) -> tuple[str, str, bytes, dict[str, str]]:
                    body, headers = events[(n * clients + i) % len(events)]
                    return "POST", "/webhooks/wordpress", body, headers

                hooks.append(load(port, seconds, clients, make, proc.pid))
    best_bare = max(bare, key=lambda x: x["per_s"])
    best_hook = max(hooks, key=lambda x: x["per_s"])
    return {
        "clients": clients,
        "server_threads": THREADS,
        "seconds": seconds,
        "bare": best_bare,
        "webhook": best_hook,
        "ratio": round(best_hook["per_s"] / best_bare["per_s"], 3),
        # Server CPU per bare request ÷ per webhook, each the least of its rounds.
        "cpu_ratio": round(
            min(r["server_cpu_us"] for r in bare) / min(r["server_cpu_us"] for r in hooks), 3
        ),
        "rounds": {"bare": bare, "webhook": hooks},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, THREADS)
        return
    result = measure(args.tree.resolve(), args.seconds, args.rounds, args.clients)
    if args.json:
        print(json.dumps(result))
        return
    print("| route | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU µs/request |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("bare", "webhook"):
        r = result[name]
        print(
            f"| {name} | {r['per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
            f"| {r['max_ms']} | {r['errors']} | {r['server_cpu_us']} |"
        )
    print(f"ratio webhook / bare: {result['ratio']} (server CPU: {result['cpu_ratio']})")


if __name__ == "__main__":
    main()
