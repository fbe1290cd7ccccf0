"""Imports point inward, and the error tree has one home; checked on the source's syntax trees.

- bridge/domain uses nothing but the standard library and itself;
- bridge/contract.py (the wire contract) uses only the standard library, bridge.domain,
  standardwebhooks and bridge.errors, which itself uses only the standard library and
  bridge.domain;
- bridge/api/**, bridge/config.py and bridge/config_sections.py import no bridge.adapters module;
- no exception class is defined in bridge/ outside bridge/errors.py and bridge/domain/errors.py.
Each rule has a test that feeds it a broken file, so a checker that quietly passes is noticed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "bridge"
DOMAIN = BRIDGE / "domain"
ERROR_HOMES = {BRIDGE / "errors.py", DOMAIN / "errors.py"}


def _package_of(path: Path) -> str:
    """The dotted package a file's relative imports start from (bridge/api/v1.py → bridge.api)."""
    try:
        parts = path.resolve().relative_to(ROOT).with_suffix("").parts
    except ValueError:
        return ""
    return ".".join(parts[:-1])


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it, relative imports resolved.

    `from a.b import c` counts as `a.b` and `a.b.c` (c may be a module: `from bridge import
    adapters`).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _outside(names: Iterable[str], allowed: tuple[str, ...]) -> set[str]:
    """Names that are neither the standard library nor under one of the `allowed` prefixes."""
    return {
        name
        for name in names
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)
    }


def domain_offenders(files: Iterable[Path]) -> dict[str, list[str]]:
    offenders = {}
    for path in files:
        outside = _outside(imported_modules(path), ("bridge.domain",))
        if outside:
            offenders[path.name] = sorted(outside)
    return offenders


CONTRACT_ALLOWED = ("bridge.domain", "bridge.contract", "bridge.errors", "standardwebhooks")


def contract_offenders(contract: Path, errors: Path) -> dict[str, list[str]]:
    offenders = {}
    outside = _outside(imported_modules(contract), CONTRACT_ALLOWED)
    if outside:
        offenders[contract.name] = sorted(outside)
    # bridge.errors is allowed only while it stays as pure as the contract.
    outside = _outside(imported_modules(errors), ("bridge.domain", "bridge.errors"))
    if outside:
        offenders[errors.name] = sorted(outside)
    return offenders


def adapter_importers(files: Iterable[Path]) -> dict[str, list[str]]:
    offenders = {}
    for path in files:
        adapters = {
            name
            for name in imported_modules(path)
            if name == "bridge.adapters" or name.startswith("bridge.adapters.")
        }
        if adapters:
            offenders[str(path)] = sorted(adapters)
    return offenders


