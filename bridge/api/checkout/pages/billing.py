"""The owner's billing address for receipts: asked once beside "Confirm", editable here.

`GET /checkout/sites/<id>/billing` shows the form, `POST` saves it and goes back to the Change
page. The Change page's confirm form carries the same fields while none are stored; they are
saved just before the commit (`save_posted`), so the receipt of that very payment has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import redirect, render_template, request, url_for

from bridge.api.checkout.i18n import Habits
from bridge.api.checkout.pages.plumbing import Page, blueprint, core, load, session_for
from bridge.errors import BridgeError

FIELDS = ("name", "address", "tax_number")
LIMITS = {"name": 200, "address": 1000, "tax_number": 50}


def posted_details() -> dict[str, str]:
    """The billing fields of the posted form (`buyer_name`, ...), trimmed."""
    return {key: request.form.get(f"buyer_{key}", "").strip() for key in FIELDS}


def details_problem(h: Habits, details: Mapping[str, str], required: bool = False) -> str | None:
    """A sentence when the posted details cannot be kept (a name is needed when anything is
    given, or always when `required`); None when they can."""
    too_long = any(len(details.get(key, "")) > most for key, most in LIMITS.items())
    unnamed = not details.get("name") and (required or any(details.values()))
    if too_long or unnamed:
        return h.gettext(
            "Check your billing address: a name is needed, of at most 200 characters; the "
            "address may have 1000 characters and the tax number 50."
        )
    return None


def save_posted(h: Habits, site_id: int) -> str | None:
    """Keep the posted billing details, if any were given; a sentence when they are refused."""
    details = posted_details()
    if not any(details.values()):
        return None
    refused = details_problem(h, details)
    if refused is not None:
        return refused
    try:
        core().set_billing_details(site_id, details)
    except BridgeError:
        return details_problem(h, details, required=True) or ""
    return None


def billing_of(site_id: int) -> Mapping[str, Any] | None:
    try:
        return core().billing_details(site_id)
    except BridgeError:
        return None


def _form(h: Habits, site_id: int, values: Mapping[str, Any], error: str | None) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    _h, site = load(site_id, session)
    return render_template(
        "checkout/billing.html",
        h=h,
        _=h.gettext,
        session=session,
        site=site,
        title=h.gettext("Your billing address"),
        values=values,
        error=error,
        back_url=url_for("checkout.change", site_id=site_id),
    ), (400 if error else 200)


@blueprint.get("/sites/<int:site_id>/billing")
def billing(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, _site = load(site_id, session)
    return _form(h, site_id, billing_of(site_id) or {}, None)


@blueprint.post("/sites/<int:site_id>/billing")
def billing_save(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, _site = load(site_id, session)
    details = posted_details()
    error = details_problem(h, details, required=True) or save_posted(h, site_id)
    if error:
        return _form(h, site_id, details, error)
    return redirect(url_for("checkout.change", site_id=site_id, billing="saved"), 303)
