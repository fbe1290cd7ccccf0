"""JSON bodies and webhook `data` into the use cases' typed inputs; errors name the field.

Everything that arrives as JSON is checked here, at the edge: the JSON itself (nesting depth,
valid Unicode), types, required fields, ids (signed 64-bit, as the database stores them), strings
within their columns, amounts (decimal strings in the catalog's currency, bounded), time zones,
locales, instants, limits. What needs the catalog or the stored state is checked by the use cases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.domain.catalog import parse_billing, parse_limits
from bridge.domain.limits import Limits
from bridge.domain.membership import Selection
from bridge.domain.money import MoneyError, parse_amount
from bridge.domain.receipt import Party
from bridge.domain.tax import parse_rate
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

# Ids are BIGINT columns (signed 64-bit); versions are INTEGER (signed 32-bit).
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
# Bodies are small, flat objects; deeper nesting is a mistake or an attack on the parser.
MAX_JSON_DEPTH = 32
# An amount's text and size: far beyond any real price, far below what a BIGINT sum can hold.
MAX_AMOUNT_TEXT = 32
MAX_AMOUNT_MINOR = 10**15
# The columns' lengths (bridge/adapters/storage/models.py); the schema is not changed for input.
SITE_NAME_LENGTH = 500
SITE_URL_LENGTH = 2048
EMAIL_LENGTH = 320
LOCALE_LENGTH = 32
TIMEZONE_LENGTH = 64
REFERENCE_LENGTH = 200
EVENT_TYPE_LENGTH = 100
# WordPress locales: en_US, de_DE_formal, pt_PT_ao90, es_419, art_xemoji.
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,3}")
# WordPress sends "UTC", "UTC+2" or "UTC-5.5" when a site has an offset instead of a city.
# An anchor far outside this range leaves the calendar's arithmetic (datetime ends at 9999).
ANCHOR_FROM = datetime(1970, 1, 1, tzinfo=UTC)
ANCHOR_UNTIL = datetime(3000, 1, 1, tzinfo=UTC)
_UTC_OFFSET = re.compile(r"UTC(?:[+-]\d{1,2}(?:\.\d{1,2})?)?")


def parse_json(body: bytes, code: str = "invalid_json") -> Any:
    """A request body as JSON; too deep, not JSON or not valid Unicode is InvalidRequest (400)."""
    try:
        value = json.loads(body)
    except RecursionError as exc:
        raise InvalidRequest(f"The body nests deeper than {MAX_JSON_DEPTH} levels.", code) from exc
    except ValueError as exc:
        raise InvalidRequest("The body is not valid JSON.", code) from exc
    _check_json_tree(value, code)
    return value


def _check_json_tree(value: Any, code: str) -> None:
    # Iterative on purpose: a recursive walk would fail on the very input it guards against.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise InvalidRequest(f"The body nests deeper than {MAX_JSON_DEPTH} levels.", code)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _check_text(key, code)
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            _check_text(item, code)


def _check_text(text: str, code: str) -> None:
    # A lone surrogate cannot be stored or sent as UTF-8; PostgreSQL refuses NUL in text.
    if "\x00" in text:
        raise InvalidRequest("The body has a string with a NUL character.", code)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequest("The body has a string that is not valid Unicode.", code) from exc


def fits_int64(value: int) -> bool:
    """Whether an id fits the database's BIGINT columns (and is not negative)."""
    return 0 <= value <= INT64_MAX


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


def _int(
    data: Mapping[str, Any],
    key: str,
    code: str = "malformed_event",
    *,
    maximum: int = INT64_MAX,
    where: str = "",
) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{where}{key}' must be an integer.", code)
    if not 0 <= value <= maximum:
        raise InvalidRequest(f"'{where}{key}' must be a whole number from 0 to {maximum}.", code)
    return value


