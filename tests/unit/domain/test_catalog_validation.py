"""Configuration errors stop start-up and name the file, the product and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.catalog_file import load_catalog_file
from bridge.errors import ConfigError

BASE = """
catalog:
  currency: USD
  products:
    basic:
      name: Basic
      kind: plan
      price: "30.00"
      billing: {every: 1, unit: month}
      addons: [extra-disk]
      limits: {posts: {post: 10}}
    extra-disk:
      name: Extra disk
      kind: package
      price: "5.00"
      billing: {every: 1, unit: month}
      limits: {disk_mb: 1024}
"""


def load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_catalog_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_the_base_catalog_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(BASE)
    catalog, policy = load_catalog_file(path)
    assert set(catalog.products) == {"basic", "extra-disk"}
    assert policy is None


@pytest.mark.parametrize(
    ("old", "new", "product", "field", "words"),
    [
        (
            "limits: {posts: {post: 10}}",
            "limits: {posts: {post: 10}, bandwidth: 5}",
            "basic",
            "limits",
            "unknown limit 'bandwidth'",
        ),
        (
            "limits: {posts: {post: 10}}",
            "limits: {posts: {post: -1}}",
            "basic",
            "limits",
            "posts.post",
        ),
        ("limits: {disk_mb: 1024}", "limits: {disk_mb: -5}", "extra-disk", "limits", "disk_mb"),
        (
            "addons: [extra-disk]",
            "addons: [extra-disk, ghost]",
            "basic",
            "addons",
            "'ghost' does not exist",
        ),
        ('price: "30.00"', 'price: "30.001"', "basic", "price", "more decimals"),
        ('price: "30.00"', "price: 30", "basic", "price", "quoted decimal strings"),
        (
            "      billing: {every: 1, unit: month}\n      limits: {disk_mb",
            "      billing: {every: 1, unit: week}\n      limits: {disk_mb",
            "basic",
            "addons",
            "no exact ratio",
        ),
        ("kind: plan", "kind: plan\n      colour: blue", "basic", "colour", "unknown field"),
        ("kind: package", "kind: bundle", "extra-disk", "kind", "plan, package or service"),
    ],
)
def test_config_errors_name_file_product_and_field(tmp_path, old, new, product, field, words):  # type: ignore[no-untyped-def]
    assert old in BASE
    message = load(tmp_path, BASE.replace(old, new, 1))
    assert f"product '{product}', field '{field}'" in message
    assert words in message


def test_a_product_id_written_twice_is_an_error(tmp_path: Path) -> None:
    twice = (
        BASE
        + """    basic:
      name: Basic again
      kind: plan
      price: "1.00"
"""
    )
    message = load(tmp_path, twice)
    assert "duplicate key 'basic'" in message


def test_an_unknown_policy_value_is_named(tmp_path: Path) -> None:
    message = load(tmp_path, BASE + "policy:\n  anchor: sometimes\n")
    assert "policy.anchor" in message
