"""Settings: config.yaml plus BRIDGE_* overrides; secrets only from the environment."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"x" * 32).decode()
ENV = {
    "BRIDGE_ADMIN_TOKEN": "admin-secret-token-for-config-tests-0123",
    "BRIDGE_WEBHOOK_SECRET": SECRET,
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
catalog:
  currency: USD
  products:
    free: {name: Free, kind: plan, price: "0.00"}
"""


def test_the_demo_config_has_the_articles_plan_groups() -> None:
    settings = load_settings(ENV, ROOT / "config.yaml")
    products = settings.catalog.products
    assert products["free"].group == products["premium"].group == "High End"
    assert products["basic"].group is None
    assert products["free"].limits.posts["post"] == 5
    assert {"unlimited-visits", "extra-disk", "site-migration"} <= set(products)
    assert (settings.default_plan, settings.fallback_plan, settings.grace_days) == (
        "free",
        "free",
        7,
    )
    assert (settings.quote_ttl_s, settings.change_invoice_ttl_s) == (900, 86400)


def test_environment_variables_override_the_file() -> None:
    env = {
        **ENV,
        "BRIDGE_DATABASE_URL": "postgresql://bridge@db/bridge",
        "BRIDGE_GRACE_DAYS": "3",
        "BRIDGE_GATEWAY": "manual",
        "BRIDGE_WORDPRESS_TRANSPORT": "xmlrpc",
        "BRIDGE_PUSH_MAX_ATTEMPTS": "2",
        "BRIDGE_PUBLIC_URL": "https://bridge.example.com/",
    }
    settings = load_settings(env, ROOT / "config.yaml")
    assert settings.database_url == "postgresql+psycopg://bridge@db/bridge"
    assert (settings.grace_days, settings.gateway) == (3, "manual")
    assert (settings.wordpress.transport, settings.wordpress.url) == (
        "xmlrpc",
        "http://127.0.0.1:8080/",
    )
    assert settings.push.max_attempts == 2
    assert settings.public_url == "https://bridge.example.com"


def test_the_job_intervals_and_the_dead_push_retry_are_settings() -> None:
    defaults = load_settings(ENV, ROOT / "config.yaml")
    assert (defaults.jobs.reconcile_every_s, defaults.jobs.roll_over_every_s) == (300, 60)
    assert (defaults.push.dead_retry_s, defaults.push.dead_retry_max_s) == (900, 21600)
    env = {
        **ENV,
        "BRIDGE_JOBS_RECONCILE_EVERY_S": "2",
        "BRIDGE_JOBS_ROLL_OVER_EVERY_S": "3",
        "BRIDGE_PUSH_DEAD_RETRY_S": "5",
        "BRIDGE_PUSH_DEAD_RETRY_MAX_S": "50",
    }
    settings = load_settings(env, ROOT / "config.yaml")
    assert (settings.jobs.reconcile_every_s, settings.jobs.roll_over_every_s) == (2, 3)
    assert (settings.push.dead_retry_s, settings.push.dead_retry_max_s) == (5, 50)
    with pytest.raises(ConfigError, match=r"jobs\.reconcile_every_s: must be at least 1"):
        load_settings({**ENV, "BRIDGE_JOBS_RECONCILE_EVERY_S": "0"}, ROOT / "config.yaml")


def test_the_config_file_comes_from_bridge_config(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    settings = load_settings({**ENV, "BRIDGE_CONFIG": str(path)})
    assert settings.config_path == str(path)


@pytest.mark.parametrize("key", ["admin_token", "webhook_secret"])
def test_a_secret_in_the_file_is_refused(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path, MINIMAL + f"{key}: oops\n")
    with pytest.raises(ConfigError, match=f"BRIDGE_{key.upper()}"):
        load_settings(ENV, path)


def test_missing_secrets_stop_start_up_unless_not_required() -> None:
    with pytest.raises(ConfigError, match="BRIDGE_ADMIN_TOKEN and BRIDGE_WEBHOOK_SECRET"):
        load_settings({}, ROOT / "config.yaml")
    assert load_settings({}, ROOT / "config.yaml", require_secrets=False).admin_token == ""


def test_a_webhook_secret_that_is_not_whsec_base64_is_refused() -> None:
    with pytest.raises(ConfigError, match="BRIDGE_WEBHOOK_SECRET"):
        load_settings({**ENV, "BRIDGE_WEBHOOK_SECRET": "whsec_???"}, ROOT / "config.yaml")


def test_repr_never_shows_the_secrets() -> None:
    text = repr(load_settings(ENV, ROOT / "config.yaml"))
    assert "admin-secret-token-for-config-tests-0123" not in text and SECRET not in text
    assert "admin_token='***'" in text


def test_a_catalog_error_names_the_file_the_product_and_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace('price: "0.00"', 'price: "0.00", limits: {visits: -1}'))
    with pytest.raises(ConfigError) as error:
        load_settings(ENV, path)
    assert str(path) in error.value.message
    assert "product 'free', field 'limits'" in error.value.message


def test_unknown_settings_and_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(ENV, _write(tmp_path, MINIMAL + "colour: blue\n"))
    with pytest.raises(ConfigError, match="gateway"):
        load_settings({**ENV, "BRIDGE_GATEWAY": "paypal"}, _write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="grace_days"):
        load_settings({**ENV, "BRIDGE_GRACE_DAYS": "soon"}, _write(tmp_path, MINIMAL))


