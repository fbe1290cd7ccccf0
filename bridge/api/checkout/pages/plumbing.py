"""What every checkout page shares: the blueprint, the session and its CSRF check, the core,
the owner's locale habits, the problem page, and the way back to WordPress."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from bridge.api.checkout.facade import CheckoutCore, SiteState, UseCases, read_site
from bridge.api.checkout.i18n import Habits, habits_for, negotiate
from bridge.api.checkout.session import COOKIE_NAME, CheckoutSession, SessionCodec, csrf_matches
from bridge.api.errors import http_error as json_http_error
from bridge.api.errors import status_of
from bridge.api.state import state
from bridge.errors import BridgeError, ConfigError
from bridge.services.context import Actor, owner

log = logging.getLogger(__name__)

blueprint = Blueprint(
    "checkout",
    __name__,
    url_prefix="/checkout",
    # The templates and static files sit in the checkout package, one level up.
    root_path=str(Path(__file__).resolve().parent.parent),
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

RESULTS = ("applied", "pending", "scheduled", "cancelled", "unchanged")

Page = Any  # what a view returns: HTML, (HTML, status), or a redirect Response
Problem = tuple[str, int]


# -- wiring -------------------------------------------------------------------------------


def setting(name: str) -> Any:
    return getattr(state().ctx.settings, name, None)


def secret() -> str:
    value = setting("webhook_secret")
    if not value:
        raise ConfigError("the checkout needs settings.webhook_secret (BRIDGE_WEBHOOK_SECRET)")
    return str(value)


def secrets() -> tuple[str, ...]:
    """The secrets a checkout token may be signed with (current, then previous in a rotation)."""
    found = tuple(setting("webhook_secrets") or ()) or (secret(),)
    return found


def gateway() -> str:
    """How invoices get paid: "test" (paid at once) or "manual" (bank transfer, operator)."""
    return str(setting("gateway") or "test")


def network_admin_url() -> str:
    """The network's own wp-admin: the way back from a page that has no trusted return URL."""
    wordpress = setting("wordpress")
    base = str(getattr(wordpress, "url", "") or "")
    if not base:
        return ""
    return base if base.endswith("wp-admin/") else base.rstrip("/") + "/wp-admin/"


def codec() -> SessionCodec:
    return SessionCodec(secret())


def now() -> datetime:
    return state().ctx.clock.now()


def core() -> CheckoutCore:
    """The use cases, or the stand-in a page test put in the app's state."""
    found = state()
    return found.checkout_core if found.checkout_core is not None else UseCases(found.ctx)


def actor(session: CheckoutSession) -> Actor:
    """The site's owner, acting through the checkout session."""
    return owner(session.site_id, session.user_id)


def secure() -> bool:
    public_url = str(setting("public_url") or "")
    return public_url.startswith("https://") or request.is_secure


def end_session(response: BaseResponse) -> BaseResponse:
    """The checkout is over: the owner goes back to WordPress and the session cookie goes."""
    response.delete_cookie(COOKIE_NAME, path="/", secure=secure(), httponly=True, samesite="Lax")
    return response


@blueprint.before_request
def load_session() -> None:
    """Before each checkout page: who is checking out (never read outside the checkout)."""
    g.checkout_session = None
    g.checkout_ended = None
    g.checkout_ends_at = None
    if COOKIE_NAME not in request.cookies:
        return
    value = request.cookies.get(COOKIE_NAME)
    found = codec().read(value)
    if found is None:
        return
    session, ended = found
    if ended:
        g.checkout_ended = session
    else:
        g.checkout_session = session
        g.checkout_ends_at = codec().ends_at(value)


@blueprint.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


# -- pages for problems ---------------------------------------------------------------------


def habits(session: CheckoutSession | None = None, timezone: str | None = None) -> Habits:
    if session is not None:
        return habits_for(session.locale, timezone)
    return habits_for(negotiate(list(request.accept_languages)), timezone)


def problem(
    status: int,
    title: str,
    what_to_do: str,
    h: Habits,
    return_url: str | None = None,
    site_name: str | None = None,
) -> Problem:
    """A problem page; its way back is `return_url` (a live session's Account page), else the
    network's own wp-admin, never a URL from a token the bridge refused."""
    back = return_url or network_admin_url()
    return (
        render_template(
            "checkout/problem.html",
            h=h,
            _=h.gettext,
            title=title,
            what_to_do=what_to_do,
            back_url=back,
            back_label=h.gettext("Back to Account")
            if return_url
            else h.gettext("Back to WordPress"),
            site_name=site_name,
        ),
        status,
    )


# Codes the pages raise (InvalidRequest) for a posted form no page of ours can produce.
INVALID_CHOICE = "invalid_choice"
INVALID_QUANTITY = "invalid_quantity"
INVALID_LINK = "invalid_link"


def _error_page(status: int, code: str) -> Problem:
    """The problem page for an error raised while answering a checkout page."""
    session: CheckoutSession | None = g.get("checkout_session")
    h = habits(session)
    back = session.return_url if session is not None else None
    if code == INVALID_CHOICE:
        title = h.gettext("This choice is not available.")
        what = h.gettext(
            "This plan is not offered with the billing option you picked. "
            "Pick one of the options shown."
        )
    elif code == INVALID_QUANTITY:
        title = h.gettext("This choice is not available.")
        what = h.gettext("Pick a quantity between 0 and 999.")
    elif status == 404:
        title = h.gettext("This site has no membership with us.")
        what = h.gettext("Please contact the network administrator.")
    elif status < 500:
        title, what = h.gettext("This checkout link is not valid."), start_again(h)
    else:
        title = h.gettext("This change cannot be made yet.")
        what = h.gettext("Please contact the network administrator.")
    return problem(status, title, what, h, back)


