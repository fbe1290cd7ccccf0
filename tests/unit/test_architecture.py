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
