"""The owner's receipt page: opened with a receipt token the plugin mints on the Account page.

The token is signed with a key of its own purpose (`receipt`, never the checkout's), lives ten
minutes and is accepted once, so no link that opens a receipt can live on in an e-mail or a
browser history. The page needs no session; it is served with `no-store` like every checkout page.
"""

from __future__ import annotations

from flask import render_template, request

from bridge.api.checkout.i18n import habits_for, supported_locale
from bridge.api.checkout.pages.plumbing import Page, blueprint, habits, now, problem, secrets
from bridge.api.checkout.receipt_view import receipt_page
from bridge.api.state import state
from bridge.contract import read_receipt_token
from bridge.errors import BridgeError, InvalidToken
from bridge.services import access, receipts


@blueprint.get("/receipts/open")
def receipt() -> Page:
    h = habits()
    again = h.gettext("Open it again from your site's Account page in WordPress.")
    try:
        payload = read_receipt_token(
            secrets(), request.args.get("token", ""), int(now().timestamp())
        )
    except InvalidToken as exc:
        if exc.expired:
            title = h.gettext("This receipt link has expired or was used already.")
            return problem(401, title, again, h)
        return problem(401, h.gettext("This receipt link is not valid."), again, h)
    ctx = state().ctx
    locale = supported_locale(str(payload.get("locale") or "")) or "en_US"
    try:
        found, timezone = receipts.receipt_of_site(
            ctx, int(payload["site_id"]), str(payload["kind"]), int(payload["number"])
        )
    except BridgeError:
        h = habits_for(locale)
        return problem(404, h.gettext("This receipt link is not valid."), again, h)
    h = habits_for(locale, timezone)
    if not access.use_checkout_token(ctx, str(payload["jti"]), int(payload["exp"])):
        title = h.gettext("This receipt link has expired or was used already.")
        return problem(409, title, again, h)
    names = {pid: p.name_in(h.language) for pid, p in ctx.catalog.products.items()}
    return render_template(
        "checkout/receipt.html", h=h, _=h.gettext, r=receipt_page(h, found, names)
    )