def _owner(raw: Any, code: str) -> Owner | None:
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidRequest("'owner' must be an object.", code)
    email = str(raw.get("email") or "")
    if len(email) > EMAIL_LENGTH:
        raise InvalidRequest(f"'owner.email' is longer than {EMAIL_LENGTH} characters.", code)
    locale = str(raw.get("locale") or "en_US")
    if len(locale) > LOCALE_LENGTH or not _LOCALE.fullmatch(locale):
        raise InvalidRequest("'owner.locale' must be a locale such as en_US or de_DE_formal.", code)
    return Owner(user_id=_int(raw, "user_id", code, where="owner."), email=email, locale=locale)


def _site_fields(data: Mapping[str, Any], code: str) -> tuple[str, str]:
    """The site's URL (refused when it cannot be stored whole) and name (cut to its column)."""
    url, name = data.get("url"), data.get("name")
    if not isinstance(url, str) or not isinstance(name, str):
        raise InvalidRequest("'url' and 'name' must be strings.", code)
    if len(url) > SITE_URL_LENGTH:
        raise InvalidRequest(f"'url' is longer than {SITE_URL_LENGTH} characters.", code)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidRequest("'url' must be an http or https URL.", code) from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest("'url' must be an http or https URL.", code)
    # A blog name is display text: a site with a long name still gets its membership, with the
    # name cut to the column (README, "The JSON API"); a cut URL would point somewhere else.
    return url, name[:SITE_NAME_LENGTH]


def _timezone(data: Mapping[str, Any], code: str) -> str | None:
    value = data.get("timezone")
    if not isinstance(value, str) or not value:
        return None
    if len(value) <= TIMEZONE_LENGTH and (_UTC_OFFSET.fullmatch(value) or _iana_zone(value)):
        return value
    raise InvalidRequest(
        "'timezone' must be an IANA time zone such as Europe/Oslo, or UTC+2.", code
    )


def _iana_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _reference(raw: Any, code: str) -> str | None:
    text = str(raw or "") or None
    if text is not None and len(text) > REFERENCE_LENGTH:
        raise InvalidRequest(f"'reference' is longer than {REFERENCE_LENGTH} characters.", code)
    return text


def parse_reference(raw: Any) -> str | None:
    """A payment's reference (`POST /invoices/{id}/pay`): a string within its column, or None."""
    if raw is not None and not isinstance(raw, str):
        raise InvalidRequest("'reference' must be a string.", "invalid_request")
    return _reference(raw, "invalid_request")


def amount_minor(text: Any, currency: str, field: str, code: str = "invalid_amount") -> int:
    """A decimal string in minor units, bounded; MoneyError and absurd sizes are a 400."""
    if not isinstance(text, str) or len(text) > MAX_AMOUNT_TEXT:
        raise InvalidRequest(f'{field}: an amount must be a decimal string such as "29.00".', code)
    try:
        value = parse_amount(text, currency)
    except (MoneyError, ArithmeticError) as exc:
        raise InvalidRequest(f"{field}: {exc}", code) from exc
    if abs(value) > MAX_AMOUNT_MINOR:
        raise InvalidRequest(f"{field}: '{text}' is larger than any amount the bridge takes.", code)
    return value


def parse_event(type: str, data: Mapping[str, Any], currency: str) -> Event:
    """A verified event's `data` as a typed event; InvalidRequest (400) names what is wrong."""
    if type == "site.created":
        if not isinstance(data.get("owner"), Mapping):
            raise InvalidRequest("site.created needs an 'owner' object.", "malformed_event")
        site_id = _int(data, "site_id")
        url, name = _site_fields(data, "malformed_event")
        owner = _owner(data["owner"], "malformed_event")
        assert owner is not None
        return SiteCreated(site_id, url, name, owner, _timezone(data, "malformed_event"))
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
        return LimitsApplied(_int(data, "site_id"), _int(data, "version", maximum=INT32_MAX))
    if type == "invoice.paid":
        invoice_id = data.get("invoice_id")
        if not isinstance(invoice_id, str | int) or isinstance(invoice_id, bool):
            raise InvalidRequest("invoice.paid needs an 'invoice_id'.", "malformed_event")
        amount, paid_currency = data.get("amount"), data.get("currency")
        if not isinstance(amount, str) or not isinstance(paid_currency, str):
            raise InvalidRequest(
                "invoice.paid needs 'amount' (a decimal string) and 'currency'.", "malformed_event"
            )
        minor = amount_minor(amount, currency, "amount", "malformed_event")
        reference = _reference(data.get("reference"), "malformed_event")
        return InvoicePaid(str(invoice_id), minor, amount, paid_currency, reference)
    return UnknownEvent(type)


