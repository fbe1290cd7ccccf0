"""The policy for real parts (a database server, WordPress, a browser) in tests.

A test that needs a part calls `require_part(name, ok, why)`. Outside CI a missing part skips
the test, and the reason shows in pytest's `-ra` summary. In CI (`CI=true`) a missing part is a
failure: CI must prove the real thing, never pass by skipping it.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
from pathlib import Path

import pytest

INSTALL_HINT = "install the Debian packages with `make deps` (as root)"


def in_ci() -> bool:
    """Whether this run is CI (environment variable CI=true)."""
    return os.environ.get("CI", "").lower() == "true"


def require_part(name: str, ok: bool, why: str) -> None:
    """Go on if ok; otherwise fail the test in CI, skip it elsewhere, saying why."""
    if ok:
        return
    message = f"{name} unavailable: {why}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing part is a failure)", pytrace=False)
    pytest.skip(message)


def missing_commands(*commands: str) -> list[str]:
    """The commands, of those named, that are neither on PATH nor an existing absolute path."""
    missing = []
    for command in commands:
        if os.path.isabs(command):
            if not os.access(command, os.X_OK):
                missing.append(command)
        elif shutil.which(command) is None:
            missing.append(command)
    return missing


CHROMIUM = Path("/usr/bin/chromium")


def chromium_available() -> bool:
    """Debian's Chromium is installed and the playwright package imports (never `playwright install`)."""
    return CHROMIUM.exists() and _playwright_imports()


def chromium_missing_reason() -> str:
    """Why chromium_available() is false, for require_part."""
    reasons = []
    if not CHROMIUM.exists():
        reasons.append(f"{CHROMIUM} is missing (Debian package chromium; {INSTALL_HINT})")
    if not _playwright_imports():
        reasons.append("the playwright package does not import (pip install -e '.[test]')")
    return "; ".join(reasons) or "available"


@functools.cache
def _playwright_imports() -> bool:
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        return False
    return True
