"""JSON bodies and webhook `data` into the use cases' typed inputs; errors name the field.

Everything that arrives as JSON is checked here, at the edge: types, required fields, amounts
(decimal strings in the catalog's currency), instants, limits. What needs the catalog or the
stored state is checked by the use cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, cast

from bridge.domain.catalog import parse_billing, parse_limits
from bridge.domain.limits import Limits
from bridge.domain.membership import Selection
from bridge.domain.money import MoneyError, parse_amount
from bridge.errors import InvalidRequest
from bridge.services.events import (
    Event,
    InvoicePaid,
    LimitsApplied,
    SiteCreated,
    SiteDeleted,
    UnknownEvent,
    UsageReported,
)
from bridge.services.operator import AddonInput, MembershipInput, SiteInput
from bridge.services.ports import Owner
from bridge.services.records import parse_instant, usage_from_json


def parse_selection(raw: Any) -> Selection:
    """A selection: {"plan": id, "billing": "once" | {every, unit}, "addons": {id: n}}."""
    if not isinstance(raw, Mapping):
        raise InvalidRequest("The selection must be an object with a 'plan'.", "invalid_selection")
    unknown = set(raw) - {"plan", "billing", "addons"}
    if unknown:
        raise InvalidRequest(
            f"Unknown selection field '{sorted(unknown)[0]}'.", "invalid_selection"
        )
    plan = raw.get("plan")
    if not isinstance(plan, str) or not plan:
        raise InvalidRequest("'plan' must be a product id.", "invalid_selection")
    billing = None
    if raw.get("billing") is not None:
        try:
            billing = parse_billing(raw["billing"])
        except ValueError as exc:
            raise InvalidRequest(f"billing: {exc}", "invalid_selection") from exc
    addons = raw.get("addons")
    if addons is not None:
        if not isinstance(addons, Mapping):
            raise InvalidRequest("'addons' must be an object {id: quantity}.", "invalid_selection")
        # A quantity that is not a whole number from 0 to 999 is refused by the rules, in the
        # contract's order of reasons (invalid_quantity comes last), not here.
        addons = {str(k): v for k, v in addons.items()}
    return Selection(plan=plan, billing=billing, addons=addons)


def _int(data: Mapping[str, Any], key: str, code: str = "malformed_event") -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{key}' must be an integer.", code)
    return value


def _owner(raw: Any, code: str) -> Owner | None:
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidRequest("'owner' must be an object.", code)
    return Owner(
        user_id=_int(raw, "user_id", code),
        email=str(raw.get("email") or ""),
        locale=str(raw.get("locale") or "en_US"),
    )


def _site_fields(data: Mapping[str, Any], code: str) -> tuple[str, str]:
    url, name = data.get("url"), data.get("name")
    if not isinstance(url, str) or not isinstance(name, str):
        raise InvalidRequest("'url' and 'name' must be strings.", code)
    return url, name


def _timezone(data: Mapping[str, Any]) -> str | None:
    value = data.get("timezone")
    return value if isinstance(value, str) else None


def parse_event(type: str, data: Mapping[str, Any], currency: str) -> Event:
    """A verified event's `data` as a typed event; InvalidRequest (400) names what is wrong."""
    if type == "site.created":
        if not isinstance(data.get("owner"), Mapping):
            raise InvalidRequest("site.created needs an 'owner' object.", "malformed_event")
        site_id = _int(data, "site_id")
        url, name = _site_fields(data, "malformed_event")
        owner = _owner(data["owner"], "malformed_event")
        assert owner is not None
        return SiteCreated(site_id, url, name, owner, _timezone(data))
    if type == "site.deleted":
        return SiteDeleted(_int(data, "site_id"))
    if type == "usage.reported":
        site_id = _int(data, "site_id")
        try:
            usage = usage_from_json(data.get("usage"))
        except ValueError as exc:
            raise InvalidRequest(str(exc), "malformed_event") from exc
        return UsageReported(site_id, usage)
    if type == "limits.applied":
        return LimitsApplied(_int(data, "site_id"), _int(data, "version"))
    if type == "invoice.paid":
        invoice_id = data.get("invoice_id")
        if not isinstance(invoice_id, str | int) or isinstance(invoice_id, bool):
            raise InvalidRequest("invoice.paid needs an 'invoice_id'.", "malformed_event")
        amount, paid_currency = data.get("amount"), data.get("currency")
        if not isinstance(amount, str) or not isinstance(paid_currency, str):
            raise InvalidRequest(
                "invoice.paid needs 'amount' (a decimal string) and 'currency'.", "malformed_event"
            )
        try:
            amount_minor = parse_amount(amount, currency)
        except MoneyError as exc:
            raise InvalidRequest(str(exc), "malformed_event") from exc
        reference = data.get("reference")
        return InvoicePaid(
            str(invoice_id), amount_minor, amount, paid_currency, str(reference or "") or None
        )
    return UnknownEvent(type)


