"""Browser journeys: Debian's Chromium against the real WordPress network and the real bridge.

Fixtures:
- `bridge_server` (module): `bridge serve` as a subprocess on `bridge_port`, with a temporary
  SQLite database and queue, the session's secret, BRIDGE_PUBLIC_URL and the network's URL; it
  stops when the journeys module is done, so later tests can use the port (a
  directory without __init__.py has no package scope: it would live for the whole session).
  It runs this checkout's code (`python -m bridge`, PYTHONPATH set to it), never whatever
  the `bridge` script of the virtualenv points to. A module that sets `BRIDGE_CATALOG` (a YAML
  file with a `catalog:` section) serves that catalog instead of config.yaml's; every other
  setting stays config.yaml's.
- `browser` (module): Chromium launched by Playwright from /usr/bin/chromium.
- `journey` (function): a fresh subsite whose owner's membership the bridge knows, a browser
  page, and `shot(name)` saving screenshots to <artifacts>/e2e/<test name>/NN-name.png.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.journey import WAIT_S, BridgeServer, Journey, new_site
from tests.support.processes import start_server, stop_server, wait_until_listening
from tests.wordpress.harness import WordPressNetwork

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _config_with_catalog(catalog_file: Path | None, folder: Path) -> Path:
    """config.yaml, or a copy of it in `folder` whose `catalog:` is `catalog_file`'s."""
    if catalog_file is None:
        return ROOT / "config.yaml"
    settings = yaml.safe_load((ROOT / "config.yaml").read_text())
    settings["catalog"] = yaml.safe_load(catalog_file.read_text())["catalog"]
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def bridge_server(
    request: pytest.FixtureRequest,
    wp_network: WordPressNetwork,
    bridge_port: int,
    bridge_url: str,
    bridge_secret: str,
    artifacts_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BridgeServer]:
    state = tmp_path_factory.mktemp("bridge-state")
    log_path = artifacts_dir / "e2e" / f"bridge-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    admin_token = secrets.token_urlsafe(24)
    config = _config_with_catalog(getattr(request.module, "BRIDGE_CATALOG", None), state)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "BRIDGE_CONFIG": str(config),
        "BRIDGE_WEBHOOK_SECRET": bridge_secret,
        "BRIDGE_ADMIN_TOKEN": admin_token,
        "BRIDGE_PUBLIC_URL": bridge_url,
        "BRIDGE_DATABASE_URL": f"sqlite:///{state / 'bridge.db'}",
        "BRIDGE_QUEUE_BACKEND": "sqlite",
        "BRIDGE_QUEUE_PATH": str(state / "queue.db"),
        "BRIDGE_WORDPRESS_URL": wp_network.url,
        "BRIDGE_GATEWAY": "test",
    }
    command = [sys.executable, "-m", "bridge", "serve"]
    proc = start_server(
        [*command, "--host", "127.0.0.1", "--port", str(bridge_port)],
        log_path=log_path,
        env=env,
        cwd=ROOT,
    )
    try:
        wait_until_listening(
            proc, "127.0.0.1", bridge_port, timeout_s=WAIT_S, log_path=log_path, what="bridge serve"
        )
        with requests.get(f"{bridge_url}/healthz", timeout=10) as health:
            assert health.status_code == 200, health.text
        yield BridgeServer(bridge_url, admin_token, log_path)
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def journey(
    request: pytest.FixtureRequest,
    wp_network: WordPressNetwork,
    bridge_server: BridgeServer,
    browser: Any,
    artifacts_dir: Path,
) -> Iterator[Journey]:
    marker = request.node.get_closest_marker("owner_locale")
    locale = str(marker.args[0]) if marker else "en_US"
    name = request.node.name.removeprefix("test_")
    site = new_site(wp_network, bridge_server, name[:20], locale)
    shots = artifacts_dir / "e2e" / name
    shots.mkdir(parents=True, exist_ok=True)
    javascript = request.node.get_closest_marker("javascript")
    context = browser.new_context(
        java_script_enabled=bool(javascript.args[0]) if javascript else True,
        viewport={"width": 1280, "height": 900},
        locale=locale.replace("_", "-"),
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    trip = Journey(wp_network, bridge_server, site, page, shots)
    try:
        yield trip
    finally:
        elapsed = time.perf_counter() - trip.started
        lines = [f"journey {elapsed:.2f} s", *trip.notes]
        (shots / "timings.txt").write_text("\n".join(lines) + "\n")
        context.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "owner_locale(locale): the journey owner's WordPress locale")
    config.addinivalue_line(
        "markers", "javascript(enabled): run the journey's browser with or without JS"
    )
