"""PHP-serialized values (WordPress `maybe_serialize`) read with `phpserialize`, never with eval.

Objects become `PhpObject` (class name + properties, the `\\0*\\0` / `\\0Class\\0` visibility
prefixes stripped); PHP arrays stay dicts (lists arrive keyed 0..n). A value that cannot be
parsed is `Unreadable` with the reason, so the caller refuses it with a line in the report.
Serialized *columns* written by UM's models carry one level of addslashes (schema.md §6.1): a
failed parse is retried once without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phpserialize


@dataclass(frozen=True)
class PhpObject:
    """A PHP object as its class name and its properties by plain name."""

    cls: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unreadable:
    """A value that is not PHP-serialized data we can read, and why."""

    reason: str


_SERIALIZED = re.compile(r"^(?:[aObisdN]:|N;)")


def _object(name: Any, props: Any) -> PhpObject:
    cls = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    plain: dict[str, Any] = {}
    for key, value in dict(props).items():
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        if text.startswith("\x00"):
            text = text.split("\x00", 2)[-1]
        plain[text] = value
    return PhpObject(cls, plain)


def looks_serialized(text: str) -> bool:
    """True when `text` starts like a PHP-serialized value (WordPress's own test, simplified)."""
    return bool(_SERIALIZED.match(text.strip()))


def _loads(text: str) -> Any:
    return phpserialize.loads(
        text.encode("utf-8"), decode_strings=True, object_hook=_object, errors="strict"
    )


def unserialize(text: str | None) -> Any:
    """The value of a meta or column: parsed when serialized, else the text itself; None stays
    None; `Unreadable` when it looks serialized but cannot be read (even without slashes)."""
    if text is None:
        return None
    if not looks_serialized(text):
        return text
    try:
        return _loads(text)
    except Exception as first:  # phpserialize raises ValueError and friends on broken input
        unslashed = re.sub(r"\\(.)", r"\1", text)
        if unslashed != text:
            try:
                return _loads(unslashed)
            except Exception:
                pass
        return Unreadable(f"not readable PHP-serialized data ({type(first).__name__}: {first})")


def as_list(value: Any) -> list[Any]:
    """A PHP list (a dict keyed 0..n) or a Python list, in key order; anything else is []."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=lambda k: (str(type(k)), k))]
    return []
