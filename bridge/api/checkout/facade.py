"""What the checkout pages need of the use cases, and their answers as small typed values.

The use cases answer with the documents the JSON API serves. `UseCases` is the checkout's view
of them (the `CheckoutCore` protocol: a test can stand in for it); this module then reads the few
fields the pages need into small typed values, so the templates never poke into raw documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bridge.api.inputs import parse_selection
from bridge.domain.catalog import parse_billing
from bridge.domain.invoicing import addon_period_value
from bridge.domain.money import MoneyError, format_amount, parse_amount, round_minor
from bridge.domain.proration import limits_of
from bridge.domain.receipt import Party
from bridge.services import access, operator, quotes, receipts, sites
from bridge.services.context import Context


@dataclass(frozen=True)
class ProductText:
    """A product's name and description in one language (the catalog's `names`/`descriptions`)."""

    name: str
    description: str | None = None


class CheckoutCore(Protocol):
    """What the checkout needs of the use cases (`UseCases` below; a page test stands in)."""

    def site_view(self, site_id: int) -> Mapping[str, Any]: ...

    def options(
        self, site_id: int, product: str | None = None, plan: str | None = None
    ) -> Mapping[str, Any]: ...

    def create_quote(
        self, site_id: int, selection: Mapping[str, Any], actor: Any
    ) -> Mapping[str, Any]: ...

    def commit_quote(
        self, quote_id: str, actor: Any, site_id: int | None = None
    ) -> Mapping[str, Any]: ...

    def cancel_scheduled_change(self, site_id: int, actor: Any) -> Any: ...

    def use_checkout_token(self, jti: str, exp: int) -> Any: ...

    def preview_quote(self, site_id: int, selection: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def cancel_membership(self, site_id: int, actor: Any) -> Mapping[str, Any]: ...

    def product_texts(self, language: str) -> Mapping[str, ProductText]: ...

    def selection_limits(self, plan: str, addons: Mapping[str, int]) -> Mapping[str, Any]: ...

    def billing_details(self, site_id: int) -> Mapping[str, Any] | None: ...

    def set_billing_details(self, site_id: int, details: Mapping[str, str]) -> None: ...


class UseCases:
    """`CheckoutCore` on the bridge's use cases, for one request's context."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def site_view(self, site_id: int) -> Mapping[str, Any]:
        return sites.site_view(self._ctx, site_id)

    def options(
        self, site_id: int, product: str | None = None, plan: str | None = None
    ) -> Mapping[str, Any]:
        return sites.options(self._ctx, site_id, product=product, plan=plan)

    def create_quote(
        self, site_id: int, selection: Mapping[str, Any], actor: Any
    ) -> Mapping[str, Any]:
        return quotes.create_quote(self._ctx, site_id, parse_selection(selection), actor)

    def commit_quote(
        self, quote_id: str, actor: Any, site_id: int | None = None
    ) -> Mapping[str, Any]:
        return quotes.commit_quote(self._ctx, quote_id, actor, site_id=site_id)

    def cancel_scheduled_change(self, site_id: int, actor: Any) -> Any:
        return quotes.cancel_scheduled_change(self._ctx, site_id, actor)

    def use_checkout_token(self, jti: str, exp: int) -> Any:
        return access.use_checkout_token(self._ctx, jti, exp)

    def preview_quote(self, site_id: int, selection: Mapping[str, Any]) -> Mapping[str, Any]:
        return quotes.preview_quote(self._ctx, site_id, parse_selection(selection))

    def cancel_membership(self, site_id: int, actor: Any) -> Mapping[str, Any]:
        return operator.cancel_membership(self._ctx, site_id, "end_of_term", actor)

    def product_texts(self, language: str) -> Mapping[str, ProductText]:
        return {
            pid: ProductText(p.name_in(language), p.description_in(language))
            for pid, p in self._ctx.catalog.products.items()
        }

    def selection_limits(self, plan: str, addons: Mapping[str, int]) -> Mapping[str, Any]:
        """A plan's limits with add-ons, before any override (the domain's merge)."""
        return limits_of(self._ctx.catalog, plan, dict(addons), None).to_json()

    def billing_details(self, site_id: int) -> Mapping[str, Any] | None:
        """The buyer printed on the site's receipts (None: not given yet)."""
        found = receipts.buyer_of_site(self._ctx, site_id)
        return None if found is None else found.to_json()

    def set_billing_details(self, site_id: int, details: Mapping[str, str]) -> None:
        buyer = Party(
            details.get("name", ""), details.get("address", ""), details.get("tax_number")
        )
        receipts.set_buyer_of_site(self._ctx, site_id, buyer)


