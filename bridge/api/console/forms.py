"""The product form of the console: a product's catalog fields to form values and back.

The form only reshapes text into the catalog format; every rule (amounts, limits, billing,
add-on periods) is the domain's, whose problems name the field they belong next to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bridge.domain.catalog import Product
from bridge.domain.catalog_data import product_data
from bridge.domain.errors import CatalogProblem
from bridge.domain.limits import SCALAR_LIMITS

UNITS = ("day", "week", "month", "year", "once")
FIELDS = (
    "name",
    "kind",
    "price",
    "billing",
    "setup_fee",
    "trial_days",
    "limits",
    "addons",
    "variations",
    "active",
)
_VARIATION = re.compile(r"^\s*(\d+)\s+(day|week|month|year)s?\s+(\S+)\s*$")


def form_values(product: Product | None, currency: str) -> dict[str, Any]:
    """What the form shows for `product` (empty for a new one)."""
    if product is None:
        return {"kind": "plan", "billing_every": "1", "billing_unit": "month", "active": True}
    data = product_data(product, currency)
    billing = data["billing"]
    limits: Mapping[str, Any] = data.get("limits", {})  # type: ignore[assignment]
    values: dict[str, Any] = {
        "id": product.id,
        "name": product.name,
        "kind": product.kind,
        "price": data["price"],
        "billing_every": "" if billing == "once" else str(billing["every"]),  # type: ignore[index]
        "billing_unit": "once" if billing == "once" else billing["unit"],  # type: ignore[index]
        "setup_fee": data.get("setup_fee", ""),
        "trial_days": str(product.trial_days) if product.trial_days else "",
        "addons": list(product.addons),
        "variations": "\n".join(
            f"{v.billing.every} {v.billing.unit} {p['price']}"
            for v, p in zip(product.variations, data.get("variations", []), strict=True)  # type: ignore[call-overload]
        ),
        "active": product.active,
        "posts": ", ".join(f"{k}={v}" for k, v in limits.get("posts", {}).items()),
    }
    for key in SCALAR_LIMITS:
        values[f"limit_{key}"] = "" if key not in limits else str(limits[key])
    return values


def _limit(text: str) -> object:
    text = text.strip()
    return int(text) if text.isdigit() else text


def product_from_form(
    pid: str, form: Mapping[str, str], addons: list[str], base: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[CatalogProblem]]:
    """The product's catalog fields from the form, over `base` (its stored fields, which keep
    what the form does not show: group, order, texts per language)."""
    problems: list[CatalogProblem] = []
    out: dict[str, Any] = dict(base or {})
    kind = form.get("kind", out.get("kind", "plan"))
    out["name"] = form.get("name", "").strip()
    out["kind"] = kind
    out["price"] = form.get("price", "").strip()
    unit = form.get("billing_unit", "month")
    if unit == "once":
        out["billing"] = "once"
    else:
        every_text = form.get("billing_every", "1").strip() or "1"
        out["billing"] = {
            "every": int(every_text) if every_text.isdigit() else every_text,
            "unit": unit,
        }
    fee = form.get("setup_fee", "").strip()
    if fee:
        out["setup_fee"] = fee
    else:
        out.pop("setup_fee", None)
    out["active"] = form.get("active") == "on"
    if out["active"]:
        out.pop("active")
    if kind == "plan":
        trial = form.get("trial_days", "").strip()
        if trial:
            out["trial_days"] = int(trial) if trial.isdigit() else trial
        else:
            out.pop("trial_days", None)
        out["addons"] = addons
        variations = []
        for n, line in enumerate(form.get("variations", "").splitlines(), 1):
            if not line.strip():
                continue
            match = _VARIATION.match(line)
            if match is None:
                problems.append(
                    CatalogProblem(
                        pid, "variations", f'line {n}: write "1 year 290.00" (every, unit, price)'
                    )
                )
                continue
            every, unit_name, price = match.groups()
            variations.append({"billing": {"every": int(every), "unit": unit_name}, "price": price})
        out["variations"] = variations
    else:
        for key in ("trial_days", "addons", "variations", "group", "order"):
            out.pop(key, None)
    limits: dict[str, Any] = {}
    if kind != "service":
        for key in SCALAR_LIMITS:
            text = form.get(f"limit_{key}", "").strip()
            if text:
                limits[key] = _limit(text)
        posts_text = form.get("posts", "").strip()
        if posts_text:
            posts: dict[str, object] = {}
            for item in posts_text.split(","):
                name, sep, value = item.partition("=")
                if not sep or not name.strip():
                    problems.append(CatalogProblem(pid, "limits", 'posts: write "post=10, page=5"'))
                    break
                posts[name.strip()] = _limit(value)
            limits["posts"] = posts
    if limits:
        out["limits"] = limits
    else:
        out.pop("limits", None)
    return {k: v for k, v in out.items() if v != [] or k == "addons"}, problems


def field_of(problem: CatalogProblem) -> str:
    """The form field a domain problem belongs next to: a limit's problem (its message starts
    with the limit's name) goes next to that limit's own input."""
    name = problem.field.split(".")[0].split("[")[0]
    if name == "limits":
        head = re.split(r"[\s.:]", problem.message.strip(), maxsplit=1)[0]
        if head in SCALAR_LIMITS:
            return f"limit_{head}"
        if head == "posts":
            return "posts"
    return name if name in FIELDS else "(product)"
