"""`bridge quote SCENARIO.json`: the offline quote of quote-cli.md, on the same domain code.

Exit codes: 0 quote printed; 2 malformed scenario (one line on stderr naming the field);
3 a well-formed selection the rules refuse (`{"error": {...}}` on stdout).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.catalog_file import catalog_from, load_catalog_sections, policy_from, tax_from
from bridge.domain.catalog import Catalog, Policy, parse_billing, parse_limits
from bridge.domain.documents import quote_document
from bridge.domain.errors import NotEligible
from bridge.domain.invoicing import paid_value_of
from bridge.domain.membership import (
    STATUSES,
    Holding,
    Membership,
    ScheduledChange,
    Selection,
    Site,
    Usage,
)
from bridge.domain.money import MoneyError, parse_amount
from bridge.domain.periods import BillingOption
from bridge.domain.proration import quote_change
from bridge.domain.tax import Tax, parse_rate
from bridge.errors import ConfigError, ScenarioError


def _field(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> Any:
    if key not in data:
        if required:
            raise ScenarioError(f"{where}{key}: is required")
        return None
    return data[key]


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected an object, got {json.dumps(value)}")
    return value


def parse_instant(value: Any, where: str) -> datetime:
    """An ISO 8601 instant with a timezone, converted to UTC."""
    if not isinstance(value, str):
        raise ScenarioError(
            f'{where}: expected an ISO 8601 instant such as "2026-04-11T00:00:00Z", got {json.dumps(value)}'
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: '{value}' is not an ISO 8601 instant") from None
    if parsed.tzinfo is None:
        raise ScenarioError(f"{where}: '{value}' has no timezone; add Z for UTC")
    return parsed.astimezone(UTC)


def _amount(value: Any, currency: str, where: str) -> int:
    try:
        if not isinstance(value, str):
            raise MoneyError(f'expected a decimal string such as "29.00", got {json.dumps(value)}')
        amount = parse_amount(value, currency)
    except MoneyError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    if amount < 0:
        raise ScenarioError(f"{where}: must not be negative")
    return amount


def _billing(value: Any, where: str) -> BillingOption:
    try:
        return parse_billing(value)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{where}: expected a whole number ≥ 0, got {json.dumps(value)}")
    return value


def _usage(value: Any, where: str) -> Usage:
    data = _object(value if value is not None else {}, where)
    posts_raw = _object(data.get("posts", {}), f"{where}.posts")
    posts = {str(k): _whole(v, f"{where}.posts.{k}") for k, v in posts_raw.items()}
    known = {"posts", "disk_mb", "users", "visits", "custom_domains"}
    for key in data:
        if key not in known:
            raise ScenarioError(
                f"{where}.{key}: unknown usage field (known: {', '.join(sorted(known))})"
            )
    return Usage(
        posts=posts,
        disk_mb=_whole(data.get("disk_mb", 0), f"{where}.disk_mb"),
        users=_whole(data.get("users", 0), f"{where}.users"),
        visits=_whole(data.get("visits", 0), f"{where}.visits"),
        custom_domains=_whole(data.get("custom_domains", 0), f"{where}.custom_domains"),
    )


def _limits_or_none(value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        return parse_limits(value)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _sites(value: Any) -> tuple[Site, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ScenarioError("membership.sites: expected a list of sites")
    sites = []
    for i, raw in enumerate(value):
        where = f"membership.sites[{i}]"
        data = _object(raw, where)
        site_id = _field(data, "id", f"{where}.")
        if isinstance(site_id, bool) or not isinstance(site_id, int):
            raise ScenarioError(f"{where}.id: expected a whole number")
        name = data.get("name", f"Site {site_id}")
        if not isinstance(name, str):
            raise ScenarioError(f"{where}.name: expected a string")
        sites.append(
            Site(
                site_id,
                name,
                _usage(data.get("usage"), f"{where}.usage"),
                _limits_or_none(data.get("overrides"), f"{where}.overrides"),
            )
        )
    return tuple(sites)


def _holdings(value: Any, currency: str, where: str) -> dict[str, Holding]:
    data = _object(value if value is not None else {}, where)
    holdings = {}
    for addon_id, raw in data.items():
        item = _object(raw, f"{where}.{addon_id}")
        quantity = _whole(
            _field(item, "quantity", f"{where}.{addon_id}."), f"{where}.{addon_id}.quantity"
        )
        price = _amount(
            _field(item, "price", f"{where}.{addon_id}."), currency, f"{where}.{addon_id}.price"
        )
        holdings[str(addon_id)] = Holding(quantity, price)
    return holdings


def parse_membership(value: Any, catalog: Catalog) -> Membership:
    """The scenario's membership object (quote-cli.md "Input")."""
    data = _object(value, "membership")
    c = catalog.currency
    plan = _field(data, "plan", "membership.")
    if not isinstance(plan, str):
        raise ScenarioError("membership.plan: expected a product id string")
    billing = _billing(_field(data, "billing", "membership."), "membership.billing")
    status = data.get("status", "active")
    if status not in STATUSES:
        raise ScenarioError(
            f"membership.status: expected one of {', '.join(STATUSES)}, got {json.dumps(status)}"
        )
    period_start = parse_instant(
        _field(data, "period_start", "membership."), "membership.period_start"
    )
    end_raw = data.get("period_end")
    period_end = None if end_raw is None else parse_instant(end_raw, "membership.period_end")
    if period_end is None and not billing.is_once:
        raise ScenarioError("membership.period_end: is required for a recurring plan")
    if period_end is not None and period_end <= period_start:
        raise ScenarioError("membership.period_end: must be after period_start")
    anchor = (
        parse_instant(data["anchor"], "membership.anchor") if data.get("anchor") else period_start
    )
    trial_end = (
        parse_instant(data["trial_end"], "membership.trial_end") if data.get("trial_end") else None
    )
    if status == "trialing" and trial_end is None:
        raise ScenarioError("membership.trial_end: is required while trialing")
    if status == "trialing":
        period_end = trial_end
    plan_price = _amount(_field(data, "plan_price", "membership."), c, "membership.plan_price")
    rate_paid = data.get("tax_rate_paid")
    if rate_paid is not None:
        try:
            rate_paid = parse_rate(rate_paid)
        except ValueError as exc:
            raise ScenarioError(f"membership.tax_rate_paid: {exc}") from None
    addons = _holdings(data.get("addons"), c, "membership.addons")
    membership = Membership(
        plan=plan,
        billing=billing,
        plan_price_minor=plan_price,
        status=status,
        anchor=anchor,
        period_start=period_start,
        period_end=period_end,
        currency=c,
        addons=addons,
        trial_end=trial_end,
        setup_fee_paid_minor=_amount(
            data.get("setup_fee_paid", "0"), c, "membership.setup_fee_paid"
        ),
        balance_minor=_amount(data.get("balance", "0"), c, "membership.balance"),
        tax_rate_paid=rate_paid,
        sites=_sites(data.get("sites")),
        overrides=_limits_or_none(data.get("overrides"), "membership.overrides"),
        version=_whole(data.get("version", 1), "membership.version"),
    )
    if data.get("scheduled_change") is not None:
        sc = _object(data["scheduled_change"], "membership.scheduled_change")
        membership = _with_scheduled(membership, sc, c)
    if "paid_value" in data:
        paid = _amount(data["paid_value"], c, "membership.paid_value")
    elif status == "trialing":
        paid = 0
    else:  # by default, the full-period value of what the membership holds
        if plan not in catalog.products:
            raise ScenarioError(f"membership.plan: '{plan}' is not in the catalog")
        paid = paid_value_of(catalog, membership)
    return replace(membership, paid_value_minor=paid)


