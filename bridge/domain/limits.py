"""Per-site limits: merging a plan with its packages, and operator overrides (billing-rules.md §2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Unlimited = Literal["unlimited"]
UNLIMITED: Unlimited = "unlimited"
LimitValue: TypeAlias = int | Unlimited

SCALAR_LIMITS: tuple[str, ...] = ("visits", "disk_mb", "users", "custom_domains", "sites")
LIMIT_KEYS: tuple[str, ...] = ("visits", "disk_mb", "posts", "users", "custom_domains", "sites")


@dataclass(frozen=True)
class Limits:
    """A set of limits as written in the catalog; a key that is absent is `None` here."""

    visits: LimitValue | None = None
    disk_mb: LimitValue | None = None
    users: LimitValue | None = None
    custom_domains: LimitValue | None = None
    sites: LimitValue | None = None
    posts: Mapping[str, LimitValue] = field(default_factory=dict)

    def scalar(self, key: str) -> LimitValue | None:
        value: LimitValue | None = getattr(self, key)
        return value

    def is_empty(self) -> bool:
        return not self.posts and all(self.scalar(k) is None for k in SCALAR_LIMITS)


@dataclass(frozen=True)
class EffectiveLimits:
    """Limits in force: every scalar is set; a post type that is not listed is unlimited."""

    visits: LimitValue
    disk_mb: LimitValue
    users: LimitValue
    custom_domains: LimitValue
    sites: LimitValue
    posts: Mapping[str, LimitValue]

    def scalar(self, key: str) -> LimitValue:
        value: LimitValue = getattr(self, key)
        return value

    def post_limit(self, post_type: str) -> LimitValue:
        return self.posts.get(post_type, UNLIMITED)

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {k: self.scalar(k) for k in SCALAR_LIMITS}
        doc["posts"] = dict(sorted(self.posts.items()))
        return {k: doc[k] for k in LIMIT_KEYS}


def _add(a: LimitValue, b: LimitValue) -> LimitValue:
    if a == UNLIMITED or b == UNLIMITED:
        return UNLIMITED
    assert isinstance(a, int) and isinstance(b, int)
    return a + b


def _times(value: LimitValue, quantity: int) -> LimitValue:
    if value == UNLIMITED:
        return UNLIMITED if quantity > 0 else 0
    assert isinstance(value, int)
    return value * quantity


def merge_limits(plan: Limits, packages: Iterable[tuple[Limits, int]]) -> EffectiveLimits:
    """Plan + Σ(package × quantity); a plan that omits a limit is unlimited; unlimited wins."""
    scalars: dict[str, LimitValue] = {
        "visits": UNLIMITED if plan.visits is None else plan.visits,
        "disk_mb": UNLIMITED if plan.disk_mb is None else plan.disk_mb,
        "users": UNLIMITED if plan.users is None else plan.users,
        "custom_domains": UNLIMITED if plan.custom_domains is None else plan.custom_domains,
        "sites": UNLIMITED if plan.sites is None else plan.sites,
    }
    posts: dict[str, LimitValue] = dict(plan.posts)
    for package, quantity in packages:
        for key in SCALAR_LIMITS:
            extra = getattr(package, key)
            if extra is not None:
                scalars[key] = _add(scalars[key], _times(extra, quantity))
        for post_type, extra in package.posts.items():
            # A post type the plan does not limit stays unlimited whatever packages add.
            if post_type in posts:
                posts[post_type] = _add(posts[post_type], _times(extra, quantity))
    return EffectiveLimits(posts=posts, **scalars)


def apply_overrides(limits: EffectiveLimits, overrides: Limits | None) -> EffectiveLimits:
    """An operator override replaces the merged value key by key, and post type by post type."""
    if overrides is None or overrides.is_empty():
        return limits
    scalars = {k: limits.scalar(k) for k in SCALAR_LIMITS}
    for key in SCALAR_LIMITS:
        value = overrides.scalar(key)
        if value is not None:
            scalars[key] = value
    posts = dict(limits.posts)
    posts.update(overrides.posts)
    return EffectiveLimits(posts=posts, **scalars)


def lowers_any(before: EffectiveLimits, after: EffectiveLimits) -> bool:
    """True when some limit of `after` is tighter than in `before`."""

    def tighter(old: LimitValue, new: LimitValue) -> bool:
        if new == UNLIMITED:
            return False
        if old == UNLIMITED:
            return True
        assert isinstance(old, int) and isinstance(new, int)
        return new < old

    if any(tighter(before.scalar(k), after.scalar(k)) for k in SCALAR_LIMITS):
        return True
    types = set(before.posts) | set(after.posts)
    return any(tighter(before.post_limit(t), after.post_limit(t)) for t in types)
