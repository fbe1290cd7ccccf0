"""What the owner gets: limits as rows of a table, each in the reader's words with its unit.

The documents carry limits as {"visits": 1000, "disk_mb": 100, "posts": {"post": 5}, ...}
where a missing limit or the word "unlimited" means no limit (quote-cli.md, catalog format).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.api.checkout.i18n import Habits

UNLIMITED = "unlimited"
# The order rows are shown in; posts come per post type after visits and disk.
SCALARS = ("visits", "disk_mb", "users", "sites", "custom_domains")


@dataclass(frozen=True)
class LimitRow:
    key: str  # "visits", "posts.post", ...
    label: str
    today: str | None
    chosen: str
    lower: bool  # the choice allows less than today
    higher: bool


def _value(limits: Mapping[str, Any] | None, key: str) -> Any:
    if limits is None:
        return None
    if key.startswith("posts."):
        posts = limits.get("posts")
        return (
            posts.get(key.split(".", 1)[1], UNLIMITED) if isinstance(posts, Mapping) else UNLIMITED
        )
    return limits.get(key, UNLIMITED)


def label(h: Habits, key: str) -> str:
    labels = {
        "visits": h.gettext("Visits a month"),
        "disk_mb": h.gettext("Disk space"),
        "users": h.gettext("Users"),
        "sites": h.gettext("Sites"),
        "custom_domains": h.gettext("Custom domains"),
        "posts.post": h.gettext("Posts"),
        "posts.page": h.gettext("Pages"),
    }
    if key in labels:
        return labels[key]
    return h.gettext("Items of type %(type)s") % {"type": key.split(".", 1)[-1]}


def amount(h: Habits, key: str, value: Any) -> str:
    """One limit's value with its unit: "100 MB", "1,000", "Unlimited"."""
    if value is None or value == UNLIMITED or not isinstance(value, int):
        return h.gettext("Unlimited")
    if key == "disk_mb":
        if value >= 1024 and value % 1024 == 0:
            return h.gettext("%(gb)s GB") % {"gb": h.number(value // 1024)}
        return h.gettext("%(mb)s MB") % {"mb": h.number(value)}
    return h.number(value)


def _keys(*limits: Mapping[str, Any] | None) -> list[str]:
    types: list[str] = []
    for found in limits:
        posts = (found or {}).get("posts")
        if isinstance(posts, Mapping):
            types += [t for t in posts if t not in types]
    ordered = sorted(types, key=lambda t: (t != "post", t != "page", t))
    return [
        "visits",
        "disk_mb",
        *(f"posts.{t}" for t in ordered),
        "users",
        "sites",
        "custom_domains",
    ]


def _less(a: Any, b: Any) -> bool:
    """Whether limit `a` allows less than `b` (unlimited is the most)."""
    if a == b:
        return False
    if not isinstance(a, int):
        return False
    return not isinstance(b, int) or a < b


def rows(
    h: Habits, chosen: Mapping[str, Any], today: Mapping[str, Any] | None = None
) -> tuple[LimitRow, ...]:
    """The chosen limits beside today's (when given), one row per limit."""
    found = []
    for key in _keys(chosen, today):
        new, old = _value(chosen, key), _value(today, key)
        found.append(
            LimitRow(
                key=key,
                label=label(h, key),
                today=amount(h, key, old) if today is not None else None,
                chosen=amount(h, key, new),
                lower=today is not None and _less(new, old),
                higher=today is not None and _less(old, new),
            )
        )
    return tuple(found)
