"""The product catalog and the change policy, parsed and validated from plain data (§2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bridge.domain.errors import CatalogInvalid as CatalogInvalid
from bridge.domain.errors import CatalogProblem as CatalogProblem
from bridge.domain.limits import LIMIT_KEYS, SCALAR_LIMITS, UNLIMITED, Limits, LimitValue
from bridge.domain.money import MoneyError, exponent, parse_amount
from bridge.domain.periods import ONCE, RECURRING_UNITS, BillingOption, period_ratio

Kind = Literal["plan", "package", "service"]
KINDS: tuple[str, ...] = ("plan", "package", "service")


@dataclass(frozen=True)
class Variation:
    billing: BillingOption
    price_minor: int


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    kind: Kind
    price_minor: int
    billing: BillingOption
    setup_fee_minor: int = 0
    active: bool = True
    group: str | None = None
    order: int = 0
    addons: tuple[str, ...] = ()
    variations: tuple[Variation, ...] = ()
    trial_days: int = 0
    limits: Limits = field(default_factory=Limits)
    description: str | None = None
    # The name and description per owner language ("nb", "ms", "id"), for the checkout.
    names: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def name_in(self, language: str) -> str:
        """The product's name in `language`, falling back to the default `name`."""
        return self.names.get(language) or self.name

    def description_in(self, language: str) -> str | None:
        """The description in `language`, falling back to the default `description`."""
        return self.descriptions.get(language) or self.description

    def billing_options(self) -> tuple[Variation, ...]:
        """The default option first, then the variations."""
        return (Variation(self.billing, self.price_minor), *self.variations)

    def price_for(self, billing: BillingOption) -> int | None:
        for option in self.billing_options():
            if option.billing == billing:
                return option.price_minor
        return None


@dataclass(frozen=True)
class Policy:
    anchor: Literal["restart", "keep"] = "restart"
    downgrade: Literal["end_of_term", "immediate"] = "end_of_term"
    over_quota: Literal["block", "allow"] = "block"


@dataclass(frozen=True)
class Catalog:
    currency: str
    products: Mapping[str, Product]
    # Merged limits per (plan, add-ons): a pure memo, since a catalog never changes once parsed.
    limits_memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id)


_PRODUCT_FIELDS = {
    "name",
    "names",
    "description",
    "descriptions",
    "kind",
    "price",
    "billing",
    "setup_fee",
    "active",
    "group",
    "order",
    "addons",
    "variations",
    "trial_days",
    "limits",
}
_PLAN_ONLY = {"group", "order", "addons", "variations", "trial_days"}
_POLICY_CHOICES = {
    "anchor": ("restart", "keep"),
    "downgrade": ("end_of_term", "immediate"),
    "over_quota": ("block", "allow"),
}


class _Problems:
    def __init__(self) -> None:
        self.items: list[CatalogProblem] = []

    def add(self, product: str | None, field_name: str, message: str) -> None:
        self.items.append(CatalogProblem(product, field_name, message))


