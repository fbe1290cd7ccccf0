"""`make demo` without the Debian packages: it names what is missing and says `make deps`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_without_php_or_mariadb_names_them_and_make_deps(tmp_path: Path) -> None:
    # An empty PATH: no php, no mariadb tools; the script's own python is an absolute path.
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/demo.py")],
        env={"PATH": str(tmp_path), "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "php (php-cli)" in result.stderr
    assert "mariadb-install-db (mariadb-server)" in result.stderr
    assert "make deps" in result.stderr
    assert "Starting" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no lab was made
