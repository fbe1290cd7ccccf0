"""Imports point inward: bridge/domain uses nothing but the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "bridge" / "domain"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert len(files) >= 10
    offenders = {}
    for path in files:
        outside = {
            name
            for name in imported_modules(path)
            if not name.startswith("bridge.domain")
            and name.split(".")[0] not in sys.stdlib_module_names
        }
        if outside:
            offenders[path.name] = sorted(outside)
    assert offenders == {}


def test_the_checker_would_notice_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import yaml\nfrom bridge.services import scenario\nfrom fractions import Fraction\n"
    )
    names = imported_modules(bad)
    assert {"yaml", "bridge.services"} <= names


BRIDGE = DOMAIN.parent


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def _offenders(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in files:
        bad = sorted(
            name
            for name in imported_modules(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        if bad:
            found[path.name if BRIDGE not in path.parents else str(path.relative_to(BRIDGE))] = bad
    return found


def test_services_import_no_framework_storage_queue_http_or_outer_layer() -> None:
    files = _modules(BRIDGE / "services")
    assert len(files) >= 10
    forbidden = ("sqlalchemy", "flask", "huey", "requests", "bridge.adapters", "bridge.api")
    assert _offenders(files, forbidden) == {}


def test_the_api_and_the_config_import_no_adapter() -> None:
    files = [*_modules(BRIDGE / "api"), BRIDGE / "config.py"]
    assert _offenders(files, ("bridge.adapters",)) == {}


def test_the_cli_reads_through_services_never_rows() -> None:
    cli = BRIDGE / "cli.py"
    assert _offenders([cli], ("bridge.adapters.storage.models", "sqlalchemy")) == {}


def test_the_contract_imports_only_the_standard_library_the_domain_and_standardwebhooks() -> None:
    outside = {
        name
        for name in imported_modules(BRIDGE / "contract.py")
        if not name.startswith(("bridge.domain", "bridge.contract", "standardwebhooks"))
        and name.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside == set()


def test_no_module_but_proration_and_the_migrations_is_over_about_450_lines() -> None:
    long = {
        str(p.relative_to(BRIDGE)): n
        for p in _modules(BRIDGE)
        if p.name != "proration.py" and (n := len(p.read_text().splitlines())) > 460
    }
    assert long == {}


def test_the_guard_would_notice_a_service_importing_sqlalchemy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy import select\nfrom bridge.adapters.storage import x\n")
    assert _offenders([bad], ("sqlalchemy", "bridge.adapters")) == {
        "bad.py": ["bridge.adapters.storage", "sqlalchemy"]
    }
