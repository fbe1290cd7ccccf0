"""Downgrade pre-flight: reported usage against lower limits (billing-rules.md §8)."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.domain.limits import UNLIMITED, EffectiveLimits, LimitValue, apply_overrides
from bridge.domain.membership import Site

_NOUNS = {
    "post": ("published post", "published posts"),
    "page": ("published page", "published pages"),
}


@dataclass(frozen=True)
class Block:
    """One reason a change cannot go through: a site (or the membership) over a new limit."""

    site_id: int | None
    site_name: str | None
    limit: str
    usage: int
    allowed: int
    message: str
    code: str = "over_quota"


def _over(usage: int, allowed: LimitValue) -> bool:
    return allowed != UNLIMITED and isinstance(allowed, int) and usage > allowed


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def preflight(sites: tuple[Site, ...], limits: EffectiveLimits, plan_name: str) -> list[Block]:
    """Every breach of `limits` by the sites' last reported usage, with what to do about it."""
    blocks: list[Block] = []
    for site in sites:
        site_limits = apply_overrides(limits, site.overrides)
        usage = site.usage
        for post_type in sorted(usage.posts):
            count = usage.posts[post_type]
            allowed = site_limits.post_limit(post_type)
            if _over(count, allowed):
                assert isinstance(allowed, int)
                one, many = _NOUNS.get(
                    post_type, (f"published {post_type}", f"published {post_type} items")
                )
                extra = count - allowed
                blocks.append(
                    Block(
                        site.id,
                        site.name,
                        f"posts.{post_type}",
                        count,
                        allowed,
                        f"{site.name} has {_plural(count, one, many)}; {plan_name} allows {allowed}. "
                        f"Move {_plural(extra, one.split(' ', 1)[1], many.split(' ', 1)[1])} to the trash to downgrade.",
                    )
                )
        checks = (
            (
                "disk_mb",
                usage.disk_mb,
                "uses {n} MB of disk space",
                "{a} MB",
                "Delete {x} MB of files",
            ),
            ("users", usage.users, "has {n} users", "{a}", "Remove {x} users from the site"),
            (
                "custom_domains",
                usage.custom_domains,
                "has {n} custom domains",
                "{a}",
                "Remove {x} custom domains",
            ),
        )
        for key, used, has, allows, todo in checks:
            allowed = site_limits.scalar(key)
            if _over(used, allowed):
                assert isinstance(allowed, int)
                blocks.append(
                    Block(
                        site.id,
                        site.name,
                        key,
                        used,
                        allowed,
                        f"{site.name} {has.format(n=used)}; {plan_name} allows {allows.format(a=allowed)}. "
                        f"{todo.format(x=used - allowed)} to downgrade.",
                    )
                )
    allowed_sites = limits.sites
    if _over(len(sites), allowed_sites):
        assert isinstance(allowed_sites, int)
        extra = len(sites) - allowed_sites
        blocks.append(
            Block(
                None,
                None,
                "sites",
                len(sites),
                allowed_sites,
                f"Your membership has {len(sites)} sites; {plan_name} allows {allowed_sites}. "
                f"Delete or move {_plural(extra, 'site', 'sites')} to downgrade.",
            )
        )
    return blocks