def test_default_and_fallback_plans_must_be_plans_of_the_catalog(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default_plan 'gold'"):
        load_settings(ENV, _write(tmp_path, MINIMAL + "default_plan: gold\n"))


def test_the_catalog_may_live_in_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(MINIMAL + "policy: {anchor: keep}\n", encoding="utf-8")
    settings = load_settings(ENV, _write(tmp_path, "catalog: catalog.yaml\n"))
    assert list(settings.catalog.products) == ["free"]
    assert settings.policy.anchor == "keep"


def test_a_short_admin_token_is_refused_with_the_variable_and_how_to_make_one() -> None:
    env = {**ENV, "BRIDGE_ADMIN_TOKEN": "x" * 31}
    with pytest.raises(ConfigError) as error:
        load_settings(env, ROOT / "config.yaml")
    assert "BRIDGE_ADMIN_TOKEN" in error.value.message
    assert "at least 32 characters" in error.value.message
    assert "secrets.token_urlsafe(32)" in error.value.message
    assert load_settings({**ENV, "BRIDGE_ADMIN_TOKEN": "y" * 32}, ROOT / "config.yaml")


def test_the_previous_webhook_secret_is_optional_validated_and_never_shown() -> None:
    previous = "whsec_" + base64.b64encode(b"p" * 32).decode()
    settings = load_settings(
        {**ENV, "BRIDGE_WEBHOOK_SECRET_PREVIOUS": previous}, ROOT / "config.yaml"
    )
    assert settings.webhook_secrets == (SECRET, previous)
    assert previous not in repr(settings) and "webhook_secret_previous='***'" in repr(settings)
    assert load_settings(ENV, ROOT / "config.yaml").webhook_secrets == (SECRET,)
    with pytest.raises(ConfigError, match="BRIDGE_WEBHOOK_SECRET_PREVIOUS"):
        load_settings({**ENV, "BRIDGE_WEBHOOK_SECRET_PREVIOUS": "nope"}, ROOT / "config.yaml")


def test_the_tax_and_the_seller_sit_beside_the_policy(tmp_path: Path) -> None:
    text = MINIMAL + (
        'tax: {name: MVA, rate: "25.00", mode: exclusive}\n'
        'seller: {name: Nettverket AS, address: "Storgata 1", tax_number: NO 999 MVA}\n'
    )
    settings = load_settings(ENV, _write(tmp_path, text))
    assert settings.tax is not None and settings.tax.to_json() == {
        "name": "MVA",
        "rate": "25",
        "mode": "exclusive",
    }
    assert (settings.seller.name, settings.seller.tax_number) == ("Nettverket AS", "NO 999 MVA")
    assert load_settings(ENV, _write(tmp_path, MINIMAL)).tax is None


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("tax: {name: MVA, rate: 25, mode: exclusive}\n", "field 'tax.rate'"),
        ('tax: {name: MVA, rate: "25", mode: gross}\n', "field 'tax.mode'"),
        ('tax: {rate: "25", mode: exclusive}\n', "field 'tax.name'"),
        ("seller: {name: [1]}\n", "seller.name"),
        ("seller: {iban: x}\n", "seller.iban"),
    ],
)
def test_a_bad_tax_or_seller_names_the_file_and_the_field(
    tmp_path: Path, section: str, field: str
) -> None:
    path = _write(tmp_path, MINIMAL + section)
    with pytest.raises(ConfigError) as error:
        load_settings(ENV, path)
    assert str(path) in error.value.message and field in error.value.message


def test_a_catalog_files_tax_applies_unless_config_yaml_sets_its_own(tmp_path: Path) -> None:
    tax = 'tax: {name: PPN, rate: "11", mode: inclusive}\n'
    (tmp_path / "catalog.yaml").write_text(MINIMAL + tax, encoding="utf-8")
    settings = load_settings(ENV, _write(tmp_path, "catalog: catalog.yaml\n"))
    assert settings.tax is not None and settings.tax.name == "PPN"
    settings = load_settings(ENV, _write(tmp_path, "catalog: catalog.yaml\ntax: null\n"))
    assert settings.tax is None


def test_the_fanout_settings_have_a_cap_by_default_and_can_be_changed() -> None:
    push = load_settings(ENV, ROOT / "config.yaml").push
    assert (push.fanout_from, push.batch_size) == (20, 100)
    assert (push.max_docs_per_s, push.max_concurrent_batches) == (200, 2)
    env = {**ENV, "BRIDGE_PUSH_MAX_DOCS_PER_S": "0", "BRIDGE_PUSH_BATCH_SIZE": "200"}
    changed = load_settings(env, ROOT / "config.yaml").push
    assert (changed.max_docs_per_s, changed.batch_size) == (0, 200)


def test_a_batch_larger_than_the_plugin_takes_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"push\.batch_size: must be at most 200"):
        load_settings(ENV, _write(tmp_path, MINIMAL + "push: {batch_size: 500}\n"))
    with pytest.raises(ConfigError, match=r"push\.max_concurrent_batches"):
        load_settings(ENV, _write(tmp_path, MINIMAL + "push: {max_concurrent_batches: 0}\n"))