def _amount(raw: Any, currency: str, field: str) -> int | None:
    if raw is None:
        return None
    try:
        return parse_amount(str(raw), currency)
    except MoneyError as exc:
        raise InvalidRequest(f"{field}: {exc}", "invalid_amount") from exc


def parse_membership(doc: Any, currency: str) -> MembershipInput:
    """`PUT /sites/{id}/membership`."""
    if not isinstance(doc, Mapping):
        raise InvalidRequest("The body must be an object.", "invalid_request")
    plan = doc.get("plan")
    if not isinstance(plan, str):
        raise InvalidRequest("'plan' must be a plan id.", "invalid_request")
    billing = None
    if doc.get("billing") is not None:
        try:
            billing = parse_billing(doc["billing"])
        except ValueError as exc:
            raise InvalidRequest(f"billing: {exc}", "invalid_request") from exc
    raw_addons = doc.get("addons") or {}
    if not isinstance(raw_addons, Mapping):
        raise InvalidRequest("'addons' must be an object {id: quantity}.", "invalid_request")
    addons: dict[str, AddonInput] = {}
    for addon_id, spec in raw_addons.items():
        if isinstance(spec, Mapping):
            quantity = spec.get("quantity", 1)
            price = _amount(spec.get("price"), currency, f"addons.{addon_id}.price")
        else:
            quantity, price = spec, None
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidRequest(f"addons.{addon_id}: quantity must be ≥ 0.", "invalid_request")
        addons[str(addon_id)] = AddonInput(quantity, price)
    balance = _amount(doc.get("balance"), currency, "balance")
    if balance is not None and balance < 0:
        raise InvalidRequest("'balance' must not be negative.", "invalid_amount")
    anchor: datetime | None = None
    if doc.get("anchor"):
        try:
            anchor = parse_instant(doc["anchor"])
        except ValueError as exc:
            raise InvalidRequest(f"anchor: {exc}", "invalid_request") from exc
    status = doc.get("status", "active")
    if status not in ("active", "past_due", "trialing"):
        raise InvalidRequest("'status' must be active, past_due or trialing.", "invalid_request")
    site = None
    site_doc = doc.get("site")
    if isinstance(site_doc, Mapping):
        url, name = _site_fields(site_doc, "malformed_event")
        site = SiteInput(
            url, name, _owner(site_doc.get("owner"), "malformed_event"), _timezone(site_doc)
        )
    paid = doc.get("paid")
    return MembershipInput(
        plan=plan,
        billing=billing,
        price_minor=_amount(doc.get("price"), currency, "price"),
        addons=addons,
        balance_minor=balance,
        anchor=anchor,
        status=cast(Literal["active", "past_due", "trialing"], status),
        paid=None if paid is None else bool(paid),
        site=site,
        raw={str(k): v for k, v in doc.items()},
    )


def parse_overrides(raw: Any) -> Limits | None:
    """Limits overrides: an object of limits, or null/empty for none."""
    if raw is not None and not isinstance(raw, Mapping):
        raise InvalidRequest("'limits' must be an object or null.", "invalid_limits")
    try:
        return parse_limits(raw) if raw else None
    except ValueError as exc:
        raise InvalidRequest(f"limits: {exc}", "invalid_limits") from exc


def parse_scope(raw: Any) -> Literal["membership", "site"]:
    if raw not in ("membership", "site"):
        raise InvalidRequest("'scope' must be membership or site.", "invalid_request")
    return cast(Literal["membership", "site"], raw)


def parse_cancel_mode(raw: Any) -> Literal["end_of_term", "immediate"]:
    if raw not in ("end_of_term", "immediate"):
        raise InvalidRequest("'mode' must be end_of_term or immediate.", "invalid_request")
    return cast(Literal["end_of_term", "immediate"], raw)


def parse_balance_entry(
    body: Mapping[str, Any], currency: str, refund: bool
) -> tuple[int, str, str]:
    """(amount in minor units, the amount as sent, the reason) of a balance entry."""
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidRequest("Give a 'reason' for the ledger.", "invalid_request")
    amount = body.get("amount")
    try:
        value = parse_amount(str(amount), currency) if amount is not None else None
    except MoneyError as exc:
        raise InvalidRequest(str(exc), "invalid_amount") from exc
    if value is None or value == 0 or (refund and value < 0):
        raise InvalidRequest(
            "'amount' must be a non-zero decimal string"
            + (" greater than zero." if refund else "."),
            "invalid_amount",
        )
    return value, str(amount), reason.strip()
