"""A few SIGKILLs of `bridge serve` pushing to the real WordPress network lose nothing.

The crash test (test_crash_anywhere.py) does hundreds of kills against a loopback receiver; this
one does a few against the real plugin: owners' sites of the harness's multisite network, a
client committing plan changes and running the roll-over, and `bridge serve` (with its
in-process worker) killed at random moments and started again. Then every site holds, in
WordPress itself, the limits document its membership gives it, and the audits pass.
BRIDGE_FAULTS_WP_KILLS sets the number of kills (default 5); the seed is printed and
BRIDGE_FAULTS_SEED replays it.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.adapters.storage import make_engine
from bridge.bootstrap import bootstrap
from bridge.config import load_settings
from tests.e2e.journey import BridgeServer, new_site
from tests.integration.faults.cluster import ROOT, Member
from tests.support import receipt_audits  # noqa: F401  (registers the receipts' invariants)
from tests.support.audits import audit, expected_limits
from tests.support.bridge_app import RecordingPusher
from tests.wordpress.harness import WordPressNetwork

pytestmark = [pytest.mark.wordpress, pytest.mark.slow]

SELECTIONS = [
    {"plan": "premium"},
    {"plan": "free"},
    {"plan": "premium", "addons": {"extra-disk": 1}},
]


def test_kills_of_the_bridge_pushing_to_real_wordpress_lose_nothing(
    wp_network: WordPressNetwork,
    bridge_port: int,
    bridge_url: str,
    bridge_secret: str,
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("BRIDGE_FAULTS_SEED") or secrets.randbelow(2**31))
    kills = int(os.environ.get("BRIDGE_FAULTS_WP_KILLS") or 5)
    print(f"\nWordPress kills: seed {seed} (replay with BRIDGE_FAULTS_SEED={seed})")
    rng = random.Random(seed)
    admin = secrets.token_urlsafe(32)
    database = f"sqlite:///{tmp_path / 'bridge.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_CONFIG": str(ROOT / "config.yaml"),
        "BRIDGE_WEBHOOK_SECRET": bridge_secret,
        "BRIDGE_ADMIN_TOKEN": admin,
        "BRIDGE_PUBLIC_URL": bridge_url,
        "BRIDGE_DATABASE_URL": database,
        "BRIDGE_QUEUE_BACKEND": "sqlite",
        "BRIDGE_QUEUE_PATH": str(tmp_path / "queue.db"),
        "BRIDGE_WORDPRESS_URL": wp_network.url,
        "BRIDGE_PUSH_BASE_DELAY_S": "0.2",
        "BRIDGE_PUSH_MAX_DELAY_S": "1",
        "BRIDGE_JOBS_RECONCILE_EVERY_S": "2",
        "BRIDGE_JOBS_ROLL_OVER_EVERY_S": "2",
    }
    serve = Member("serve", ["serve", "--workers", "2"], env, tmp_path, bridge_port)
    serve.start()
    bridge = BridgeServer(bridge_url, admin, tmp_path / "serve-1.log", bridge_secret, env)
    runtime = bootstrap(
        load_settings(environ=env), queue_backend="immediate", pusher=RecordingPusher()
    )
    engine = make_engine(database)
    headers = {"Authorization": f"Bearer {admin}"}
    try:
        wait_ready(serve)
        sites = [new_site(wp_network, bridge, f"kill-{n}", "en_US") for n in range(3)]
        lost = 0
        for _ in range(kills):
            stop = threading.Event()

            def client(stop: threading.Event = stop) -> None:
                nonlocal lost
                local = random.Random(rng.random())
                while not stop.is_set():
                    site = local.choice(sites)
                    try:
                        quote = requests.post(
                            f"{bridge_url}/api/v1/sites/{site.blog_id}/quotes",
                            json=local.choice(SELECTIONS),
                            headers=headers,
                            timeout=30,
                        )
                        if quote.status_code == 201:
                            requests.post(
                                f"{bridge_url}/api/v1/quotes/{quote.json()['id']}/commit",
                                headers=headers,
                                timeout=30,
                            )
                    except requests.RequestException:
                        lost += 1
                        time.sleep(0.05)

            thread = threading.Thread(target=client, daemon=True)
            thread.start()
            time.sleep(rng.uniform(0.3, 2.0))
            serve.kill()
            serve.start()
            stop.set()
            thread.join(timeout=60)
            wait_ready(serve)

        def received() -> dict[int, Any]:
            out = {}
            for site in sites:
                stored = wp_network.eval_php(
                    "echo wp_json_encode( get_option( 'plan_bridge_limits' ) );", site.url
                )
                out[site.blog_id] = json.loads(stored) or {}
            return out

        deadline = time.monotonic() + 60
        while True:
            seen = received()
            # The network is shared by the suite: its plugin may still deliver site.created
            # events of earlier tests' sites (since deleted) to this bridge on the same port, so
            # the sites that must converge are this test's own.
            ours = {site.blog_id for site in sites}
            wanted = {k: v for k, v in expected_limits(runtime, engine).items() if k in ours}
            failures = audit(engine, received=seen, expected_limits=wanted, sites=ours)
            if not failures or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert failures == {}, json.dumps(failures, indent=1) + "\n" + serve.tail()
        print(f"WordPress kills: {kills} kills of bridge serve, {lost} requests lost, converged")
    finally:
        serve.stop()
        runtime.close()
        engine.dispose()


def wait_ready(member: Member, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not member.ready():
        assert time.monotonic() < deadline, member.tail()
        time.sleep(0.1)