Billing = Mapping[str, Any] | str  # {"every": 1, "unit": "month"} or "once"


def billing_key(billing: Billing | None) -> str:
    """A billing option as a form value: "1-month", "12-month", "once"."""
    if billing is None or billing == "once" or not isinstance(billing, Mapping):
        return "once"
    return f"{int(billing.get('every', 1))}-{billing.get('unit', 'month')}"


def billing_from_key(key: str) -> Billing:
    if key == "once":
        return "once"
    every, _, unit = key.partition("-")
    if not every.isdigit() or unit not in ("day", "week", "month", "year"):
        raise ValueError(f"not a billing option: {key!r}")
    return {"every": int(every), "unit": unit}


@dataclass(frozen=True)
class ScheduledNotice:
    plan_name: str
    effective_at: str
    cancels: bool = False
    plan_id: str | None = None
    addons: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteState:
    """A site and its membership, as the pages show them."""

    site_id: int
    name: str
    url: str
    timezone: str | None
    currency: str
    plan_id: str | None
    plan_name: str | None
    billing: Billing | None
    addons: dict[str, int]
    scheduled: ScheduledNotice | None
    desired_version: int | None
    applied_version: int | None
    pending_invoice: str | None = None  # number of an unpaid change invoice
    pending_expires_at: str | None = None
    status: str = "active"
    period_end: str | None = None
    limits: Mapping[str, Any] = field(default_factory=dict)  # plan + add-ons, no site override
    site_overrides: bool = False
    push_dead: bool = False
    cancels: bool = False  # the scheduled change is the end-of-term cancellation
    scheduled_plan: str | None = None

    @property
    def limits_settled(self) -> bool:
        """Whether the site confirmed the newest limits document (unknown counts as settled)."""
        if self.desired_version is None or self.applied_version is None:
            return True
        return self.applied_version >= self.desired_version


@dataclass(frozen=True)
class BillingChoice:
    key: str
    billing: Billing
    price: str
    current: bool


@dataclass(frozen=True)
class PlanCard:
    id: str
    name: str
    current: bool
    choices: tuple[BillingChoice, ...]
    limits: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class AddonChoice:
    id: str
    name: str
    kind: str
    price: str
    billing: Billing
    owned: int
    limits: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None

    def price_for(self, plan_billing: Billing | None, currency: str) -> tuple[str, Billing]:
        """The price charged per period of the chosen plan (a monthly add-on on a yearly plan
        costs twelve months), with that period; a one-time service keeps its own price."""
        if not isinstance(self.billing, Mapping) or not isinstance(plan_billing, Mapping):
            return self.price, self.billing
        try:
            item = parse_billing(dict(self.billing))
            plan = parse_billing(dict(plan_billing))
            value = addon_period_value(parse_amount(self.price, currency), item, plan, 1)
        except (ValueError, MoneyError):
            return self.price, self.billing
        return format_amount(round_minor(value), currency), plan_billing


@dataclass(frozen=True)
class Offer:
    currency: str
    plans: tuple[PlanCard, ...]
    addons: tuple[AddonChoice, ...]


def _name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("id") or "") or None
    return str(value) if value else None


