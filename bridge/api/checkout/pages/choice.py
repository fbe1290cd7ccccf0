"""The owner's choice on the Change page and its order summary, shared by the Change page (which
shows them) and the confirmation (which shows them again when the commit is refused)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from bridge.api.checkout import limits_table
from bridge.api.checkout.facade import (
    AddonChoice,
    Offer,
    SiteState,
    billing_from_key,
    billing_key,
    read_offer,
)
from bridge.api.checkout.i18n import Habits
from bridge.api.checkout.pages.billing import billing_of
from bridge.api.checkout.pages.plumbing import (
    INVALID_CHOICE,
    actor,
    codec,
    core,
    ends_at,
    gateway,
    product_names,
    scheduled_sentence,
    setting,
)
from bridge.api.checkout.session import CheckoutSession
from bridge.api.checkout.summary import (
    Clearing,
    OrderSummary,
    billing_phrase,
    order_summary,
)
from bridge.errors import BridgeError, InvalidRequest, NoChange, NotEligible

MAX_QUANTITY = 999


class Choice:
    """The owner's pick: a plan with a billing option, and add-on quantities."""

    def __init__(
        self,
        plan: str,
        billing: str,
        addons: dict[str, int],
        invalid: dict[str, str] | None = None,
        picked: bool = False,
    ) -> None:
        self.plan = plan
        self.billing = billing
        self.addons = {pid: q for pid, q in addons.items() if q > 0}
        # Quantities typed that are not whole numbers from 0 to 999, as typed (by add-on id).
        self.invalid = dict(invalid or {})
        self.picked = picked  # the owner changed something (not the page's first view)

    @property
    def billing_option(self) -> Any:
        try:
            return billing_from_key(self.billing)
        except ValueError:
            return None

    @property
    def value(self) -> str:
        return f"{self.plan}:{self.billing}"

    @property
    def fingerprint(self) -> str:
        addons = ",".join(f"{pid}={q}" for pid, q in sorted(self.addons.items()))
        return f"{self.value}|{addons}"

    def selection(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "billing": billing_from_key(self.billing),
            "addons": dict(self.addons),
        }


def current_choice(site: SiteState) -> Choice:
    """What the site has now: the starting point of the Change page."""
    return Choice(site.plan_id or "", billing_key(site.billing), dict(site.addons))


def _quantity(value: str) -> int | None:
    """A typed quantity: a whole number from 0 to MAX_QUANTITY (empty is 0), else None.
    Nothing is clamped or rounded: a wrong number is shown back with a message."""
    text = value.strip()
    if text == "":
        return 0
    if not text.isdigit():
        return None
    number = int(text)
    return number if number <= MAX_QUANTITY else None


def _posted_choice(form: MultiDict[str, str], site: SiteState) -> Choice:
    plan, _, billing = form.get("choice", "").partition(":")
    if not plan:
        return current_choice(site)
    if billing:
        try:
            billing_from_key(billing)
        except ValueError as exc:
            # The page only offers the catalog's options: anything else was not posted by it.
            raise InvalidRequest(f"not a billing option: {billing[:40]!r}", INVALID_CHOICE) from exc
    addons: dict[str, int] = {}
    invalid: dict[str, str] = {}
    for key, value in form.items():
        if key.startswith("addon-"):
            pid = key[len("addon-") :]
            quantity = _quantity(value)
            if quantity is None:
                invalid[pid] = value
                addons[pid] = site.addons.get(pid, 0)
            else:
                addons[pid] = quantity
    clear = form.get("clear", "")
    if clear:
        # "Add Extra disk" under a blocking reason: hold the quantity that clears it.
        pid, _, quantity_text = clear.partition("=")
        quantity = _quantity(quantity_text)
        if pid and quantity is not None:
            addons[pid] = quantity
            invalid.pop(pid, None)
    if form.get("addons-for") != plan:
        # The plan changed since the add-ons were shown: start from what is owned.
        addons = dict(site.addons)
        invalid = {}
    return Choice(plan, billing or "1-month", addons, invalid, picked=True)


def _fit_to_offer(choice: Choice, offer: Offer) -> Choice:
    """Keep only add-ons offered with the chosen plan."""
    offered = {a.id for a in offer.addons}
    return Choice(
        choice.plan,
        choice.billing,
        {p: q for p, q in choice.addons.items() if p in offered},
        {p: v for p, v in choice.invalid.items() if p in offered},
        choice.picked,
    )


def offer_for(site_id: int, site: SiteState, choice: Choice, h: Habits | None = None) -> Offer:
    """The plans and the add-ons offered with the chosen plan, named in the reader's language."""
    texts = core().product_texts(h.language) if h is not None else None
    return read_offer(core().options(site_id, plan=choice.plan), site, texts)


def posted_choice_and_offer(
    site_id: int, site: SiteState, h: Habits | None = None
) -> tuple[Choice, Offer]:
    """The owner's posted choice, fitted to what the picked plan actually offers."""
    choice = _posted_choice(request.form, site)
    offer = offer_for(site_id, site, choice, h)
    return _fit_to_offer(choice, offer), offer


