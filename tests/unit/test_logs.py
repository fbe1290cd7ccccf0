"""Log lines are JSON, and no secret, derived key or e-mail address survives into one."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path

from bridge.config import load_settings
from bridge.contract import derive_key
from bridge.logs import JsonFormatter, secrets_of

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_" + base64.b64encode(b"log-tests-secret-of-32-bytes!!!!").decode()
PREVIOUS = "whsec_" + base64.b64encode(b"the-previous-secret-32-bytes-ok!").decode()
ADMIN = "admin-token-for-the-log-tests-0123456789"


def _line(formatter: JsonFormatter, message: str, *args: object, **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("bridge.test-logs")
    logger.handlers = [handler]
    logger.propagate = False
    try:
        raise RuntimeError(f"inside the exception: {ADMIN} and {SECRET}")
    except RuntimeError:
        logger.error(message, *args, extra=extra, exc_info=True)
    return stream.getvalue()


def _formatter() -> JsonFormatter:
    env = {
        "BRIDGE_ADMIN_TOKEN": ADMIN,
        "BRIDGE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_WEBHOOK_SECRET_PREVIOUS": PREVIOUS,
    }
    return JsonFormatter(secrets_of(load_settings(env, ROOT / "config.yaml")))


def test_secrets_are_redacted_in_the_message_the_extras_and_the_exception() -> None:
    push_key = derive_key(SECRET, "push")
    line = _line(
        _formatter(),
        "token %s then %s",
        ADMIN,
        PREVIOUS,
        header=f"Bearer {ADMIN}",
        key_hex=push_key.hex(),
        key_b64=base64.b64encode(derive_key(PREVIOUS, "token")).decode(),
        raw=SECRET[len("whsec_") :],
    )
    entry = json.loads(line)
    assert entry["level"] == "error"
    for secret in (
        ADMIN,
        SECRET,
        PREVIOUS,
        SECRET[len("whsec_") :],
        push_key.hex(),
        base64.b64encode(derive_key(PREVIOUS, "token")).decode(),
    ):
        assert secret not in line
    assert entry["header"] == "Bearer [redacted]"
    assert "[redacted]" in entry["exception"]


def test_email_addresses_never_reach_a_log_line() -> None:
    line = _line(_formatter(), "owner %s changed", "someone.else+tag@example.invalid", who="a@b.io")
    assert "@example.invalid" not in line and "a@b.io" not in line
    assert json.loads(line)["who"] == "[email]"
