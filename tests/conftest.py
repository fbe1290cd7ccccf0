"""Top-level fixtures: real parts (WordPress, PostgreSQL, Redis) and hypothesis profiles.

Importing this file starts nothing; each fixture starts its part when a test first asks for it.
A missing part goes through tests.support.parts.require_part: a skip with the reason outside CI,
a failure in CI (CI=true).

Session fixtures:
- `bridge_port`, `bridge_url`, `bridge_secret`: where the bridge under test must listen, and the
  `whsec_...` secret it must use; the WordPress network knows both from the start
  (PLAN_BRIDGE_URL, PLAN_BRIDGE_SECRET in wp-config.php), before any bridge runs.
- `wp_network`: a tests.wordpress.harness.WordPressNetwork, started. Set
  PLAN_BRIDGE_HARNESS_SKIP_PLUGIN=1 to bring it up without wp-plugin-stub (harness work only).
- `postgres_url`, `redis_url`: a database of this session's own.
- `artifacts_dir`: artifacts/<run>/ at the repo root (gitignored); WordPress's logs land in its
  wordpress/ folder at teardown.
Function fixtures:
- `wp_site`: a fresh subsite of `wp_network` (a tests.wordpress.harness.Site) for each test.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import postgres as postgres_support
from tests.support import redis as redis_support
from tests.support.parts import chromium_available, chromium_missing_reason, require_part
from tests.support.ports import free_port
from tests.wordpress.harness import (
    Site,
    WordPressNetwork,
    fast_lab_parent,
    missing_parts,
    new_webhook_secret,
    remove_stale_labs,
)

ROOT = Path(__file__).resolve().parent.parent

# pytester runs small pytest sessions, e.g. to check require_part's CI rule end to end.
pytest_plugins = ("pytester",)

settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


@functools.cache
def _wordpress_missing() -> str | None:
    return missing_parts()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser"):
        require_part("Chromium", chromium_available(), chromium_missing_reason())
    if item.get_closest_marker("wordpress"):
        problem = _wordpress_missing()
        require_part("WordPress multisite", problem is None, problem or "")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """artifacts/<date-time>-<pid>/ at the repo root, for this run's logs and screenshots."""
    path = ROOT / "artifacts" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def bridge_port() -> int:
    """The loopback port the bridge under test must listen on (chosen before WordPress starts)."""
    return free_port()


@pytest.fixture(scope="session")
def bridge_url(bridge_port: int) -> str:
    """PLAN_BRIDGE_URL as WordPress sees it: http://127.0.0.1:{bridge_port}, no trailing slash."""
    return f"http://127.0.0.1:{bridge_port}"


@pytest.fixture(scope="session")
def bridge_secret() -> str:
    """This session's webhook secret (whsec_ + base64 of 32 random bytes)."""
    return new_webhook_secret()


@pytest.fixture(scope="session")
def wp_network(
    bridge_url: str, bridge_secret: str, artifacts_dir: Path
) -> Iterator[WordPressNetwork]:
    """A started WordPress multisite network with the plan-bridge plugin network-active."""
    problem = _wordpress_missing()
    require_part("WordPress multisite", problem is None, problem or "")
    parent = fast_lab_parent()
    remove_stale_labs(parent or Path(tempfile.gettempdir()), "plan-bridge-wp-")
    lab = Path(tempfile.mkdtemp(prefix="plan-bridge-wp-", dir=parent))
    network = WordPressNetwork(
        lab,
        web_port=free_port(),
        db_port=free_port(),
        bridge_url=bridge_url,
        secret=bridge_secret,
        plugin_dir=ROOT / "wp-plugin-stub",
        install_plugin=os.environ.get("PLAN_BRIDGE_HARNESS_SKIP_PLUGIN", "") != "1",
    )
    try:
        network.start()
        yield network
    finally:
        network.stop()
        network.copy_logs(artifacts_dir / "wordpress")
        shutil.rmtree(lab, ignore_errors=True)


@pytest.fixture
def wp_site(wp_network: WordPressNetwork, request: pytest.FixtureRequest) -> Site:
    """A new subsite for this test, named after it, with its own owner user."""
    return wp_network.create_site(wp_network.next_slug(request.node.name.removeprefix("test_")))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this session and dropped at its end."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_support.session_database())
        except postgres_support.PostgresUnavailable as exc:
            require_part("PostgreSQL", False, str(exc))
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database (number) only this session uses, flushed at its end."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(redis_support.session_database())
        except redis_support.RedisUnavailable as exc:
            require_part("Redis", False, str(exc))
        yield url