def _names(h: Habits, site: SiteState, offer: Offer) -> dict[str, str]:
    names = product_names(h)
    names.update({p.id: p.name for p in offer.plans})
    names.update({a.id: a.name for a in offer.addons})
    if site.plan_id and site.plan_name:
        names.setdefault(site.plan_id, site.plan_name)
    return names


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated where it is shown."""
    return message


_REFUSALS = {
    "other_group": N_("This plan is not offered for your site."),
    "unknown_product": N_("This plan is not offered for your site."),
    "inactive": N_("This product is no longer offered."),
    "not_offered_with_plan": N_("This add-on is not offered with the plan you picked."),
    "invalid_quantity": N_("Pick a quantity between 0 and 999."),
    "perpetual_plan": N_("A one-time plan cannot move back to a recurring one."),
    "membership_inactive": N_("This membership is cancelled and cannot be changed."),
    "payment_due": N_(
        "Your renewal invoice is not paid yet. Pay it first, the way you usually pay this "
        "network's invoices, or ask the network operator how; then you can make the change."
    ),
    "billing_not_offered": N_(
        "This plan is not offered with the billing option you picked. "
        "Pick one of the options shown."
    ),
}


def quote_summary(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
) -> tuple[OrderSummary | None, str | None]:
    """The order summary for a choice, or a sentence saying why it cannot be quoted."""
    names = _names(h, site, offer)
    if choice.invalid:
        return None, h.gettext(
            "Check the quantities marked below: each must be a whole number from 0 to 999."
        )
    try:
        quote = core().create_quote(site.site_id, choice.selection(), actor(session))
    except NotEligible as exc:
        return None, h.gettext(_REFUSALS.get(exc.code) or N_("This choice is not available."))
    except BridgeError as exc:
        # By code rather than class: the core raises NoChange or a plain Unprocessable with it.
        if exc.code != NoChange.code:
            return None, h.gettext("We could not work out the amounts. Please try again.")
        quote = {"kind": "no_change", "currency": offer.currency, "lines": [], "due_now": "0"}
    summary = order_summary(
        h,
        quote,
        names=names,
        current_plan=names.get(site.plan_id or "", site.plan_name or ""),
        target_plan=names.get(choice.plan, choice.plan),
        today_limits=site.limits or None,
    )
    if quote.get("blocked"):
        summary = replace(summary, clearings=_clearings(h, site, offer, choice, quote))
    return summary, None


def _breach(block: Mapping[str, Any]) -> tuple[str, Any]:
    return str(block.get("limit", "")), block.get("site_id")


def _clears(site: SiteState, choice: Choice, addon: str, quantity: int, breach: Any) -> bool:
    """Whether the domain, quoting the same selection with `quantity` of `addon`, still
    finds this breach."""
    selection = choice.selection()
    selection["addons"] = {**selection["addons"], addon: quantity}
    try:
        preview = core().preview_quote(site.site_id, selection)
    except BridgeError:
        return False
    found = [*(preview.get("blocked") or []), *(preview.get("warnings") or [])]
    return all(_breach(b) != breach for b in found)


def _smallest_clearing(
    site: SiteState, choice: Choice, addon: AddonChoice, breach: Any
) -> int | None:
    """The smallest quantity to add of `addon` that clears `breach`, asking the domain:
    doubling until it clears, then halving the gap (a larger quantity never allows less)."""
    held = choice.addons.get(addon.id, 0)
    if held >= MAX_QUANTITY:
        return None
    low, high = 0, 1
    while not _clears(site, choice, addon.id, held + high, breach):
        if held + high >= MAX_QUANTITY:
            return None
        low, high = high, min(high * 2, MAX_QUANTITY - held)
    while high - low > 1:
        middle = (low + high) // 2
        if _clears(site, choice, addon.id, held + middle, breach):
            high = middle
        else:
            low = middle
    return high


def _clearings(
    h: Habits, site: SiteState, offer: Offer, choice: Choice, quote: Mapping[str, Any]
) -> tuple[Clearing, ...]:
    """For each blocking reason, the offered packages that would clear it (by the domain)."""
    found: list[Clearing] = []
    for block in quote.get("blocked") or []:
        breach = _breach(block)
        limit = breach[0]
        key = limit.split(".", 1)[0]
        for addon in offer.addons:
            if addon.kind != "package" or key not in addon.limits:
                continue
            if any(c.addon_id == addon.id for c in found):
                continue
            add = _smallest_clearing(site, choice, addon, breach)
            if add is None:
                continue
            held = choice.addons.get(addon.id, 0)
            price, period = addon.price_for(choice.billing_option, offer.currency)
            values = {
                "addon": addon.name,
                "quantity": h.number(add),
                "price": h.money(price, offer.currency),
                "billing": billing_phrase(h, period),
            }
            sentence = (
                h.ngettext(
                    "Adding %(quantity)s × %(addon)s (%(price)s each, %(billing)s) would clear this.",
                    "Adding %(quantity)s × %(addon)s (%(price)s each, %(billing)s) would clear this.",
                    add,
                )
                % values
            )
            button = h.gettext("Add %(quantity)s × %(addon)s") % values
            found.append(Clearing(addon.id, held + add, sentence, button))
    return tuple(found)


def page_context(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
    summary: OrderSummary | None,
    refusal: str | None,
    notice: str | None = None,
) -> dict[str, Any]:
    """Everything change.html and its fragments (_summary.html, _addons.html) read."""
    quote_ref = (
        codec().bind_quote(session, summary.quote_id)
        if summary is not None and summary.quote_id and summary.committable
        else ""
    )
    names = _names(h, site, offer)
    plan_billing = choice.billing_option
    return {
        "h": h,
        "_": h.gettext,
        "ngettext": h.ngettext,
        "session": session,
        "site": site,
        "offer": offer,
        "choice": choice,
        "summary": summary,
        "refusal": refusal,
        "notice": notice,
        "quote_ref": quote_ref,
        "billing_phrase": lambda billing: billing_phrase(h, billing),
        "scheduled_sentence": scheduled_sentence(
            h, site, names.get(site.scheduled.plan_id or "") if site.scheduled else None
        ),
        "replaces_scheduled": _replaces_scheduled(h, site, summary, names),
        "payment_line": _payment_line(h, summary),
        "plan_name": names.get(site.plan_id or "", site.plan_name or ""),
        "plan_limits": lambda plan: limits_table.rows(h, plan.limits, site.limits or None),
        "addon_price": lambda addon: addon.price_for(plan_billing, offer.currency),
        "title": change_title(h, summary, refusal, choice, names),
        "ends_at": ends_at(),
        "can_cancel_membership": can_cancel_membership(site),
        "billing": billing_of(site.site_id),
    }


def can_cancel_membership(site: SiteState) -> bool:
    """An owner can cancel at the end of a term, on a plan that is not already the fallback."""
    fallback = str(setting("fallback_plan") or "free")
    return (
        site.period_end is not None
        and site.status in ("active", "trialing")
        and not site.cancels
        and site.plan_id != fallback
    )


def change_title(
    h: Habits,
    summary: OrderSummary | None,
    refusal: str | None,
    choice: Choice,
    names: Mapping[str, str],
) -> str:
    """Each state of the Change page has its own title (the window's and the reader's)."""
    plan = names.get(choice.plan, choice.plan)
    if refusal:
        return h.gettext("Not available: %(plan)s") % {"plan": plan}
    if summary is None or summary.no_change:
        return h.gettext("Change your plan")
    if summary.blocked:
        return h.gettext("Cannot be made yet: %(plan)s") % {"plan": plan}
    titles = {
        "upgrade": h.gettext("Upgrade to %(plan)s"),
        "downgrade": h.gettext("Downgrade to %(plan)s"),
        "crossgrade": h.gettext("Switch to %(plan)s"),
        "addon": h.gettext("Change your add-ons"),
    }
    return titles.get(summary.kind, h.gettext("Change your plan")) % {"plan": plan}


def _replaces_scheduled(
    h: Habits, site: SiteState, summary: OrderSummary | None, names: Mapping[str, str]
) -> str | None:
    """What a new pick does to a change already scheduled (§7: an add-on keeps it, a plan
    change replaces it)."""
    if site.scheduled is None or summary is None or summary.no_change or summary.blocked:
        return None
    values = {
        "plan": names.get(site.scheduled.plan_id or "", site.scheduled.plan_name),
        "date": h.date(site.scheduled.effective_at),
    }
    if summary.kind == "addon":
        return h.gettext("Your scheduled change to %(plan)s on %(date)s stays.") % values
    if site.scheduled.cancels:
        return (
            h.gettext("This change replaces the cancellation of your membership on %(date)s.")
            % values
        )
    return h.gettext("This change replaces your scheduled change to %(plan)s on %(date)s.") % values


def _payment_line(h: Habits, summary: OrderSummary | None) -> str | None:
    """How the amount due is paid, as the gateway does it."""
    if summary is None or not summary.due_now_positive:
        return None
    if gateway() == "manual":
        hours = max(1, int(setting("change_invoice_ttl_s") or 86400) // 3600)
        return h.ngettext(
            "An invoice to pay by bank transfer, due within %(num)d hour",
            "An invoice to pay by bank transfer, due within %(num)d hours",
            hours,
        ) % {"num": hours}
    if gateway() == "stripe":
        return h.gettext("Paid by card on the next page")
    return h.gettext("Paid now (test mode)")


def render_change_page(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
    notice: str | None = None,
) -> str:
    """The Change page for `choice`, with a fresh quote in its summary."""
    summary, refusal = quote_summary(h, session, site, offer, choice)
    context = page_context(h, session, site, offer, choice, summary, refusal, notice)
    return render_template("checkout/change.html", **context)