def _plan_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def read_site(doc: Mapping[str, Any]) -> SiteState:
    """The page's view of `Bridge.site_view(site_id)`."""
    membership = doc.get("membership") or {}
    scheduled_doc = membership.get("scheduled_change")
    scheduled = None
    if isinstance(scheduled_doc, Mapping) and scheduled_doc.get("effective_at"):
        scheduled = ScheduledNotice(
            plan_name=_name(scheduled_doc.get("plan")) or "",
            effective_at=str(scheduled_doc["effective_at"]),
            cancels=bool(scheduled_doc.get("cancels")),
            plan_id=_plan_id(scheduled_doc.get("plan")),
            addons={
                str(a["id"]): int(a.get("quantity", 1))
                for a in scheduled_doc.get("addons") or []
                if isinstance(a, Mapping) and a.get("id")
            },
        )
    addons: dict[str, int] = {}
    raw_addons = membership.get("addons") or {}
    if isinstance(raw_addons, Mapping):
        for pid, held in raw_addons.items():
            qty = held.get("quantity", 0) if isinstance(held, Mapping) else held
            addons[str(pid)] = int(qty)
    else:
        for held in raw_addons:
            addons[str(held["id"])] = int(held.get("quantity", 1))
    limits = doc.get("limits") if isinstance(doc.get("limits"), Mapping) else {}
    desired = _int_or_none(doc.get("limits_version"))
    if desired is None and limits:
        desired = _int_or_none(limits.get("desired_version", limits.get("version")))
    applied = _int_or_none(doc.get("applied_version"))
    if applied is None:
        applied = _int_or_none(limits.get("applied_version") if limits else None)
    nested = doc.get("site")
    site: Mapping[str, Any] = nested if isinstance(nested, Mapping) else doc
    return SiteState(
        site_id=int(site.get("site_id", site.get("id", 0))),
        name=str(site.get("name") or ""),
        url=str(site.get("url") or ""),
        timezone=site.get("timezone") or doc.get("timezone"),
        currency=str(membership.get("currency") or doc.get("currency") or "USD"),
        plan_id=_plan_id(membership.get("plan")),
        plan_name=_name(membership.get("plan")),
        billing=membership.get("billing"),
        addons=addons,
        scheduled=scheduled,
        desired_version=desired,
        applied_version=applied,
        pending_invoice=_pending_number(doc.get("pending_invoice")),
        pending_expires_at=_pending_expiry(doc.get("pending_invoice")),
        status=str(membership.get("status") or "active"),
        period_end=membership.get("period_end"),
        limits=_mapping(membership.get("limits")),
        site_overrides=bool(site.get("overrides")),
        push_dead=bool(limits.get("dead")) if limits else False,
        cancels=scheduled.cancels if scheduled else False,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pending_expiry(invoice: Any) -> str | None:
    if not isinstance(invoice, Mapping) or invoice.get("status", "open") != "open":
        return None
    return str(invoice.get("expires_at") or "") or None


def _pending_number(invoice: Any) -> str | None:
    if not isinstance(invoice, Mapping) or invoice.get("status", "open") != "open":
        return None
    return str(invoice.get("number") or invoice.get("id") or "") or None


def read_offer(
    doc: Mapping[str, Any], site: SiteState, texts: Mapping[str, ProductText] | None = None
) -> Offer:
    """The page's view of `Bridge.options(site_id, plan=...)`: plans in order, add-ons, with
    names and descriptions in the reader's language (`texts`) where the catalog has them."""
    texts = texts or {}

    def name_of(product: Mapping[str, Any]) -> str:
        found = texts.get(str(product["id"]))
        return found.name if found else str(product.get("name") or product["id"])

    def description_of(product: Mapping[str, Any]) -> str | None:
        found = texts.get(str(product["id"]))
        return found.description if found else None

    plans = []
    for plan in doc.get("plans", []):
        current = bool(plan.get("current"))
        choices = []
        for option in plan.get("options") or plan.get("billing_options") or []:
            billing = option.get("billing", "once")
            choices.append(
                BillingChoice(
                    key=billing_key(billing),
                    billing=billing,
                    price=str(option.get("price", "0")),
                    current=current and billing_key(billing) == billing_key(site.billing),
                )
            )
        plans.append(
            PlanCard(
                id=str(plan["id"]),
                name=name_of(plan),
                current=current,
                choices=tuple(choices),
                limits=plan.get("limits") or {},
                description=description_of(plan),
            )
        )
    addons = []
    for addon in doc.get("addons", []):
        addons.append(
            AddonChoice(
                id=str(addon["id"]),
                name=name_of(addon),
                kind=str(addon.get("kind", "package")),
                price=str(addon.get("price", "0")),
                billing=addon.get("billing", "once"),
                owned=int(addon.get("owned_quantity", addon.get("quantity", 0)) or 0),
                limits=addon.get("limits") or {},
                description=description_of(addon),
            )
        )
    return Offer(str(doc.get("currency") or site.currency), tuple(plans), tuple(addons))