def _amount(raw: Any, currency: str, field: str) -> int | None:
    if raw is None:
        return None
    return amount_minor(str(raw), currency, field)


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
        except (ValueError, OverflowError) as exc:
            raise InvalidRequest(f"anchor: {exc}", "invalid_request") from exc
        if not ANCHOR_FROM <= anchor < ANCHOR_UNTIL:
            raise InvalidRequest(
                "anchor: must be an instant from 1970 to the year 2999.", "invalid_request"
            )
    status = doc.get("status", "active")
    if status not in ("active", "past_due", "trialing"):
        raise InvalidRequest("'status' must be active, past_due or trialing.", "invalid_request")
    site = None
    site_doc = doc.get("site")
    if isinstance(site_doc, Mapping):
        url, name = _site_fields(site_doc, "malformed_event")
        site = SiteInput(
            url,
            name,
            _owner(site_doc.get("owner"), "malformed_event"),
            _timezone(site_doc, "malformed_event"),
        )
    paid = doc.get("paid")
    rate_paid = doc.get("tax_rate_paid")
    if rate_paid is not None:
        try:
            rate_paid = parse_rate(rate_paid)
        except ValueError as exc:
            raise InvalidRequest(f"tax_rate_paid: {exc}.", "invalid_request") from exc
    return MembershipInput(
        plan=plan,
        billing=billing,
        price_minor=_amount(doc.get("price"), currency, "price"),
        addons=addons,
        balance_minor=balance,
        anchor=anchor,
        status=cast(Literal["active", "past_due", "trialing"], status),
        paid=None if paid is None else bool(paid),
        tax_rate_paid=rate_paid,
        site=site,
        raw={str(k): v for k, v in doc.items()},
    )


def parse_party(body: Mapping[str, Any]) -> Party:
    """`{"name", "address", "tax_number"}` of a buyer (strings; the use case checks lengths)."""
    values = {}
    for key in ("name", "address", "tax_number"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"'{key}' must be a string.", "invalid_request")
        values[key] = value or ""
    return Party(values["name"], values["address"], values["tax_number"] or None)


def parse_period(first: str | None, last: str | None, now: datetime) -> tuple[datetime, datetime]:
    """`from` and `to` as YYYY-MM-DD (whole UTC days, both included; by default this month
    so far) as the instants [start, end)."""
    days = []
    for name, raw, default in (
        ("from", first, now.date().replace(day=1)),
        ("to", last, now.date()),
    ):
        try:
            day = date.fromisoformat(raw) if raw else default
        except ValueError:
            day = None
        if day is None or not 1970 <= day.year <= 2999:
            raise InvalidRequest(
                f"'{name}' must be a day from 1970 to 2999, like 2026-04-30.", "invalid_request"
            ) from None
        days.append(day)
    start = datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC)
    end = datetime(days[1].year, days[1].month, days[1].day, tzinfo=UTC) + timedelta(days=1)
    if end <= start:
        raise InvalidRequest("'to' must not be before 'from'.", "invalid_request")
    return start, end


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
    value = amount_minor(str(amount), currency, "amount") if amount is not None else None
    if value is None or value == 0 or (refund and value < 0):
        raise InvalidRequest(
            "'amount' must be a non-zero decimal string"
            + (" greater than zero." if refund else "."),
            "invalid_amount",
        )
    return value, str(amount), reason.strip()
