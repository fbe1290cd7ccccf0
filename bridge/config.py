"""Settings: config.yaml plus BRIDGE_* environment overrides, validated once into a frozen value.

Precedence: environment (`BRIDGE_*`) over `config.yaml` over the defaults below. Secrets
(`BRIDGE_ADMIN_TOKEN`, `BRIDGE_WEBHOOK_SECRET`) come only from the environment: a config file
ends up in backups and repositories, so one that holds them is refused at start-up.

Environment variables (all optional):

    BRIDGE_CONFIG                 path of config.yaml (default ./config.yaml)
    BRIDGE_DATABASE_URL           sqlite:///var/bridge.db | postgresql://user:pw@host/db
    BRIDGE_PUBLIC_URL             https://bridge.example.com  (links and the checkout use it)
    BRIDGE_ADMIN_TOKEN            operator API token (Authorization: Bearer ...)
    BRIDGE_WEBHOOK_SECRET         whsec_<base64>, shared with the WordPress plugin
    BRIDGE_DEFAULT_PLAN           plan id for new sites          (default_plan)
    BRIDGE_FALLBACK_PLAN          plan id after grace/cancel     (fallback_plan)
    BRIDGE_GRACE_DAYS             7
    BRIDGE_QUOTE_TTL_S            900
    BRIDGE_CHANGE_INVOICE_TTL_S   86400
    BRIDGE_GATEWAY                test | manual | stripe
    BRIDGE_STRIPE_SECRET_KEY      sk_... (gateway stripe; environment only)
    BRIDGE_STRIPE_PUBLISHABLE_KEY pk_... (gateway stripe; environment only)
    BRIDGE_STRIPE_WEBHOOK_SECRET  whsec_... of the Stripe webhook endpoint (environment only)
    BRIDGE_STRIPE_API_BASE        https://api.stripe.com
    BRIDGE_STRIPE_JS_URL          https://js.stripe.com/v3/
    BRIDGE_STRIPE_RETRY_DAYS      1,3,5  (days after a failed renewal charge to try again)
    BRIDGE_WORDPRESS_URL          https://network.example/  (the network's main site)
    BRIDGE_WORDPRESS_TRANSPORT    rest | xmlrpc
    BRIDGE_WORDPRESS_TIMEOUT_S    10
    BRIDGE_QUEUE_BACKEND          sqlite | redis | immediate
    BRIDGE_QUEUE_REDIS_URL        redis://127.0.0.1:6379/0
    BRIDGE_QUEUE_PATH             var/queue.db
    BRIDGE_PUSH_MAX_ATTEMPTS      8
    BRIDGE_PUSH_BASE_DELAY_S      2
    BRIDGE_PUSH_MAX_DELAY_S       600
    BRIDGE_PUSH_DEAD_RETRY_S      900    (a dead push is tried again by the reconcile after this,
    BRIDGE_PUSH_DEAD_RETRY_MAX_S  21600   doubling per dead round up to the max)
    BRIDGE_JOBS_RECONCILE_EVERY_S 300    (the reconcile pass; any number of seconds >= 1)
    BRIDGE_JOBS_ROLL_OVER_EVERY_S 60     (the roll-over: renewals, scheduled changes, dunning)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from bridge.catalog_file import (
    catalog_from,
    load_catalog_sections,
    load_yaml,
    policy_from,
    tax_from,
)
from bridge.config_sections import (
    _JOBS_KEYS,
    _PUSH_RULES,
    MAX_BATCH_SIZE,
    PUSH_KEYS,
    JobsSettings,
    NoticesSettings,
    PushSettings,
    QueueSettings,
    StripeSettings,
    WordPressSettings,
    _at_most,
    _choice,
    _notices,
    _number,
    _section,
    _seller,
    _stripe_settings,
    _text,
)
from bridge.contract import secret_bytes
from bridge.domain.card_amounts import cannot_charge
from bridge.domain.catalog import Catalog, Policy
from bridge.domain.receipt import Party
from bridge.domain.tax import Tax
from bridge.errors import ConfigError, InvalidSecret

Gateway = Literal["test", "manual", "stripe"]

SECRET_KEYS = ("admin_token", "webhook_secret")  # both required to serve
# Accepted beside the current secret while the operator rotates it (SECURITY.md); optional.
OPTIONAL_SECRET_KEYS = ("webhook_secret_previous",)
# Stripe's keys: environment only, and only needed with `gateway: stripe`.
STRIPE_KEYS = ("stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret")
STRIPE_SECRET_KEYS = ("stripe_secret_key", "stripe_webhook_secret")
MIN_ADMIN_TOKEN_LENGTH = 32
MAKE_A_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
_TOP_KEYS = {
    "database_url",
    "public_url",
    "catalog",
    "policy",
    "tax",
    "seller",
    "default_plan",
    "fallback_plan",
    "grace_days",
    "quote_ttl_s",
    "change_invoice_ttl_s",
    "gateway",
    "wordpress",
    "queue",
    "push",
    "jobs",
    "stripe",
    "notices",
}


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the bridge reads at start-up; nothing else reads files or the environment."""

    catalog: Catalog
    policy: Policy = field(default_factory=Policy)
    tax: Tax | None = None  # the network's one tax (billing-rules.md §12); None: no tax
    seller: Party = field(default_factory=Party)  # printed on receipts (name, address, tax no.)
    database_url: str = "sqlite:///var/bridge.db"
    public_url: str = "http://127.0.0.1:8000"
    admin_token: str = ""  # empty: not set (only with load_settings(require_secrets=False))
    webhook_secret: str = ""
    webhook_secret_previous: str = ""  # accepted for verifying only, during a rotation
    default_plan: str = "free"
    fallback_plan: str = "free"
    grace_days: int = 7
    quote_ttl_s: int = 900
    change_invoice_ttl_s: int = 86400
    gateway: Gateway = "test"
    wordpress: WordPressSettings = field(default_factory=WordPressSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    push: PushSettings = field(default_factory=PushSettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)
    stripe: StripeSettings = field(default_factory=StripeSettings)
    notices: NoticesSettings = field(default_factory=NoticesSettings)
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    config_path: str | None = None

    def __repr__(self) -> str:
        # Secrets never reach logs or tracebacks through repr().
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in (*SECRET_KEYS, *OPTIONAL_SECRET_KEYS, *STRIPE_SECRET_KEYS):
                shown = "''" if not value else "'***'"
            elif f.name == "catalog":
                shown = f"<Catalog {value.currency}, {len(value.products)} products>"
            else:
                shown = repr(value)
            parts.append(f"{f.name}={shown}")
        return f"Settings({', '.join(parts)})"

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """The secrets an incoming signature or checkout token may be made with: the current
        one, then the previous one while a rotation is under way."""
        return tuple(s for s in (self.webhook_secret, self.webhook_secret_previous) if s)

    def require_secrets(self) -> None:
        """Serving needs both secrets; say which environment variable is missing."""
        missing = [f"BRIDGE_{key.upper()}" for key in SECRET_KEYS if not getattr(self, key)]
        if self.gateway == "stripe":
            missing += [f"BRIDGE_{key.upper()}" for key in STRIPE_KEYS if not getattr(self, key)]
        if missing:
            raise ConfigError(f"set {' and '.join(missing)} in the environment to serve")


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """BRIDGE_* variables as a nested dict shaped like config.yaml (values still strings)."""
    out: dict[str, Any] = {}
    flat = {
        "DATABASE_URL": "database_url",
        "PUBLIC_URL": "public_url",
        "DEFAULT_PLAN": "default_plan",
        "FALLBACK_PLAN": "fallback_plan",
        "GRACE_DAYS": "grace_days",
        "QUOTE_TTL_S": "quote_ttl_s",
        "CHANGE_INVOICE_TTL_S": "change_invoice_ttl_s",
        "GATEWAY": "gateway",
    }
    for env, key in flat.items():
        if f"BRIDGE_{env}" in environ:
            out[key] = environ[f"BRIDGE_{env}"]
    nested = {
        "wordpress": ("url", "transport", "timeout_s"),
        "queue": ("backend", "redis_url", "path"),
        "push": PUSH_KEYS,
        "jobs": _JOBS_KEYS,
        "stripe": ("api_base", "js_url", "retry_days"),
    }
    for section, keys in nested.items():
        for key in keys:
            env = f"BRIDGE_{section.upper()}_{key.upper()}"
            if env in environ:
                out.setdefault(section, {})[key] = environ[env]
    return out


def _database_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3; other URLs pass unchanged.

    Settled here, with the other settings, so that config imports no adapter; the storage adapter
    applies the same rule to URLs that do not come through Settings (tools, tests).
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(
    environ: Mapping[str, str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    require_secrets: bool = True,
) -> Settings:
    """Read `path` (or BRIDGE_CONFIG, or ./config.yaml) and apply BRIDGE_* from `environ`.

    Both secrets are required unless `require_secrets=False` (tools that never serve).
    """
    env = dict(os.environ if environ is None else environ)
    config_path = Path(path if path is not None else env.get("BRIDGE_CONFIG", "config.yaml"))
    data = load_yaml(config_path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{config_path}: expected a mapping of settings")
    for key in SECRET_KEYS:
        if key in data:
            raise ConfigError(
                f"{config_path}: '{key}' is a secret and is read only from the environment "
                f"(BRIDGE_{key.upper()}); remove it from the file"
            )
    unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{config_path}: unknown setting '{unknown[0]}' (known: {', '.join(sorted(_TOP_KEYS))})"
        )
    overrides = _env_overrides(env)
    for key, value in overrides.items():
        if isinstance(value, dict):
            base = data.get(key) or {}
            if not isinstance(base, Mapping):
                raise ConfigError(f"{config_path}: '{key}' must be a mapping")
            data[key] = {**base, **value}
        else:
            data[key] = value

    where = str(config_path)
    catalog, policy, tax = _catalog_and_policy(config_path, data)
    default_plan = _text(f"{where}: default_plan", data.get("default_plan", "free"))
    fallback_plan = _text(f"{where}: fallback_plan", data.get("fallback_plan", default_plan))
    for key, plan_id in (("default_plan", default_plan), ("fallback_plan", fallback_plan)):
        product = catalog.get(plan_id)
        if product is None or product.kind != "plan":
            raise ConfigError(f"{where}: {key} '{plan_id}' is not a plan of the catalog")

    wp = _section(f"{where}: wordpress", data.get("wordpress"), ("url", "transport", "timeout_s"))
    seller = _seller(where, data.get("seller"))
    queue = _section(f"{where}: queue", data.get("queue"), ("backend", "redis_url", "path"))
    push = _section(f"{where}: push", data.get("push"), PUSH_KEYS)
    jobs = _section(f"{where}: jobs", data.get("jobs"), _JOBS_KEYS)
    d_wp, d_queue, d_push, d_jobs = (
        WordPressSettings(),
        QueueSettings(),
        PushSettings(),
        JobsSettings(),
    )
    gateway = _choice(
        f"{where}: gateway", data.get("gateway", "test"), ("test", "manual", "stripe")
    )
    grace_days = _number(f"{where}: grace_days", data.get("grace_days", 7), int, 0)
    stripe = _stripe_settings(
        where, data.get("stripe"), grace_days if gateway == "stripe" else None
    )
    stripe_keys = {key: env.get(f"BRIDGE_{key.upper()}", "").strip() for key in STRIPE_KEYS}
    if gateway == "stripe":
        problem = cannot_charge(catalog.currency)
        if problem is not None:
            raise ConfigError(
                f"{where}: catalog, field 'currency': {problem}; gateway 'stripe' cannot "
                "charge its amounts exactly (use gateway 'manual' or another currency)"
            )
        missing_keys = [f"BRIDGE_{key.upper()}" for key in STRIPE_KEYS if not stripe_keys[key]]
        if require_secrets and missing_keys:
            raise ConfigError(
                f"{where}: gateway 'stripe' needs {' and '.join(missing_keys)} in the environment"
            )

    push_values = {
        key: _number(f"{where}: push.{key}", push.get(key, getattr(d_push, key)), kind, minimum)
        for key, (kind, minimum) in _PUSH_RULES.items()
    }
    _at_most(f"{where}: push.batch_size", push_values["batch_size"], MAX_BATCH_SIZE)
    secrets = {
        key: env.get(f"BRIDGE_{key.upper()}", "").strip()
        for key in (*SECRET_KEYS, *OPTIONAL_SECRET_KEYS)
    }
    if secrets["admin_token"] and len(secrets["admin_token"]) < MIN_ADMIN_TOKEN_LENGTH:
        raise ConfigError(
            f"BRIDGE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long; "
            f"make one with: {MAKE_A_TOKEN}"
        )
    if require_secrets:
        missing = [f"BRIDGE_{key.upper()}" for key in SECRET_KEYS if not secrets[key]]
        if missing:
            raise ConfigError(f"set {' and '.join(missing)} in the environment")
    for key in ("webhook_secret", "webhook_secret_previous"):
        if secrets[key]:
            try:
                secret_bytes(secrets[key])
            except InvalidSecret as exc:
                raise ConfigError(f"BRIDGE_{key.upper()}: {exc}") from None

    return Settings(
        catalog=catalog,
        policy=policy,
        tax=tax,
        seller=seller,
        notices=_notices(where, data.get("notices")),
        database_url=_database_url(
            _text(f"{where}: database_url", data.get("database_url", Settings.database_url))
        ),
        public_url=_text(
            f"{where}: public_url", data.get("public_url", Settings.public_url)
        ).rstrip("/"),
        admin_token=secrets["admin_token"],
        webhook_secret=secrets["webhook_secret"],
        webhook_secret_previous=secrets["webhook_secret_previous"],
        default_plan=default_plan,
        fallback_plan=fallback_plan,
        grace_days=grace_days,
        quote_ttl_s=_number(f"{where}: quote_ttl_s", data.get("quote_ttl_s", 900), int, 1),
        change_invoice_ttl_s=_number(
            f"{where}: change_invoice_ttl_s", data.get("change_invoice_ttl_s", 86400), int, 1
        ),
        gateway=gateway,  # type: ignore[arg-type]
        wordpress=WordPressSettings(
            url=_text(f"{where}: wordpress.url", wp.get("url", d_wp.url)),
            transport=_choice(  # type: ignore[arg-type]
                f"{where}: wordpress.transport",
                wp.get("transport", d_wp.transport),
                ("rest", "xmlrpc"),
            ),
            timeout_s=_number(
                f"{where}: wordpress.timeout_s", wp.get("timeout_s", d_wp.timeout_s), float, 0.1
            ),
        ),
        queue=QueueSettings(
            backend=_choice(  # type: ignore[arg-type]
                f"{where}: queue.backend",
                queue.get("backend", d_queue.backend),
                ("sqlite", "redis", "immediate"),
            ),
            redis_url=_text(f"{where}: queue.redis_url", queue.get("redis_url", d_queue.redis_url)),
            path=_text(f"{where}: queue.path", queue.get("path", d_queue.path)),
        ),
        push=PushSettings(**push_values),
        jobs=JobsSettings(
            **{
                key: _number(f"{where}: jobs.{key}", jobs.get(key, getattr(d_jobs, key)), int, 1)
                for key in _JOBS_KEYS
            }
        ),
        stripe=stripe,
        stripe_secret_key=stripe_keys["stripe_secret_key"],
        stripe_publishable_key=stripe_keys["stripe_publishable_key"],
        stripe_webhook_secret=stripe_keys["stripe_webhook_secret"],
        config_path=str(config_path),
    )


def _catalog_and_policy(
    config_path: Path, data: Mapping[str, Any]
) -> tuple[Catalog, Policy, Tax | None]:
    """`catalog:` inline, or a path (relative to config.yaml) to a file with `catalog:`; the
    `policy:` and `tax:` of config.yaml win over the catalog file's."""
    raw = data.get("catalog")
    if raw is None:
        raise ConfigError(f"{config_path}: a 'catalog:' section is required")
    file_policy: Policy | None = None
    file_tax: Tax | None = None
    if isinstance(raw, str):
        catalog_path = (config_path.parent / raw).resolve()
        catalog, file_policy, file_tax = load_catalog_sections(catalog_path)
    else:
        catalog = catalog_from(config_path, raw)
    policy = policy_from(config_path, data.get("policy"), file_policy)
    tax = tax_from(config_path, data["tax"]) if "tax" in data else file_tax
    return catalog, policy, tax
