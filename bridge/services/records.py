"""Between JSON (stored columns, invoice snapshots) and domain values: memberships, schedules,
limits, usage, selections. The storage adapter and the use cases both read and write these shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bridge.domain.catalog import parse_billing, parse_limits
from bridge.domain.documents import instant
from bridge.domain.limits import SCALAR_LIMITS, Limits
from bridge.domain.membership import (
    STATUSES,
    Holding,
    Membership,
    ScheduledChange,
    Selection,
    Site,
    Status,
    Usage,
)
from bridge.domain.periods import BillingOption


def parse_instant(text: Any) -> datetime:
    """ISO 8601 with Z or an offset, as aware UTC."""
    from datetime import UTC

    if isinstance(text, datetime):
        return text.astimezone(UTC)
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"'{text}' has no time zone")
    return value.astimezone(UTC)


def billing_json(billing: BillingOption) -> Any:
    return billing.to_json()


def billing_from_json(raw: Any) -> BillingOption:
    return parse_billing(raw)


def holdings_json(addons: Mapping[str, Holding]) -> dict[str, Any]:
    return {
        pid: {"quantity": h.quantity, "price_minor": h.price_minor}
        for pid, h in sorted(addons.items())
    }


def holdings_from_json(raw: Mapping[str, Any] | None) -> dict[str, Holding]:
    return {
        str(pid): Holding(int(h["quantity"]), int(h["price_minor"]))
        for pid, h in (raw or {}).items()
    }


def scheduled_json(change: ScheduledChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "effective_at": instant(change.effective_at),
        "plan": change.plan,
        "billing": billing_json(change.billing),
        "plan_price_minor": change.plan_price_minor,
        "addons": holdings_json(change.addons),
        "cancels": change.cancels,
    }


def scheduled_from_json(raw: Mapping[str, Any] | None) -> ScheduledChange | None:
    if raw is None:
        return None
    return ScheduledChange(
        effective_at=parse_instant(raw["effective_at"]),
        plan=str(raw["plan"]),
        billing=billing_from_json(raw["billing"]),
        plan_price_minor=int(raw["plan_price_minor"]),
        addons=holdings_from_json(raw.get("addons")),
        cancels=bool(raw.get("cancels", False)),
    )


def limits_json(limits: Limits | None) -> dict[str, Any] | None:
    """Only the keys that are set; None for no overrides at all."""
    if limits is None or limits.is_empty():
        return None
    doc: dict[str, Any] = {}
    for key in SCALAR_LIMITS:
        value = limits.scalar(key)
        if value is not None:
            doc[key] = value
    if limits.posts:
        doc["posts"] = dict(sorted(limits.posts.items()))
    return doc


def limits_from_json(raw: Mapping[str, Any] | None) -> Limits | None:
    if not raw:
        return None
    return parse_limits(raw)


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "posts": dict(sorted(usage.posts.items())),
        "disk_mb": usage.disk_mb,
        "users": usage.users,
        "visits": usage.visits,
        "custom_domains": usage.custom_domains,
    }


def _count(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} must be a whole number ≥ 0, not {value!r}")
    return value


def usage_from_json(raw: Mapping[str, Any] | None) -> Usage:
    """A usage report; raises ValueError naming the field for malformed data."""
    if not raw:
        return Usage()
    if not isinstance(raw, Mapping):
        raise ValueError("usage must be an object")
    posts_raw = raw.get("posts") or {}
    if not isinstance(posts_raw, Mapping):
        raise ValueError("usage.posts must be an object of counts per post type")
    posts = {str(k): _count(f"usage.posts.{k}", v) for k, v in posts_raw.items()}
    return Usage(
        posts=posts,
        disk_mb=_count("usage.disk_mb", raw.get("disk_mb", 0)),
        users=_count("usage.users", raw.get("users", 0)),
        visits=_count("usage.visits", raw.get("visits", 0)),
        custom_domains=_count("usage.custom_domains", raw.get("custom_domains", 0)),
    )


def status_of(raw: str) -> Status:
    if raw not in STATUSES:
        raise ValueError(f"unknown membership status {raw!r}")
    return raw  # type: ignore[return-value]


def membership_snapshot(m: Membership) -> dict[str, Any]:
    """A membership as JSON, to recompute a quote later with exactly the same inputs."""
    return {
        "plan": m.plan,
        "billing": billing_json(m.billing),
        "plan_price_minor": m.plan_price_minor,
        "status": m.status,
        "anchor": instant(m.anchor),
        "period_start": instant(m.period_start),
        "period_end": instant(m.period_end),
        "currency": m.currency,
        "addons": holdings_json(m.addons),
        "trial_end": instant(m.trial_end),
        "paid_value_minor": m.paid_value_minor,
        "setup_fee_paid_minor": m.setup_fee_paid_minor,
        "tax_rate_paid": m.tax_rate_paid,
        "balance_minor": m.balance_minor,
        "scheduled_change": scheduled_json(m.scheduled_change),
        "sites": [
            {
                "id": s.id,
                "name": s.name,
                "usage": usage_json(s.usage),
                "overrides": limits_json(s.overrides),
            }
            for s in m.sites
        ],
        "overrides": limits_json(m.overrides),
        "version": m.version,
    }


def membership_from_snapshot(raw: Mapping[str, Any]) -> Membership:
    def when(key: str) -> datetime | None:
        value = raw.get(key)
        return None if value is None else parse_instant(value)

    anchor, start = when("anchor"), when("period_start")
    assert anchor is not None and start is not None
    return Membership(
        plan=str(raw["plan"]),
        billing=billing_from_json(raw["billing"]),
        plan_price_minor=int(raw["plan_price_minor"]),
        status=status_of(str(raw["status"])),
        anchor=anchor,
        period_start=start,
        period_end=when("period_end"),
        currency=str(raw["currency"]),
        addons=holdings_from_json(raw.get("addons")),
        trial_end=when("trial_end"),
        paid_value_minor=int(raw["paid_value_minor"]),
        setup_fee_paid_minor=int(raw["setup_fee_paid_minor"]),
        tax_rate_paid=None if raw.get("tax_rate_paid") is None else str(raw["tax_rate_paid"]),
        balance_minor=int(raw["balance_minor"]),
        scheduled_change=scheduled_from_json(raw.get("scheduled_change")),
        sites=tuple(
            Site(
                id=int(s["id"]),
                name=str(s["name"]),
                usage=usage_from_json(s.get("usage")),
                overrides=limits_from_json(s.get("overrides")),
            )
            for s in raw.get("sites", [])
        ),
        overrides=limits_from_json(raw.get("overrides")),
        version=int(raw["version"]),
    )


def selection_json(selection: Selection) -> dict[str, Any]:
    return {
        "plan": selection.plan,
        "billing": None if selection.billing is None else billing_json(selection.billing),
        "addons": None if selection.addons is None else dict(sorted(selection.addons.items())),
    }


def selection_from_json(raw: Mapping[str, Any]) -> Selection:
    billing = raw.get("billing")
    addons = raw.get("addons")
    return Selection(
        plan=str(raw["plan"]),
        billing=None if billing is None else billing_from_json(billing),
        addons=None if addons is None else {str(k): int(v) for k, v in addons.items()},
    )