def exception_classes(path: Path) -> list[str]:
    """Classes in `path` deriving (directly or through classes of the same file) from an
    exception: a base named Exception, BaseException, *Error, *Exception, *Warning, or a base
    that is itself an exception class of the bridge."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = _bridge_exception_names()
    found: list[str] = []
    local: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for base in node.bases:
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if (
                name in ("Exception", "BaseException")
                or name.endswith(("Error", "Exception", "Warning"))
                or name in ours
                or name in local
            ):
                found.append(node.name)
                local.add(node.name)
                break
    return found


def _bridge_exception_names() -> set[str]:
    import bridge.domain.errors
    import bridge.errors

    names: set[str] = set()
    for module in (bridge.errors, bridge.domain.errors):
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseException):
                names.add(name)
    return names


def exception_offenders(files: Iterable[Path]) -> dict[str, list[str]]:
    offenders = {}
    for path in files:
        if path.resolve() in ERROR_HOMES:
            continue
        classes = exception_classes(path)
        if classes:
            offenders[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)] = classes
    return offenders


# -- the rules, on the real source ------------------------------------------------------------


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert len(files) >= 10
    assert domain_offenders(files) == {}


def test_the_contract_imports_only_the_standard_library_the_domain_and_standardwebhooks() -> None:
    assert contract_offenders(BRIDGE / "contract.py", BRIDGE / "errors.py") == {}


def test_the_api_and_the_config_import_no_adapter() -> None:
    files = [
        *sorted((BRIDGE / "api").rglob("*.py")),
        BRIDGE / "config.py",
        BRIDGE / "config_sections.py",
    ]
    assert len(files) >= 10
    assert adapter_importers(files) == {}


def test_no_exception_class_is_defined_outside_the_two_error_modules() -> None:
    files = sorted(BRIDGE.rglob("*.py"))
    assert len(files) >= 40
    offenders = exception_offenders(files)
    assert offenders == {}


# -- each checker notices a broken file -------------------------------------------------------


def test_the_domain_checker_would_notice_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import yaml\nfrom bridge.services import scenario\nfrom fractions import Fraction\n"
    )
    assert domain_offenders([bad]) == {
        "bad.py": ["bridge.services", "bridge.services.scenario", "yaml"]
    }


def test_the_contract_checker_would_notice_flask_or_an_adapter(tmp_path: Path) -> None:
    contract, errors = tmp_path / "contract.py", tmp_path / "errors.py"
    contract.write_text(
        "import hmac\nfrom standardwebhooks import Webhook\nfrom bridge.domain import documents\n"
        "from bridge.errors import InvalidToken\n"
        "def f():\n    from bridge.adapters import queue\n    import flask\n"
    )
    errors.write_text("from bridge.domain.errors import BridgeError\nimport sqlalchemy\n")
    assert contract_offenders(contract, errors) == {
        "contract.py": ["bridge.adapters", "bridge.adapters.queue", "flask"],
        "errors.py": ["sqlalchemy"],
    }


def test_the_adapter_checker_would_notice_every_way_of_importing_one(tmp_path: Path) -> None:
    files = []
    for name, source in {
        "absolute.py": "import bridge.adapters.queue\n",
        "from_package.py": "from bridge import adapters\n",
        "lazy.py": "def f():\n    from bridge.adapters.storage import migrate\n",
        "fine.py": "from bridge.contract import derive_key\nfrom bridge import errors\n",
    }.items():
        (tmp_path / name).write_text(source)
        files.append(tmp_path / name)
    assert sorted(Path(p).name for p in adapter_importers(files)) == [
        "absolute.py",
        "from_package.py",
        "lazy.py",
    ]


def test_relative_imports_are_resolved_against_the_file_s_package() -> None:
    names = imported_modules(BRIDGE / "api" / "checkout" / "__init__.py")
    assert any(name.startswith("bridge.api.checkout") for name in names)
    source = BRIDGE / "api" / "checkout" / "probe.py"
    try:
        source.write_text("from ...adapters import queue\nfrom . import session\n")
        assert {"bridge.adapters.queue", "bridge.api.checkout.session"} <= imported_modules(source)
        assert adapter_importers([source]) != {}
    finally:
        source.unlink()


def test_the_exception_checker_would_notice_a_stray_error_class(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import builtins\n"
        "class Oops(ValueError): ...\n"
        "class Worse(Oops): ...\n"
        "class Ours(Conflict): ...\n"
        "class Plain(Exception): ...\n"
        "class Dotted(builtins.RuntimeError): ...\n"
        "class NotAnError(dict): ...\n"
    )
    assert exception_offenders([bad]) == {str(bad): ["Oops", "Worse", "Ours", "Plain", "Dotted"]}


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


def test_the_cli_reads_through_services_never_rows() -> None:
    cli = BRIDGE / "cli.py"
    assert _offenders([cli], ("bridge.adapters.storage.models", "sqlalchemy")) == {}


def test_no_module_but_the_migrations_is_over_about_450_lines() -> None:
    long = {
        str(p.relative_to(BRIDGE)): n
        for p in _modules(BRIDGE)
        if (n := len(p.read_text().splitlines())) > 460
    }
    assert long == {}


def test_the_guard_would_notice_a_service_importing_sqlalchemy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy import select\nfrom bridge.adapters.storage import x\n")
    found = _offenders([bad], ("sqlalchemy", "bridge.adapters"))
    assert set(found) == {"bad.py"}
    assert {"bridge.adapters.storage", "sqlalchemy"} <= set(found["bad.py"])


def test_the_ultimate_multisite_mapping_is_pure() -> None:
    """Rows in, catalog data + memberships + report out: no database, file or network I/O."""
    files = _modules(BRIDGE / "ultimate_multisite")
    assert len(files) >= 8
    allowed = ("bridge.domain", "bridge.ultimate_multisite", "phpserialize")
    offenders = {p.name: sorted(_outside(imported_modules(p), allowed)) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
    io_modules = ("os", "io", "socket", "subprocess", "pathlib", "zoneinfo", "urllib", "http")
    assert _offenders(files, io_modules) == {}