def _with_scheduled(membership: Membership, sc: Mapping[str, Any], currency: str) -> Membership:
    where = "membership.scheduled_change"
    plan = _field(sc, "plan", f"{where}.")
    change = ScheduledChange(
        effective_at=parse_instant(
            _field(sc, "effective_at", f"{where}."), f"{where}.effective_at"
        ),
        plan=str(plan),
        billing=_billing(_field(sc, "billing", f"{where}."), f"{where}.billing"),
        plan_price_minor=_amount(
            _field(sc, "plan_price", f"{where}."), currency, f"{where}.plan_price"
        ),
        addons=_holdings(sc.get("addons"), currency, f"{where}.addons"),
    )
    return replace(membership, scheduled_change=change)


def parse_selection(value: Any) -> Selection:
    data = _object(value, "selection")
    for key in data:
        if key not in ("plan", "billing", "addons"):
            raise ScenarioError(f"selection.{key}: unknown field (known: plan, billing, addons)")
    plan = _field(data, "plan", "selection.")
    if not isinstance(plan, str):
        raise ScenarioError("selection.plan: expected a product id string")
    billing = (
        _billing(data["billing"], "selection.billing") if data.get("billing") is not None else None
    )
    addons = None
    if data.get("addons") is not None:
        raw = _object(data["addons"], "selection.addons")
        # Quantities are checked by the rules (invalid_quantity, exit 3), only the shape here.
        addons = {str(k): v for k, v in raw.items()}
    return Selection(plan=plan, billing=billing, addons=addons)


def load_scenario(
    path: Path,
) -> tuple[Catalog, Policy, Membership, Selection, datetime, Tax | None]:
    """Read and check a scenario file; ScenarioError or ConfigError name what is wrong. The
    scenario's `tax` (or `"tax": null`) wins over the catalog file's, like `policy`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read the scenario ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    data = _object(data, "scenario")
    for key in data:
        if key not in ("catalog", "policy", "tax", "membership", "selection", "at"):
            raise ScenarioError(
                f"{key}: unknown field (known: catalog, policy, tax, membership, selection, at)"
            )
    raw_catalog = _field(data, "catalog", "")
    file_policy: Policy | None = None
    tax: Tax | None = None
    if isinstance(raw_catalog, str):
        catalog_path = (path.parent / raw_catalog).resolve()
        catalog, file_policy, tax = load_catalog_sections(catalog_path)
    elif isinstance(raw_catalog, Mapping):
        catalog = catalog_from(path, raw_catalog)
    else:
        raise ScenarioError("catalog: expected a path to a YAML file or the catalog object")
    policy = policy_from(path, data.get("policy"), file_policy or Policy())
    if "tax" in data:
        tax = tax_from(path, data["tax"])
    membership = parse_membership(_field(data, "membership", ""), catalog)
    selection = parse_selection(_field(data, "selection", ""))
    at = parse_instant(_field(data, "at", ""), "at")
    return catalog, policy, membership, selection, at, tax


def run_quote(path: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `bridge quote PATH`."""
    scenario = Path(path)
    try:
        catalog, policy, membership, selection, at, tax = load_scenario(scenario)
    except (ScenarioError, ConfigError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (
            2,
            "",
            f"{scenario}: {first_line}\n"
            if not first_line.startswith(str(scenario))
            else first_line + "\n",
        )
    try:
        quote = quote_change(catalog, policy, membership, selection, at, tax)
    except NotEligible as exc:
        body = {"error": {"code": exc.code, "message": exc.message}}
        return 3, json.dumps(body, ensure_ascii=False, indent=2) + "\n", ""
    return 0, json.dumps(quote_document(quote), ensure_ascii=False, indent=2) + "\n", ""