def _texts(problems: _Problems, pid: str, field_name: str, raw: object) -> dict[str, str]:
    """An optional map of language code to a non-empty text (`names`, `descriptions`)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add(pid, field_name, "must map language codes (nb, ms, id, ...) to texts")
        return {}
    texts: dict[str, str] = {}
    for language, text in raw.items():
        if not isinstance(language, str) or not language.isalpha() or not 2 <= len(language) <= 3:
            problems.add(pid, field_name, f"{language!r} is not a language code such as nb or ms")
        elif not isinstance(text, str) or not text.strip():
            problems.add(pid, f"{field_name}.{language}", "must be a non-empty string")
        else:
            texts[language.lower()] = text
    return texts


def parse_billing(value: object) -> BillingOption:
    """`{every: N, unit: day|week|month|year}` or the string `once`."""
    if value == "once":
        return ONCE
    if not isinstance(value, Mapping):
        raise ValueError("must be {every: N, unit: day|week|month|year} or 'once'")
    extra = set(value) - {"every", "unit"}
    if extra:
        raise ValueError(f"unknown key '{sorted(extra)[0]}'")
    every, unit = value.get("every", 1), value.get("unit")
    if unit not in RECURRING_UNITS:
        raise ValueError(f"unit must be one of day, week, month, year, not {unit!r}")
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a whole number ≥ 1, not {every!r}")
    return BillingOption(every, unit)


def _limit_value(value: object) -> LimitValue:
    if value == UNLIMITED:
        return UNLIMITED
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a whole number ≥ 0 or 'unlimited', not {value!r}")
    return value


def parse_limits(value: object) -> Limits:
    """A limits mapping; raises ValueError naming the offending key."""
    if value is None:
        return Limits()
    if not isinstance(value, Mapping):
        raise ValueError("limits must be a mapping")
    unknown = [k for k in value if k not in LIMIT_KEYS]
    if unknown:
        raise ValueError(f"unknown limit '{unknown[0]}' (known: {', '.join(LIMIT_KEYS)})")
    scalars: dict[str, LimitValue | None] = {}
    for key in SCALAR_LIMITS:
        if key in value:
            try:
                scalars[key] = _limit_value(value[key])
            except ValueError as exc:
                raise ValueError(f"{key} {exc}") from None
    posts: dict[str, LimitValue] = {}
    raw_posts = value.get("posts")
    if raw_posts is not None:
        if not isinstance(raw_posts, Mapping):
            raise ValueError("posts must be a map by post type, e.g. {post: 10, page: 5}")
        for post_type, limit in raw_posts.items():
            try:
                posts[str(post_type)] = _limit_value(limit)
            except ValueError as exc:
                raise ValueError(f"posts.{post_type} {exc}") from None
    return Limits(posts=posts, **scalars)


def _amount(problems: _Problems, pid: str, field_name: str, raw: object, currency: str) -> int:
    if raw is None:
        return 0
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        problems.add(pid, field_name, f'write amounts as quoted decimal strings, e.g. "{raw}"')
        return 0
    try:
        amount = parse_amount(raw if isinstance(raw, str) else repr(raw), currency)
    except MoneyError as exc:
        problems.add(pid, field_name, str(exc))
        return 0
    if amount < 0:
        problems.add(pid, field_name, "must not be negative")
    return amount


def _parse_product(problems: _Problems, pid: str, raw: object, currency: str) -> Product | None:
    if not isinstance(raw, Mapping):
        problems.add(pid, "(product)", "must be a mapping of fields")
        return None
    for key in raw:
        if key not in _PRODUCT_FIELDS:
            problems.add(pid, str(key), "unknown field")
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.add(pid, "kind", f"must be plan, package or service, not {kind!r}")
        return None
    if kind != "plan":
        for key in _PLAN_ONLY & set(raw):
            problems.add(pid, key, f"only plans have '{key}'")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(pid, "name", "must be a non-empty string")
        name = pid
    description = raw.get("description")
    if description is not None and (not isinstance(description, str) or not description.strip()):
        problems.add(pid, "description", "must be a non-empty string")
        description = None
    names = _texts(problems, pid, "names", raw.get("names"))
    descriptions = _texts(problems, pid, "descriptions", raw.get("descriptions"))
    if "price" not in raw:
        problems.add(pid, "price", "is required")
    price = _amount(problems, pid, "price", raw.get("price"), currency)
    setup_fee = _amount(problems, pid, "setup_fee", raw.get("setup_fee"), currency)
    try:
        billing = parse_billing(raw.get("billing", {"every": 1, "unit": "month"}))
    except ValueError as exc:
        problems.add(pid, "billing", str(exc))
        billing = BillingOption(1, "month")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        problems.add(pid, "active", "must be true or false")
        active = True
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        problems.add(pid, "group", "must be a non-empty string")
        group = None
    order = raw.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        problems.add(pid, "order", "must be a whole number")
        order = 0
    trial_days = raw.get("trial_days", 0)
    if not isinstance(trial_days, int) or isinstance(trial_days, bool) or trial_days < 0:
        problems.add(pid, "trial_days", "must be a whole number ≥ 0")
        trial_days = 0
    addons_raw = raw.get("addons", [])
    addons: tuple[str, ...] = ()
    if not isinstance(addons_raw, list) or not all(isinstance(a, str) for a in addons_raw):
        problems.add(pid, "addons", "must be a list of product ids")
    else:
        addons = tuple(addons_raw)
        if len(set(addons)) != len(addons):
            problems.add(pid, "addons", "lists an add-on twice")
    variations: list[Variation] = []
    raw_variations = raw.get("variations", [])
    if not isinstance(raw_variations, list):
        problems.add(pid, "variations", "must be a list of {billing, price}")
        raw_variations = []
    for i, var in enumerate(raw_variations):
        where = f"variations[{i}]"
        if not isinstance(var, Mapping) or set(var) - {"billing", "price"}:
            problems.add(pid, where, 'must be {billing: ..., price: "..."}')
            continue
        try:
            var_billing = parse_billing(var.get("billing"))
        except ValueError as exc:
            problems.add(pid, f"{where}.billing", str(exc))
            continue
        variations.append(
            Variation(
                var_billing, _amount(problems, pid, f"{where}.price", var.get("price"), currency)
            )
        )
    seen = [billing, *(v.billing for v in variations)]
    if len(set(seen)) != len(seen):
        problems.add(pid, "variations", "repeats a billing option")
    if kind == "plan" and any(b.is_once for b in seen) and len(seen) > 1:
        problems.add(pid, "variations", "a one-time plan cannot have other billing options")
    limits = Limits()
    if kind == "service" and raw.get("limits"):
        problems.add(pid, "limits", "services carry no limits; make it a package")
    else:
        try:
            limits = parse_limits(raw.get("limits"))
        except ValueError as exc:
            problems.add(pid, "limits", str(exc))
    if kind == "package" and billing.is_once:
        problems.add(pid, "billing", "a package is recurring; make a one-time add-on a service")
    return Product(
        id=pid,
        name=name,
        kind=kind,
        price_minor=price,
        billing=billing,
        setup_fee_minor=setup_fee,
        active=active,
        group=group,
        order=order,
        addons=addons,
        variations=tuple(variations),
        trial_days=trial_days,
        limits=limits,
        description=description,
        names=names,
        descriptions=descriptions,
    )


def parse_policy(raw: object, base: Policy | None = None) -> Policy:
    """A policy mapping over `base` (or the defaults); raises CatalogInvalid naming the field."""
    base = base or Policy()
    if raw is None:
        return base
    problems = _Problems()
    if not isinstance(raw, Mapping):
        raise CatalogInvalid([CatalogProblem(None, "policy", "must be a mapping")])
    values: dict[str, str] = {
        "anchor": base.anchor,
        "downgrade": base.downgrade,
        "over_quota": base.over_quota,
    }
    for key, value in raw.items():
        if key not in _POLICY_CHOICES:
            problems.add(None, f"policy.{key}", "unknown setting")
        elif value not in _POLICY_CHOICES[key]:
            problems.add(None, f"policy.{key}", f"must be one of {', '.join(_POLICY_CHOICES[key])}")
        else:
            values[key] = value
    if problems.items:
        raise CatalogInvalid(problems.items)
    return Policy(**values)  # type: ignore[arg-type]


def parse_catalog(raw: object) -> Catalog:
    """Parse and validate a `catalog:` section; every problem names product and field."""
    problems = _Problems()
    if not isinstance(raw, Mapping):
        raise CatalogInvalid(
            [CatalogProblem(None, "catalog", "must be a mapping with currency and products")]
        )
    for key in raw:
        if key not in ("currency", "products"):
            problems.add(None, str(key), "unknown catalog field")
    currency = raw.get("currency", "USD")
    try:
        exponent(currency if isinstance(currency, str) else "")
    except MoneyError:
        raise CatalogInvalid(
            [CatalogProblem(None, "currency", f"unknown ISO 4217 currency {currency!r}")]
        ) from None
    raw_products = raw.get("products")
    if not isinstance(raw_products, Mapping) or not raw_products:
        raise CatalogInvalid([CatalogProblem(None, "products", "must map product ids to products")])
    products: dict[str, Product] = {}
    for pid, raw_product in raw_products.items():
        pid = str(pid)
        product = _parse_product(problems, pid, raw_product, currency)
        if product is not None:
            products[pid] = product
    for product in products.values():
        if product.kind != "plan":
            continue
        for addon_id in product.addons:
            addon = products.get(addon_id)
            if addon is None:
                problems.add(product.id, "addons", f"add-on '{addon_id}' does not exist")
            elif addon.kind == "plan":
                problems.add(
                    product.id, "addons", f"'{addon_id}' is a plan, not a package or service"
                )
            elif not addon.billing.is_once:
                for option in product.billing_options():
                    if option.billing.is_once:
                        problems.add(
                            product.id,
                            "addons",
                            f"a one-time plan cannot carry the recurring add-on '{addon_id}'",
                        )
                    elif period_ratio(addon.billing, option.billing) is None:
                        problems.add(
                            product.id,
                            "addons",
                            f"add-on '{addon_id}' is billed every {addon.billing.describe()}, which has no exact "
                            f"ratio to this plan's {option.billing.describe()}",
                        )
    if problems.items:
        raise CatalogInvalid(problems.items)
    return Catalog(currency=currency, products=products)
