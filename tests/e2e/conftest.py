"""Browser journeys: Debian's Chromium against the real WordPress network and the real bridge.

Fixtures:
- `bridge_server` (module): `bridge serve` as a subprocess on `bridge_port`, with a temporary
  SQLite database and queue, the session's secret, BRIDGE_PUBLIC_URL and the network's URL; it
  stops when the journeys module is done, so later tests can use the port (a
  directory without __init__.py has no package scope: it would live for the whole session).
  It runs this checkout's code (`python -m bridge`, PYTHONPATH set to it), never whatever
  the `bridge` script of the virtualenv points to. A module that sets `BRIDGE_CATALOG` (a YAML
  file with a `catalog:` section) serves that catalog instead of config.yaml's; every other
  setting stays config.yaml's. A module that sets `BRIDGE_GATEWAY` (e.g. "manual") runs the
  bridge on that payment gateway instead of `test`; with "stripe" the module's bridge talks to
  its own localstripe (`stripe_server`, started on a free loopback port), whose fake Stripe.js
  the checkout loads and which delivers its webhooks to the bridge's /webhooks/stripe;
  one that sets `BRIDGE_TAX` (a `tax:` mapping) or `BRIDGE_SELLER` (a `seller:` mapping) adds
  that section to its config.yaml.
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
from tests.support.localstripe import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    running_localstripe,
)
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
    catalog_file = getattr(request.module, "BRIDGE_CATALOG", None)
    if catalog_file is None:
        # The demo catalog with names in the owners' languages (the owner journeys).
        config = state / "config.yaml"
        config.write_text(_config_with_names())
    else:
        config = _config_with_catalog(catalog_file, state)
    extra = {
        key: getattr(request.module, name)
        for key, name in (("tax", "BRIDGE_TAX"), ("seller", "BRIDGE_SELLER"))
        if getattr(request.module, name, None) is not None
    }
    if extra:
        settings = yaml.safe_load(config.read_text())
        config = state / "config-with-tax.yaml"
        config.write_text(
            yaml.safe_dump({**settings, **extra}, allow_unicode=True, sort_keys=False)
        )
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
        "BRIDGE_GATEWAY": getattr(request.module, "BRIDGE_GATEWAY", "test"),
    }
    if env["BRIDGE_GATEWAY"] == "stripe":
        stripe: LocalStripe = request.getfixturevalue("stripe_server")
        env |= {
            "BRIDGE_STRIPE_API_BASE": stripe.base,
            "BRIDGE_STRIPE_JS_URL": stripe.js_url,
            "BRIDGE_STRIPE_SECRET_KEY": SECRET_KEY,
            "BRIDGE_STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "BRIDGE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        stripe.send_webhooks_to(f"{bridge_url}/webhooks/stripe")
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
        settings_env = {k: v for k, v in env.items() if k.startswith("BRIDGE_")}
        yield BridgeServer(bridge_url, admin_token, log_path, bridge_secret, settings_env)
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def stripe_server(artifacts_dir: Path) -> Iterator[LocalStripe]:
    """localstripe for a module whose bridge runs gateway `stripe` (logs beside the bridge's)."""
    with running_localstripe(artifacts_dir / "e2e") as server:
        yield server


# Names and descriptions in the owners' languages (quote-cli.md, catalog format), added to the
# demo catalog for the journeys; the demo config.yaml itself keeps only the English names.
CATALOG_TEXTS = {
    "free": {"names": {"nb": "Gratis", "ms": "Percuma", "id": "Gratis"}},
    "premium": {
        "description": "Room to grow",
        "descriptions": {"nb": "Plass til å vokse", "ms": "Ruang untuk berkembang"},
    },
    "extra-disk": {"names": {"nb": "Ekstra diskplass", "ms": "Ruang cakera tambahan"}},
    "unlimited-visits": {"names": {"nb": "Ubegrenset antall besøk"}},
    "site-migration": {"names": {"nb": "Flytting av nettsted"}},
}


def _config_with_names() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    for pid, texts in CATALOG_TEXTS.items():
        config["catalog"]["products"][pid].update(texts)
    return str(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


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
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Journey]:
    marker = request.node.get_closest_marker("owner_locale")
    locale = str(marker.args[0]) if marker else "en_US"
    name = request.node.name.removeprefix("test_")
    site = new_site(wp_network, bridge_server, name[:20], locale)
    shots = artifacts_dir / "e2e" / name
    shots.mkdir(parents=True, exist_ok=True)
    javascript = request.node.get_closest_marker("javascript")
    viewport = request.node.get_closest_marker("viewport")
    width = int(viewport.args[0]) if viewport else 1280
    if request.node.get_closest_marker("large_text"):
        context = large_text_context(
            browser, tmp_path_factory.mktemp("chromium-32px"), locale, width
        )
    else:
        context = browser.new_context(
            java_script_enabled=bool(javascript.args[0]) if javascript else True,
            viewport={"width": width, "height": 900 if width > 600 else 740},
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
    config.addinivalue_line("markers", "viewport(width): the journey's screen width in px")
    config.addinivalue_line("markers", "large_text: Chromium's default font size at 32 px")


def large_text_context(browser: Any, browser_dir: Path, locale: str, width: int) -> Any:
    """A Chromium context whose default font size is 32 px (200 % text, as an owner may set it
    in the browser's settings); the caller closes it."""
    import json

    (browser_dir / "Default").mkdir(parents=True, exist_ok=True)
    (browser_dir / "Default" / "Preferences").write_text(
        json.dumps({"webkit": {"webprefs": {"default_font_size": 32}}})
    )
    return browser.browser_type.launch_persistent_context(
        str(browser_dir),
        executable_path="/usr/bin/chromium",
        args=CHROMIUM_ARGS,
        viewport={"width": width, "height": 740},
        locale=locale.replace("_", "-"),
    )
