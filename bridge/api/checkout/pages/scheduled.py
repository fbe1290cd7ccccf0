"""A change scheduled for the end of the term: see it, and cancel it.

`GET /checkout/sites/<id>/scheduled` (where a `cancel_scheduled` token lands) and
`POST …/scheduled/cancel`, which goes back to WordPress with `cancelled` (or `unchanged` when
nothing was scheduled any more).
"""

from __future__ import annotations

from flask import redirect, render_template

from bridge.api.checkout.pages.plumbing import (
    Page,
    actor,
    blueprint,
    core,
    finish_url,
    load,
    problem,
    scheduled_sentence,
    session_for,
    with_result,
)
from bridge.errors import BridgeError


@blueprint.get("/sites/<int:site_id>/scheduled")
def scheduled(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    return render_template(
        "checkout/scheduled.html",
        h=h,
        _=h.gettext,
        session=session,
        site=site,
        scheduled_sentence=scheduled_sentence(h, site),
    )


@blueprint.post("/sites/<int:site_id>/scheduled/cancel")
def cancel_scheduled(site_id: int) -> Page:
    session, refused = session_for(site_id)
    if session is None:
        return refused
    h, site = load(site_id, session)
    if site.scheduled is None:
        return redirect(with_result(session.return_url, "unchanged"), 303)
    try:
        core().cancel_scheduled_change(site_id, actor(session))
    except BridgeError:
        return problem(
            409,
            h.gettext("The scheduled change could not be cancelled."),
            h.gettext("It may have taken effect already. Go back to your Account page to see."),
            h,
            session.return_url,
        )
    return redirect(finish_url(site_id, "cancelled"), 303)
