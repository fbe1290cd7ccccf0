"""`GET /checkout/start?token=…`: the plugin's signed token becomes a checkout session.

The token is checked (signature, expiry), the site must have a membership, the return URL must
point at the site itself, and the token is used once; then the session cookie is set and the
owner goes on to the Change page (or to the scheduled change, for that intent).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, redirect, request, url_for

from bridge.api.checkout.facade import SiteState, read_site
from bridge.api.checkout.i18n import habits_for, negotiate, supported_locale
from bridge.api.checkout.pages.plumbing import (
    Page,
    blueprint,
    codec,
    core,
    habits,
    now,
    problem,
    secrets,
    secure,
    start_again,
)
from bridge.api.checkout.session import COOKIE_NAME, LIFETIME_S, CheckoutSession
from bridge.contract import read_checkout_token_any
from bridge.errors import BridgeError, InvalidToken


def _return_url_allowed(return_url: str, site: SiteState) -> bool:
    """Only back to the site's own host; a site with no stored URL has nowhere safe to go back
    to, so its token's return URL is refused (never an open redirect)."""
    target = urlsplit(return_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        return False
    if not site.url:
        return False
    return target.netloc.lower() == urlsplit(site.url).netloc.lower()


@blueprint.get("/start")
def start() -> Page:
    h = habits()
    try:
        payload = read_checkout_token_any(
            secrets(), request.args.get("token", ""), int(now().timestamp())
        )
    except InvalidToken as exc:
        if exc.expired:
            return problem(401, h.gettext("This checkout link has expired."), start_again(h), h)
        return problem(
            401,
            h.gettext("This checkout link is not valid."),
            h.gettext(
                "It may have been changed or made for another network. "
                "Go back to your site's Account page in WordPress and click Change again."
            ),
            h,
        )
    locale = supported_locale(str(payload.get("locale") or "")) or negotiate(
        list(request.accept_languages)
    )
    h = habits_for(locale)
    try:
        site = read_site(core().site_view(int(payload["site_id"])))
    except BridgeError:
        site = None
    if site is None or site.plan_id is None:
        return problem(
            404,
            h.gettext("This site has no membership with us."),
            h.gettext("Please contact the network administrator."),
            h,
        )
    return_url = str(payload.get("return_url") or "")
    if not _return_url_allowed(return_url, site):
        return problem(400, h.gettext("This checkout link is not valid."), start_again(h), h)
    try:
        fresh = core().use_checkout_token(str(payload["jti"]), int(payload["exp"]))
    except BridgeError:
        fresh = False
    if fresh is False:
        return problem(
            409,
            h.gettext("This checkout link has been used already."),
            start_again(h),
            h,
            site_name=site.name,
        )
    session = CheckoutSession.begin(
        site.site_id, int(payload["user_id"]), locale, return_url, g.get("checkout_session")
    )
    if payload.get("intent") == "cancel_scheduled":
        target = url_for("checkout.scheduled", site_id=site.site_id)
    else:
        target = url_for("checkout.change", site_id=site.site_id)
    response = redirect(target, code=303)
    response.set_cookie(
        COOKIE_NAME,
        codec().dumps(session),
        max_age=LIFETIME_S,
        httponly=True,
        samesite="Lax",
        secure=secure(),
        path="/",
    )
    return response
