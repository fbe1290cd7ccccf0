"""`bridge quote SCENARIO.json`: exit codes, one clear error line, JSON Schemas (quote-cli.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
SCHEMAS = {
    name: json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())
    for name in ("scenario", "quote", "error")
}


def bridge_quote(path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("bridge", path=str(Path(sys.executable).parent)) or "bridge"
    # The code of this checkout, also when the console script was installed from another one.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [exe, "quote", str(path)], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_every_example_scenario_matches_the_scenario_schema() -> None:
    assert len(EXAMPLES) >= 10
    for path in EXAMPLES:
        jsonschema.validate(json.loads(path.read_text()), SCHEMAS["scenario"])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_quote_cli_prints_a_quote_that_matches_the_schema(path: Path) -> None:
    result = bridge_quote(path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    jsonschema.validate(json.loads(result.stdout), SCHEMAS["quote"])


def test_the_quote_cli_example_gives_the_documented_amounts() -> None:
    quote = json.loads(bridge_quote(ROOT / "examples" / "quote-cli-example.json").stdout)
    assert (quote["kind"], quote["timing"], quote["credit"], quote["due_now"]) == (
        "upgrade",
        "immediate",
        "23.33",
        "41.67",
    )
    assert [line["amount"] for line in quote["lines"]] == ["60.00", "5.00", "-23.33"]
    assert quote["next_billing"] == {
        "date": "2026-05-11T00:00:00Z",
        "amount": "65.00",
        "covered_by_balance": "0.00",
    }


def scenario(tmp_path: Path, **changes: object) -> Path:
    data = json.loads((ROOT / "examples" / "01-upgrade-premium.json").read_text())
    data["catalog"] = str(ROOT / "examples" / "catalog-worked-examples.yaml")
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"at": None}, "at: is required"),
        ({"at": "2026-04-11"}, "at: '2026-04-11' has no timezone"),
        ({"membership__plan_price": 30}, "membership.plan_price: expected a decimal string"),
        (
            {"membership__billing": {"every": 1, "unit": "fortnight"}},
            "membership.billing: unit must be one of",
        ),
        ({"selection__plan": None}, "selection.plan: is required"),
        ({"membership__status": "paused"}, "membership.status: expected one of"),
        ({"catalog": "missing.yaml"}, "cannot read the file"),
    ],
)
def test_a_malformed_scenario_exits_2_with_one_line_naming_the_field(tmp_path, changes, words):  # type: ignore[no-untyped-def]
    result = bridge_quote(scenario(tmp_path, **changes))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


def test_invalid_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = bridge_quote(path)
    assert result.returncode == 2 and "not valid JSON" in result.stderr


@pytest.mark.parametrize(
    ("selection", "code"),
    [
        ({"plan": "gold"}, "unknown_product"),
        ({"plan": "basic", "addons": {"extra-disk": -2}}, "invalid_quantity"),
    ],
)
def test_a_refused_selection_exits_3_with_an_error_document(tmp_path, selection, code):  # type: ignore[no-untyped-def]
    result = bridge_quote(scenario(tmp_path, selection=selection))
    assert result.returncode == 3
    error = json.loads(result.stdout)
    jsonschema.validate(error, SCHEMAS["error"])
    assert error["error"]["code"] == code


@pytest.mark.parametrize(
    ("selection", "code"),
    [
        ({"plan": "basic", "addons": {"extra-disk": 1000}}, "invalid_quantity"),
        ({"plan": "gold", "addons": {"extra-disk": 1000}}, "unknown_product"),
        ({"plan": "basic", "addons": {"extra-disk": 1.5, "gold": 1}}, "unknown_product"),
    ],
)
def test_the_quantity_cap_is_a_rule_given_in_the_contract_order(tmp_path, selection, code):  # type: ignore[no-untyped-def]
    result = bridge_quote(scenario(tmp_path, selection=selection))
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout)["error"]["code"] == code


def test_a_one_time_service_the_scenario_holds_is_not_charged_again(tmp_path: Path) -> None:
    data = json.loads((ROOT / "examples" / "01-upgrade-premium.json").read_text())
    data["catalog"] = {
        "currency": "USD",
        "products": {
            "basic": {"name": "Basic", "kind": "plan", "price": "30.00", "addons": ["migration"]},
            "premium": {
                "name": "Premium",
                "kind": "plan",
                "price": "60.00",
                "addons": ["migration"],
            },
            "migration": {
                "name": "Site migration",
                "kind": "service",
                "price": "49.00",
                "billing": "once",
            },
        },
    }
    data["membership"]["addons"] = {"migration": {"quantity": 1, "price": "49.00"}}
    data["membership"]["paid_value"] = "30.00"
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data))
    result = bridge_quote(path)
    assert result.returncode == 0, result.stderr
    quote = json.loads(result.stdout)
    assert [line["type"] for line in quote["lines"]] == ["plan", "credit"]
    assert quote["due_now"] == "40.00"


@pytest.mark.parametrize(
    ("name", "due_now", "tax_amount"),
    [
        ("t1-upgrade-mva-exclusive", "50.00", "10.00"),
        ("t2-credit-at-the-rate-paid", "51.00", "11.00"),
        ("t3-add-extra-disk-ppn-inclusive", "3.33", "0.33"),
        ("t4-paid-before-tax", "55.00", "15.00"),
    ],
)
def test_the_tax_examples_give_the_documented_amounts(
    name: str, due_now: str, tax_amount: str
) -> None:
    quote = json.loads(bridge_quote(ROOT / "examples" / f"{name}.json").stdout)
    assert (quote["due_now"], quote["tax"]["amount"]) == (due_now, tax_amount)


def test_a_scenario_without_tax_says_tax_null() -> None:
    quote = json.loads(bridge_quote(ROOT / "examples" / "01-upgrade-premium.json").stdout)
    assert quote["tax"] is None


def test_the_catalog_files_tax_applies_unless_the_scenario_says_null(tmp_path: Path) -> None:
    catalog = (ROOT / "examples" / "catalog-worked-examples.yaml").read_text()
    (tmp_path / "catalog.yaml").write_text(
        catalog + 'tax: {name: MVA, rate: "25", mode: exclusive}\n'
    )
    path = scenario(tmp_path, membership__tax_rate_paid="25")
    data = json.loads(path.read_text())
    data["catalog"] = "catalog.yaml"
    path.write_text(json.dumps(data))
    assert json.loads(bridge_quote(path).stdout)["due_now"] == "50.00"
    data["tax"] = None
    path.write_text(json.dumps(data))
    assert json.loads(bridge_quote(path).stdout)["tax"] is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"tax": {"name": "MVA", "rate": "25.12345", "mode": "exclusive"}}, "tax.rate"),
        ({"tax": {"name": "MVA", "rate": "25", "mode": "net"}}, "tax.mode"),
        ({"membership__tax_rate_paid": "abc"}, "membership.tax_rate_paid"),
    ],
)
def test_a_bad_tax_in_a_scenario_exits_2_naming_the_field(
    tmp_path: Path, changes: dict[str, object], words: str
) -> None:
    result = bridge_quote(scenario(tmp_path, **changes))
    assert result.returncode == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
