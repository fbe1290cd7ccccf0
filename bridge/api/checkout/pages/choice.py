"""The owner's choice on the Change page and its order summary, shared by the Change page (which
shows them) and the confirmation (which shows them again when the commit is refused)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from bridge.api.checkout.facade import (
    Offer,
    SiteState,
    billing_from_key,
    billing_key,
    read_offer,
)
from bridge.api.checkout.i18n import Habits
from bridge.api.checkout.pages.plumbing import (
    INVALID_CHOICE,
    INVALID_QUANTITY,
    actor,
    codec,
    core,
    scheduled_sentence,
)
from bridge.api.checkout.session import CheckoutSession
from bridge.api.checkout.summary import OrderSummary, billing_phrase, order_summary
from bridge.errors import BridgeError, InvalidRequest, NoChange, NotEligible

MAX_QUANTITY = 999


class Choice:
    """The owner's pick: a plan with a billing option, and add-on quantities."""

    def __init__(self, plan: str, billing: str, addons: dict[str, int]) -> None:
        self.plan = plan
        self.billing = billing
        self.addons = {pid: q for pid, q in addons.items() if q > 0}

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


def _posted_choice(form: MultiDict[str, str], site: SiteState) -> Choice:
    plan, _, billing = form.get("choice", "").partition(":")
    if not plan:
        return current_choice(site)
    billing = billing or "1-month"
    try:
        billing_from_key(billing)
    except ValueError as exc:
        # The page only offers the catalog's options: anything else was not posted by it.
        raise InvalidRequest(f"not a billing option: {billing[:40]!r}", INVALID_CHOICE) from exc
    addons: dict[str, int] = {}
    for key, value in form.items():
        if key.startswith("addon-"):
            addons[key[len("addon-") :]] = _quantity(value)
    if form.get("addons-for") != plan:
        # The plan changed since the add-ons were shown: start from what is owned.
        addons = dict(site.addons)
    return Choice(plan, billing, addons)


def _quantity(value: str) -> int:
    """A posted add-on quantity: empty is 0; anything but a whole number 0-999 is refused."""
    text = value.strip()
    if not text:
        return 0
    if not text.isdecimal() or len(text) > 3 or int(text) > MAX_QUANTITY:
        raise InvalidRequest("Pick a quantity between 0 and 999.", INVALID_QUANTITY)
    return int(text)


def _fit_to_offer(choice: Choice, offer: Offer) -> Choice:
    """Keep only add-ons offered with the chosen plan."""
    offered = {a.id for a in offer.addons}
    return Choice(
        choice.plan, choice.billing, {p: q for p, q in choice.addons.items() if p in offered}
    )


def offer_for(site_id: int, site: SiteState, choice: Choice) -> Offer:
    """The plans and the add-ons offered with the chosen plan."""
    return read_offer(core().options(site_id, plan=choice.plan), site)


def posted_choice_and_offer(site_id: int, site: SiteState) -> tuple[Choice, Offer]:
    """The owner's posted choice, fitted to what the picked plan actually offers."""
    choice = _posted_choice(request.form, site)
    offer = offer_for(site_id, site, choice)
    return _fit_to_offer(choice, offer), offer


def _names(site: SiteState, offer: Offer) -> dict[str, str]:
    names = {p.id: p.name for p in offer.plans}
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
    names = _names(site, offer)
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
        current_plan=site.plan_name or "",
        target_plan=names.get(choice.plan, choice.plan),
    )
    return summary, None


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
        "scheduled_sentence": scheduled_sentence(h, site),
    }


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
