"""TEMPORARY (replaced by the shape branch): the pushed documents' shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bridge.domain.documents import instant


def limits_document(
    *,
    site_id: int,
    version: int,
    issued_at: datetime,
    limits: Mapping[str, Any],
    membership: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "version": version,
        "issued_at": instant(issued_at),
        "limits": dict(limits),
        "membership": None if membership is None else dict(membership),
    }


def default_limits_document(
    *, version: int, issued_at: datetime, limits: Mapping[str, Any]
) -> dict[str, Any]:
    return {"version": version, "issued_at": instant(issued_at), "limits": dict(limits)}
