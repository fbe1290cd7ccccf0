"""Reading catalog YAML files strictly: duplicate keys are errors, and every error names the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bridge.domain.catalog import Catalog, CatalogInvalid, Policy, parse_catalog, parse_policy
from bridge.domain.tax import Tax, parse_tax
from bridge.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last one)."""


def _construct_mapping(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key '{key}'",
                key_node.start_mark,
            )
        seen[key] = key_node
    return dict(loader.construct_mapping(node, deep=deep))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; syntax errors and duplicate keys raise ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror})") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def catalog_from(path: Path, section: Any) -> Catalog:
    """Parse a catalog section read from `path`; errors name file, product and field."""
    try:
        return parse_catalog(section)
    except CatalogInvalid as exc:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in exc.problems)) from exc


def policy_from(path: Path, section: Any, base: Policy | None = None) -> Policy:
    try:
        return parse_policy(section, base)
    except CatalogInvalid as exc:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in exc.problems)) from exc


def tax_from(path: Path, section: Any) -> Tax | None:
    """The `tax:` section read from `path` (None when absent); errors name the file and field."""
    try:
        return parse_tax(section)
    except CatalogInvalid as exc:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in exc.problems)) from exc


def load_catalog_sections(path: Path) -> tuple[Catalog, Policy | None, Tax | None]:
    """A YAML file with a `catalog:` section and maybe `policy:` and `tax:` sections."""
    data = load_yaml(path)
    if not isinstance(data, dict) or "catalog" not in data:
        raise ConfigError(f"{path}: expected a 'catalog:' section")
    catalog = catalog_from(path, data["catalog"])
    policy = policy_from(path, data["policy"]) if data.get("policy") is not None else None
    return catalog, policy, tax_from(path, data.get("tax"))


def load_catalog_file(path: Path) -> tuple[Catalog, Policy | None]:
    """A YAML file with a `catalog:` section and maybe a `policy:` section."""
    catalog, policy, _tax = load_catalog_sections(path)
    return catalog, policy
