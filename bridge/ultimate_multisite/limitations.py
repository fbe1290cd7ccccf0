"""UM limitation modules (`wu_limitations`) → our limits; one small rule per module (schema.md §2.4).

A module is `{enabled, limit[, mode]}`; `enabled` defaults to true when missing; admin saves
store the posted string ("5", ""), the migrator and the API ints. The rules:

| module           | UM encoding                                  | ours                          |
|------------------|----------------------------------------------|-------------------------------|
| visits           | '' or 0 → unlimited; module off → unlimited   | visits                        |
| disk_space       | MB per site; module off → WordPress's default | disk_mb (off → unlimited,     |
|                  | quota applied (noted)                        | noted)                        |
| post_types       | per type {enabled, number}: off → 0;         | posts per type                |
|                  | '' / 0 → unlimited; module off → no limits   |                               |
| users            | per role {enabled, number}: the sum of the    | users                         |
|                  | enabled roles; unlimited if any role is       |                               |
| sites            | '' → 1; module off → unlimited               | sites                         |
| domain_mapping   | off or false → 0; true / null → unlimited;    | custom_domains                |
|                  | int → that many                               |                               |
| plugins, themes, site_templates, customer_user_role, hide_credits: no counterpart (noted) |

The result keeps only the modules that were present: a plan stores every module, an add-on
and an override only their difference (schema.md §2.3), and an absent key is "no own limit".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.domain.limits import UNLIMITED, Limits, LimitValue
from bridge.ultimate_multisite.serialized import PhpObject, Unreadable

NO_COUNTERPART = ("plugins", "themes", "site_templates", "customer_user_role", "hide_credits")


@dataclass(frozen=True)
class Mapped:
    """The limits read from one `wu_limitations` value, and what the report must say."""

    limits: Limits
    notes: tuple[str, ...] = ()
    unreadable: str | None = None


def _enabled(module: Mapping[str, Any], default: bool = True) -> bool:
    value = module.get("enabled", default)
    if isinstance(value, str):
        return value not in ("", "0", "false")
    return bool(value)


def _number(value: Any) -> int | None:
    """An int from an int, a float or a digit string; None for '' / None / anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _zero_or_empty_unlimited(value: Any) -> LimitValue | None:
    """'' / None / 0 → unlimited; a number → itself; None when it is not a number at all."""
    if value is None or value == "":
        return UNLIMITED
    number = _number(value)
    if number is None:
        return None
    return UNLIMITED if number <= 0 else number


Rule = Callable[[Mapping[str, Any], list[str]], dict[str, Any]]


def _visits(module: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    if not _enabled(module):
        return {"visits": UNLIMITED}
    value = _zero_or_empty_unlimited(module.get("limit"))
    if value is None:
        notes.append(f"visits limit {module.get('limit')!r} is not a number; left unlimited")
        value = UNLIMITED
    return {"visits": value}


def _disk(module: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    if not _enabled(module):
        notes.append(
            "disk_space module off: WordPress's default upload quota applied there; "
            "imported as unlimited"
        )
        return {"disk_mb": UNLIMITED}
    number = _number(module.get("limit"))
    if number is None or number < 0:
        notes.append(
            f"disk_space limit {module.get('limit')!r} has no number; imported as unlimited"
        )
        return {"disk_mb": UNLIMITED}
    return {"disk_mb": number}


def _subtypes(module: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    raw = module.get("limit")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, Mapping)}


def _subtype_value(sub: Mapping[str, Any]) -> LimitValue | None:
    if not _enabled(sub):
        return 0
    return _zero_or_empty_unlimited(sub.get("number"))


def _posts(module: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    if not _enabled(module):
        return {"posts": {}}
    posts: dict[str, LimitValue] = {}
    for post_type, sub in _subtypes(module).items():
        value = _subtype_value(sub)
        if value is None:
            notes.append(f"post type {post_type}: {sub.get('number')!r} is not a number; skipped")
            continue
        posts[post_type] = value
    return {"posts": posts}


def _users(module: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    if not _enabled(module):
        return {"users": UNLIMITED}
    roles = _subtypes(module)
    if not roles:
        return {"users": UNLIMITED}
    total = 0
    for role, sub in roles.items():
        value = _subtype_value(sub)
        if value == UNLIMITED:
            notes.append(f"users: role {role} is unlimited, so users are unlimited")
            return {"users": UNLIMITED}
        if isinstance(value, int):
            total += value
    notes.append(
        f"users: per-role limits ({', '.join(sorted(roles))}) imported as their sum {total}"
    )
    return {"users": total}


def _sites(module: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    if not _enabled(module):
        return {"sites": UNLIMITED}
    raw = module.get("limit")
    if raw is None or raw == "":
        return {"sites": 1}
    number = _number(raw)
    if number is None or number < 1:
        notes.append(f"sites limit {raw!r} clamped to 1")
        return {"sites": 1}
    return {"sites": number}


def _domains(module: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    if not _enabled(module):
        return {"custom_domains": 0}
    raw = module.get("limit")
    if raw is False:
        return {"custom_domains": 0}
    if raw is True or raw is None or raw == "":
        return {"custom_domains": UNLIMITED}
    number = _number(raw)
    if number is None or number < 0:
        notes.append(f"domain_mapping limit {raw!r} is not a number; imported as unlimited")
        return {"custom_domains": UNLIMITED}
    return {"custom_domains": number}


RULES: dict[str, Rule] = {
    "visits": _visits,
    "disk_space": _disk,
    "post_types": _posts,
    "users": _users,
    "sites": _sites,
    "domain_mapping": _domains,
}


def _module(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, str):  # a module given as JSON (UM's defensive reader, schema.md §2.4)
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, PhpObject):
        value = value.props
    return value if isinstance(value, Mapping) else None


def _meaningful(module: Mapping[str, Any]) -> bool:
    limit = module.get("limit")
    return bool(limit) if not isinstance(limit, bool) else True


def map_limitations(value: Any) -> Mapped:
    """One `wu_limitations` value (already unserialized) → our limits and the report's notes."""
    if value is None or value == "":
        return Mapped(Limits())
    if isinstance(value, Unreadable):
        return Mapped(Limits(), unreadable=value.reason)
    if isinstance(value, PhpObject):
        if not value.cls.endswith("Limitations"):
            return Mapped(Limits(), unreadable=f"an object of class {value.cls}, not limitations")
        value = value.props
    if not isinstance(value, Mapping):
        return Mapped(Limits(), unreadable=f"not a map of modules: {type(value).__name__}")
    notes: list[str] = []
    fields: dict[str, Any] = {}
    for raw_id, raw_module in value.items():
        module_id = str(raw_id)
        module = _module(raw_module)
        if module is None:
            notes.append(f"module {module_id} unreadable; skipped")
            continue
        rule = RULES.get(module_id)
        if rule is not None:
            fields.update(rule(module, notes))
        elif module_id in NO_COUNTERPART:
            if _meaningful(module) and _enabled(module, module_id != "hide_credits"):
                notes.append(f"{module_id} limits have no counterpart here; not imported")
        else:
            notes.append(f"unknown module {module_id}; not imported")
    return Mapped(Limits(**fields), tuple(notes))
