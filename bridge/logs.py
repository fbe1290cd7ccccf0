"""Logging: one JSON object per line on stderr, with secrets and e-mail addresses redacted.

Redaction runs on the whole formatted line (message, extras and exception text alike), so no
path into a log line is missed; every text form of each secret and of every key derived from it
is hidden, whatever its length. Nothing should log them in the first place: this catches the
mistake that slips through (an exception quoting a header, a library's debug line). E-mail
addresses are personal data that no operator needs in a log; ids identify owners there.
The formatter is hand-written (a few lines) rather than a new dependency.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bridge.config import Settings
from bridge.contract import secret_forms

__all__ = ["JsonFormatter", "configure_logging", "secrets_of"]

# Good enough to catch an address in free text; deliberately broad (false positives are harmless).
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
REDACTED = "[redacted]"
EMAIL = "[email]"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, redacted as the module docstring says."""

    _skip = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(entry, default=str, ensure_ascii=False))

    def redact(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
            escaped = json.dumps(secret)[1:-1]  # as it appears inside a JSON string
            if escaped != secret:
                line = line.replace(escaped, REDACTED)
        return _EMAIL.sub(EMAIL, line)


def secrets_of(settings: Settings) -> list[str]:
    """Every text form of the configured secrets and the keys derived from them."""
    found = [settings.admin_token, settings.stripe_secret_key, settings.stripe_webhook_secret]
    for secret in settings.webhook_secrets:
        found += secret_forms(secret)
    return [s for s in found if s]


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """JSON lines on stderr, redacted; called by the CLI, not by the app factory."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets_of(settings)))
    handler.set_name("bridge")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "bridge":  # ours from an earlier call; others are left alone
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Huey logs every task at INFO; keep its warnings and errors only.
    logging.getLogger("huey").setLevel(logging.WARNING)
