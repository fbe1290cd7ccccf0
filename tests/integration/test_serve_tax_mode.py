"""`bridge serve` refuses to start when config.yaml's tax mode differs from the mode invoices
were already taxed with, and says which setting (billing-rules.md §12)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import yaml

from bridge.adapters.storage import migrate
from bridge.config import load_settings
from bridge.domain.membership import Selection
from bridge.domain.tax import Tax
from bridge.services import quotes
from bridge.services.context import owner
from tests.services.conftest import context_on, create_site
from tests.services.fakes import FakeClock, FakeQueue
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"tax-mode-serve-test-secret-32-b!").decode()


def test_serve_refuses_a_new_tax_mode_once_an_invoice_was_taxed(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'bridge.db'}"
    migrate(database_url)
    settings = replace(
        load_settings({}, ROOT / "config.yaml", require_secrets=False),
        database_url=database_url,
        tax=Tax("MVA", "25", "exclusive"),
    )
    ctx, engine = context_on(settings, FakeClock(), FakeQueue())
    try:
        create_site(ctx)
        quote = quotes.create_quote(ctx, 2, Selection("premium"), owner(2, 5))
        quotes.commit_quote(ctx, quote["id"], owner(2, 5))
    finally:
        engine.dispose()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["tax"] = {"name": "MVA", "rate": "25", "mode": "inclusive"}
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        BRIDGE_CONFIG=str(config_path),
        BRIDGE_DATABASE_URL=database_url,
        BRIDGE_ADMIN_TOKEN="tax-mode-test-admin-token-0123456789",
        BRIDGE_WEBHOOK_SECRET=SECRET,
        BRIDGE_QUEUE_PATH=str(tmp_path / "queue.db"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "serve", "--port", str(free_port()), "--no-worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "field 'tax.mode'" in result.stderr and "'exclusive'" in result.stderr
    assert str(config_path) in result.stderr
