"""deploy/: the systemd units pass `systemd-analyze verify`, haproxy.cfg passes `haproxy -c`.

The real tools from Debian (packages systemd and haproxy, in the Makefile's DEBS). The units
name /opt/plan-bridge/.venv/bin/bridge, which verify checks is executable: the test verifies
copies that point at this checkout's `bridge` instead, nothing else changed. Any warning
verify prints counts as a failure.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.parts import INSTALL_HINT, missing_commands, require_part

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BRIDGE = Path(sys.executable).with_name("bridge")
INSTALLED = "/opt/plan-bridge/.venv/bin/bridge"
UNITS = {"plan-bridge-serve@.service": "8001", "plan-bridge-worker@.service": "1"}


def need(command: str, package: str) -> None:
    missing = missing_commands(command)
    require_part(
        command, not missing, f"{command} is missing (Debian package {package}; {INSTALL_HINT})"
    )


def directives(unit: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in unit.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_passes_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    need("systemd-analyze", "systemd")
    source = DEPLOY / name
    assert INSTALLED in source.read_text()
    (tmp_path / name).write_text(source.read_text().replace(INSTALLED, str(BRIDGE)))
    instance = tmp_path / name.replace("@.", f"@{UNITS[name]}.")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(instance)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")

    unit = directives(source)
    assert unit["EnvironmentFile"] == "/etc/plan-bridge/env"
    assert unit["Restart"] == "on-failure"
    assert unit["KillSignal"] == "SIGTERM"
    stop_s = int(unit["TimeoutStopSec"])
    if "serve" in name:
        drain = re.search(r"--drain-timeout (\d+)", unit["ExecStart"])
        assert drain is not None and int(drain.group(1)) < stop_s
        assert "--no-worker" in unit["ExecStart"]
    else:
        assert stop_s > 2 * 10 + 1  # Huey's graceful stop: two WordPress timeouts and a second


def test_haproxy_config_passes_haproxy_check() -> None:
    need("haproxy", "haproxy")
    config = DEPLOY / "haproxy.cfg"
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = config.read_text()
    assert "http-check send meth GET uri /healthz" in text
    assert "req.body_size gt 262144" in text  # 256 KiB, the app's MAX_CONTENT_LENGTH


def test_haproxy_body_cap_matches_the_app() -> None:
    from bridge.app import MAX_CONTENT_LENGTH

    assert MAX_CONTENT_LENGTH == 262144
