"""CPU of one signed webhook through the WSGI app, without a server or a client: for profilers.

Run: `.venv/bin/python bench/ingest_cpu.py [--events N] [--bare] [--profile FILE]`. The bridge is
built in-process from BRIDGE_* variables on SQLite in a temporary folder (SQLite queue, no
worker), 50 sites are created, then N signed `usage.reported` events (signed beforehand) are
passed to the WSGI app one after the other in this thread; `--bare` sends N requests to a bare
route instead. Prints µs per request. Under `valgrind --tool=callgrind` run it twice with two
values of N: the difference of the instruction counts over the difference of N is the
instructions per request, whatever the machine's load.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab

SITES = 50


def environ_of(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path=path, method=method, data=body, headers=headers).get_environ()


def run(events: int, bare: bool, profile: str | None) -> float:
    from flask import Response

    from bridge import create_app

    app = create_app()
    app.add_url_rule("/bench/bare", "bench_bare", lambda: Response(status=204))
    client = app.test_client()
    for site_id in range(2, SITES + 2):
        body, headers = lab.site_created(site_id)
        assert client.post("/webhooks/wordpress", data=body, headers=headers).status_code == 204
    requests = []
    for n in range(events):
        if bare:
            requests.append(environ_of("GET", "/bench/bare", b"", {}))
            continue
        body, headers = lab.signed(
            "usage.reported",
            {"site_id": 2 + n % SITES, "usage": {"disk_mb": n % 500, "posts": {"post": n % 40}}},
            f"msg_cpu_{n}",
        )
        requests.append(environ_of("POST", "/webhooks/wordpress", body, headers))
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    for environ in requests:
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].getvalue())
        for _ in app(environ, start_response):
            pass
    took = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    assert all(s.startswith("204") for s in statuses), set(statuses)
    app.extensions["bridge"].runtime.close()
    return took / max(events, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--profile", default=None, help="write cProfile stats to this file")
    parser.add_argument("--tree", type=Path, default=lab.ROOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-cpu-") as work:
        env = lab.environment(Path(work), tree=args.tree.resolve())
        lab.migrate(env)
        os.environ.update(env)
        sys.path.insert(0, str(args.tree.resolve()))
        us = run(args.events, args.bare, args.profile)
    print(f"{'bare' if args.bare else 'webhook'}: {us:.1f} µs per request ({args.events})")


if __name__ == "__main__":
    main()
