"""The settings of config.yaml's smaller sections (wordpress, queue, push, jobs, stripe, seller,
notices) and the checks every section uses; `bridge.config` reads the file and puts them together.
Every error names the file and the field (the `where` each function is given)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bridge.domain.notices import KINDS as NOTICE_KINDS
from bridge.domain.receipt import Party
from bridge.errors import ConfigError

Transport = Literal["rest", "xmlrpc"]
QueueBackend = Literal["sqlite", "redis", "immediate"]


@dataclass(frozen=True)
class WordPressSettings:
    url: str = "http://127.0.0.1/"
    transport: Transport = "rest"
    timeout_s: float = 10.0


@dataclass(frozen=True)
class QueueSettings:
    backend: QueueBackend = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    path: str = "var/queue.db"


@dataclass(frozen=True)
class PushSettings:
    max_attempts: int = 8
    base_delay_s: float = 2.0
    max_delay_s: float = 600.0
    # A push that exhausted its attempts (dead) is tried again by the reconcile pass after
    # dead_retry_s, then twice that, ... up to dead_retry_max_s: outages heal without an operator.
    dead_retry_s: float = 900.0
    dead_retry_max_s: float = 21600.0

    # Fan-out (services/fanout.py): this many sites changing at once go in signed batches.
    fanout_from: int = 20
    batch_size: int = 100  # documents per batch request; the plugin takes at most 200
    max_docs_per_s: float = 200.0  # per network, across a fan-out's batches; 0: no cap
    max_concurrent_batches: int = 2  # batch requests in flight at once, per network


@dataclass(frozen=True)
class JobsSettings:
    """How often the periodic jobs run (once per interval across all processes)."""

    reconcile_every_s: int = 300
    roll_over_every_s: int = 60


# The plugin's bound on one batch (Bridge_Batch::MAX_DOCUMENTS).
MAX_BATCH_SIZE = 200
# Each push setting's type and smallest value.
_PUSH_RULES: dict[str, tuple[type[int] | type[float], float]] = {
    "max_attempts": (int, 1),
    "base_delay_s": (float, 0),
    "max_delay_s": (float, 0),
    "dead_retry_s": (float, 1),
    "dead_retry_max_s": (float, 1),
    "fanout_from": (int, 2),
    "batch_size": (int, 1),
    "max_docs_per_s": (float, 0),
    "max_concurrent_batches": (int, 1),
}
PUSH_KEYS = tuple(_PUSH_RULES)


@dataclass(frozen=True)
class StripeSettings:
    """Where Stripe is (tests point both at a local stand-in) and when renewals are retried."""

    api_base: str = "https://api.stripe.com"
    js_url: str = "https://js.stripe.com/v3/"
    retry_days: tuple[int, ...] = (1, 3, 5)


_JOBS_KEYS = ("reconcile_every_s", "roll_over_every_s")


def _number(where: str, raw: Any, kind: type[int] | type[float], minimum: float) -> Any:
    if isinstance(raw, bool):
        raise ConfigError(f"{where}: must be a number, not {raw!r}")
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: must be a number, not {raw!r}") from None
    if kind is int and isinstance(raw, float) and raw != int(raw):
        raise ConfigError(f"{where}: must be a whole number, not {raw!r}")
    if value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, not {raw!r}")
    return value


def _at_most(where: str, value: Any, maximum: float) -> Any:
    if value > maximum:
        raise ConfigError(f"{where}: must be at most {maximum}, not {value!r}")
    return value


def _choice(where: str, raw: Any, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise ConfigError(f"{where}: must be one of {', '.join(choices)}, not {raw!r}")
    return str(raw)


def _text(where: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: must be a non-empty string, not {raw!r}")
    return raw.strip()


def _section(where: str, raw: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    unknown = [k for k in raw if k not in keys]
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown setting (known: {', '.join(keys)})")
    return dict(raw)


def _seller(where: str, raw: Any) -> Party:
    """`seller: {name, address, tax_number}`: who issues the receipts (all optional)."""
    section = _section(f"{where}: seller", raw, ("name", "address", "tax_number"))
    values: dict[str, str] = {}
    for key, value in section.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: seller.{key}: must be a string, not {value!r}")
        values[key] = (value or "").strip()
    return Party(
        values.get("name", ""), values.get("address", ""), values.get("tax_number") or None
    )


def _stripe_settings(where: str, raw: Any, grace_days: int | None) -> StripeSettings:
    """`stripe:` (addresses and the retry schedule); its keys come only from the environment."""
    if isinstance(raw, Mapping):
        for key in ("secret_key", "webhook_secret", "publishable_key"):
            if key in raw:
                raise ConfigError(
                    f"{where}: 'stripe.{key}' is read only from the environment "
                    f"(BRIDGE_STRIPE_{key.upper()}); remove it from the file"
                )
    section = _section(f"{where}: stripe", raw, ("api_base", "js_url", "retry_days"))
    default = StripeSettings()
    days_raw = section.get("retry_days", default.retry_days)
    if isinstance(days_raw, str):
        days_raw = [part for part in days_raw.replace(" ", "").split(",") if part]
    if not isinstance(days_raw, (list, tuple)):
        raise ConfigError(f"{where}: stripe.retry_days: must be a list of days, not {days_raw!r}")
    days = tuple(_number(f"{where}: stripe.retry_days", day, int, 1) for day in days_raw)
    if list(days) != sorted(set(days)):
        raise ConfigError(f"{where}: stripe.retry_days: days must be increasing, not {days!r}")
    late = [day for day in days if grace_days is not None and day >= grace_days]
    if late:
        raise ConfigError(
            f"{where}: stripe.retry_days: day {late[0]} is not inside the grace period "
            f"of {grace_days} days (grace_days)"
        )
    api_base = _text(f"{where}: stripe.api_base", section.get("api_base", default.api_base))
    js_url = _text(f"{where}: stripe.js_url", section.get("js_url", default.js_url))
    for name, url in (("api_base", api_base), ("js_url", js_url)):
        if not url.startswith(("https://", "http://127.", "http://localhost")):
            raise ConfigError(
                f"{where}: stripe.{name}: must be an https:// address (or loopback for tests), "
                f"not {url!r}"
            )
    return StripeSettings(api_base=api_base.rstrip("/"), js_url=js_url, retry_days=days)


@dataclass(frozen=True)
class NoticesSettings:
    """`notices:` which notices the owner of a membership is sent (all on by default)."""

    off: frozenset[str] = frozenset()

    def on(self, kind: str) -> bool:
        return kind not in self.off


def _notices(where: str, raw: Any) -> NoticesSettings:
    """`notices: {change_applied: true, visits_80: false, ...}`: each kind on or off."""
    section = _section(f"{where}: notices", raw, NOTICE_KINDS)
    for key, value in section.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: notices.{key}: must be true or false, not {value!r}")
    return NoticesSettings(frozenset(k for k, v in section.items() if not v))
