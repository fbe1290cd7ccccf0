"""Gateway `stripe` settings: keys only from the environment, currencies Stripe charges exactly."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError

SECRET = "whsec_" + base64.b64encode(b"x" * 32).decode()
ENV = {
    "BRIDGE_ADMIN_TOKEN": "admin-secret-token-for-config-tests-0123",
    "BRIDGE_WEBHOOK_SECRET": SECRET,
    "BRIDGE_STRIPE_SECRET_KEY": "sk_test_config",
    "BRIDGE_STRIPE_PUBLISHABLE_KEY": "pk_test_config",
    "BRIDGE_STRIPE_WEBHOOK_SECRET": "whsec_config",
}


def _write(tmp_path: Path, currency: str, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
gateway: stripe
{extra}
catalog:
  currency: {currency}
  products:
    free: {{name: Free, kind: plan, price: "0"}}
""",
        encoding="utf-8",
    )
    return path


def test_stripe_settings_come_from_the_file_and_keys_from_the_environment(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "USD",
        "stripe: {api_base: 'http://127.0.0.1:9/', js_url: 'http://127.0.0.1:9/js.stripe.com/v3/'}",
    )
    settings = load_settings({**ENV, "BRIDGE_STRIPE_RETRY_DAYS": "2,4"}, path)
    assert settings.gateway == "stripe"
    assert settings.stripe.api_base == "http://127.0.0.1:9"
    assert settings.stripe.retry_days == (2, 4)
    assert settings.stripe_secret_key == "sk_test_config"
    assert "sk_test_config" not in repr(settings)


def test_a_three_decimal_currency_stops_start_up_naming_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "KWD")
    with pytest.raises(ConfigError) as caught:
        load_settings(ENV, path)
    assert str(caught.value).startswith(f"{path}: catalog, field 'currency': Stripe charges KWD")


def test_the_stripe_keys_are_required_and_never_read_from_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "EUR")
    with pytest.raises(ConfigError, match="BRIDGE_STRIPE_SECRET_KEY"):
        load_settings({k: v for k, v in ENV.items() if k != "BRIDGE_STRIPE_SECRET_KEY"}, path)
    path = _write(tmp_path, "EUR", "stripe: {secret_key: sk_live_oops}")
    with pytest.raises(ConfigError, match="read only from the environment"):
        load_settings(ENV, path)


def test_retry_days_must_lie_inside_the_grace_period(tmp_path: Path) -> None:
    path = _write(tmp_path, "EUR", "grace_days: 4\nstripe: {retry_days: [1, 3, 5]}")
    with pytest.raises(ConfigError, match="day 5 is not inside the grace period of 4 days"):
        load_settings(ENV, path)
