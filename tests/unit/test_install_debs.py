"""scripts/install-debs.sh, run with stub apt-get and dpkg-query: the machine is never touched.

The script takes the policy-rc.d guard's path (BRIDGE_POLICY_RC_D) and the root check
(BRIDGE_ASSUME_ROOT) from the environment, so these tests can take the guard's path without root
and without writing to /usr/sbin.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-debs.sh"

STUB_DPKG_QUERY = """#!/bin/sh
# Every package is missing.
exit 1
"""

STUB_APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$APT_LOG"
# The guard must be in place while packages install.
if [ -e "$BRIDGE_POLICY_RC_D" ]; then echo "guard present" >> "$APT_LOG"; fi
exit 0
"""


def _stubs(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dpkg-query", STUB_DPKG_QUERY), ("apt-get", STUB_APT_GET)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "APT_LOG": str(tmp_path / "apt.log"),
        "BRIDGE_POLICY_RC_D": str(tmp_path / "policy-rc.d"),
        "BRIDGE_ASSUME_ROOT": "1",
        "CI": "",
    }


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "wordpress", "php-cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_installs_and_exits_zero_when_a_guard_already_exists(tmp_path: Path) -> None:
    env = _stubs(tmp_path)
    guard = Path(env["BRIDGE_POLICY_RC_D"])
    guard.write_text("#!/bin/sh\nexit 101\n")
    result = _run(env)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "apt.log").read_text()
    assert "install -y -q --no-install-recommends wordpress php-cli" in log
    assert guard.read_text() == "#!/bin/sh\nexit 101\n"  # someone else's guard is left alone


def test_writes_a_temporary_guard_and_removes_it_when_none_exists(tmp_path: Path) -> None:
    env = _stubs(tmp_path)
    result = _run(env)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "apt.log").read_text()
    assert "guard present" in log
    assert not Path(env["BRIDGE_POLICY_RC_D"]).exists()


@pytest.mark.parametrize("ci", ["", "true"])
def test_not_root_names_the_packages(tmp_path: Path, ci: str) -> None:
    env = {**_stubs(tmp_path), "BRIDGE_ASSUME_ROOT": "0", "CI": ci}
    result = _run(env)
    assert "Missing Debian packages: wordpress php-cli" in result.stderr
    assert result.returncode == (1 if ci else 0)
    assert not (tmp_path / "apt.log").exists()
