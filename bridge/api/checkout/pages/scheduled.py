"""A change scheduled for the end of the term: see it, and cancel it; and the owner's own
cancellation of the membership at the end of the term (undone by cancelling that change).

`GET /checkout/sites/<id>/scheduled` (where a `cancel_scheduled` token lands) and
`POST …/scheduled/cancel`, which shows the confirmation with `cancelled` (or goes back with
`unchanged` when nothing was scheduled any more); `GET …/cancel` says what cancelling the
membership does and when, `POST …/cancel` does it.
"""

from __future__ import annotations

from flask import redirect, render_template, url_for

from bridge.api.checkout import limits_table
from bridge.api.checkout.pages.choice import can_cancel_membership
from bridge.api.checkout.pages.plumbing import (
    Page,
    actor,
    blueprint,
    core,
    done_url,
    load,
    problem,
    product_names,
    scheduled_sentence,
    session_for,
    setting,
)
from bridge.errors import BridgeError


@blueprint.get("/sites/<int:site_id>/scheduled")
def scheduled(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    names = product_names(h)
    return render_template(
        "checkout/scheduled.html",
        h=h,
        _=h.gettext,
        session=session,
        site=site,
        title=h.gettext("Scheduled change"),
        plan_name=names.get(site.plan_id or "", site.plan_name or ""),
        scheduled_sentence=scheduled_sentence(
            h, site, names.get(site.scheduled.plan_id or "") if site.scheduled else None
        ),
        return_url=url_for("checkout.back", site_id=site_id, result="unchanged"),
    )


@blueprint.post("/sites/<int:site_id>/scheduled/cancel")
def cancel_scheduled(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    if site.scheduled is None:
        return redirect(url_for("checkout.back", site_id=site_id, result="unchanged"), 303)
    try:
        core().cancel_scheduled_change(site_id, actor(session))
    except BridgeError:
        return problem(
            409,
            h.gettext("The scheduled change could not be cancelled."),
            h.gettext("It may have taken effect already. Go back to your Account page to see."),
            h,
            url_for("checkout.back", site_id=site_id, result="unchanged"),
            site.name,
        )
    return redirect(done_url(site_id, "cancelled"), 303)


@blueprint.get("/sites/<int:site_id>/cancel")
def cancel_membership(site_id: int) -> Page:
    """What cancelling at the end of the term does, when, and that it can be undone."""
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    names = product_names(h)
    fallback = str(setting("fallback_plan") or "free")
    return render_template(
        "checkout/cancel.html",
        h=h,
        _=h.gettext,
        session=session,
        site=site,
        title=h.gettext("Cancel your membership"),
        possible=can_cancel_membership(site),
        plan_name=names.get(site.plan_id or "", site.plan_name or ""),
        fallback_name=names.get(fallback, fallback),
        ends_on=h.date(site.period_end),
        limits=limits_table.rows(h, core().selection_limits(fallback, {}), site.limits or None),
        return_url=url_for("checkout.back", site_id=site_id, result="unchanged"),
    )


@blueprint.post("/sites/<int:site_id>/cancel")
def cancel_membership_submit(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    if not can_cancel_membership(site):
        return redirect(url_for("checkout.cancel_membership", site_id=site_id), 303)
    try:
        core().cancel_membership(site_id, actor(session))
    except BridgeError:
        return problem(
            409,
            h.gettext("Your membership could not be cancelled."),
            h.gettext("Go back to your Account page and try again, or ask the network operator."),
            h,
            url_for("checkout.back", site_id=site_id, result="unchanged"),
            site.name,
        )
    return redirect(done_url(site_id, "scheduled"), 303)