@blueprint.errorhandler(BridgeError)
def _bridge_error_page(error: BridgeError) -> Problem:
    status = status_of(error)
    if status >= 500:
        log.error("checkout error", extra={"code": error.code, "error": error.message})
    return _error_page(status, error.code)


@blueprint.errorhandler(HTTPException)
def _http_error_page(error: HTTPException) -> Page:
    if error.code is not None and error.code < 400:
        return error  # a redirect raised by a view is not an error
    return _error_page(error.code or 500, "")


def unrouted_page(error: HTTPException) -> Page:
    """App-wide 404/405: routing fails before any blueprint is chosen, so a made-up address or
    method under /checkout/ would otherwise get the JSON API's answer. Pages answer as pages."""
    if request.path == "/checkout" or request.path.startswith("/checkout/"):
        return _error_page(error.code or 404, "")
    return json_http_error(error)


@blueprint.errorhandler(Exception)
def _unexpected_page(error: Exception) -> Problem:
    log.exception("unexpected error in the checkout")
    return _error_page(500, "")


def start_again(h: Habits) -> str:
    return h.gettext("Go back to your site's Account page in WordPress and click Change again.")


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def no_session(h: Habits) -> Page:
    """The session has ended (or there is none): say so, with the way back to WordPress."""
    ended: CheckoutSession | None = g.get("checkout_ended")
    # An ended session's return URL was checked against the site when its token was accepted.
    back = ended.return_url if ended is not None else None
    h = habits(ended) if ended is not None else h
    title = h.gettext("Your checkout session has ended.")
    what = h.gettext(
        "For your security a checkout lasts 30 minutes. Nothing was changed. Go back to your "
        "Account page and click Change to start again."
    )
    page = problem(401, title, what, h, back)
    if wants_json():
        return jsonify(
            ended=render_template(
                "checkout/_ended.html",
                _=h.gettext,
                title=title,
                what_to_do=what,
                back_url=back or network_admin_url(),
                back_label=h.gettext("Back to Account") if back else h.gettext("Back to WordPress"),
            )
        ), 401
    return page


# -- the session of one site ----------------------------------------------------------------


def session_for(site_id: int) -> tuple[CheckoutSession | None, Page | None]:
    """The session for this site's pages, or the problem page (no session, other site, CSRF)."""
    session: CheckoutSession | None = g.get("checkout_session")
    if session is None:
        return None, no_session(habits())
    if session.site_id != site_id:
        h = habits(session)
        return None, problem(
            403,
            h.gettext("This checkout is for another site."),
            start_again(h),
            h,
            session.return_url,
        )
    if request.method == "POST" and not csrf_matches(session, request.form.get("csrf")):
        # A page from an earlier session: show the page again (a GET, so that reloading it
        # re-posts nothing) and say that nothing was changed.
        if wants_json():
            return None, (jsonify(outdated=True), 400)
        return None, redirect(url_for("checkout.change", site_id=site_id, outdated=1), 303)
    return session, None


def load(site_id: int, session: CheckoutSession) -> tuple[Habits, SiteState]:
    """The site as the core sees it now, and the owner's habits in the site's timezone."""
    site = read_site(core().site_view(site_id))
    return habits(session, site.timezone), site


# -- back to WordPress ----------------------------------------------------------------------


def with_result(return_url: str, result: str) -> str:
    """The Account page's URL with `plan_bridge_result` set, for the plugin's notice."""
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "plan_bridge_result"]
    query.append(("plan_bridge_result", result))
    return urlunsplit(parts._replace(query=urlencode(query)))


def done_url(site_id: int, result: str, invoice: str = "") -> str:
    """The confirmation page of a change that was made (or scheduled, or cancelled)."""
    if invoice:
        return url_for("checkout.done", site_id=site_id, result=result, invoice=invoice)
    return url_for("checkout.done", site_id=site_id, result=result)


def ends_at() -> int | None:
    """When this request's session ends (Unix time), for the page's script."""
    value = g.get("checkout_ends_at")
    return int(value) if value is not None else None


def scheduled_sentence(h: Habits, site: SiteState, plan_name: str | None = None) -> str | None:
    """The sentence "Your plan changes to X on D." when a change is scheduled, else None."""
    if site.scheduled is None:
        return None
    values = {
        "plan": plan_name or site.scheduled.plan_name,
        "date": h.date(site.scheduled.effective_at),
    }
    if site.scheduled.cancels:
        return (
            h.gettext("Your membership ends on %(date)s; then your site moves to %(plan)s.")
            % values
        )
    return h.gettext("Your plan changes to %(plan)s on %(date)s.") % values


def product_names(h: Habits) -> dict[str, str]:
    """Every product's name in the reader's language (the catalog's `names`, else `name`)."""
    return {pid: text.name for pid, text in core().product_texts(h.language).items()}
