"""Routes of the checkout (see the package docstring and docs/wordpress-contract.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from bridge.api.checkout.facade import (
    CheckoutCore,
    Offer,
    SiteState,
    billing_from_key,
    billing_key,
    read_offer,
    read_site,
)
from bridge.api.checkout.i18n import Habits, habits_for, negotiate, supported_locale
from bridge.api.checkout.session import (
    COOKIE_NAME,
    LIFETIME_S,
    CheckoutSession,
    SessionCodec,
    csrf_matches,
)
from bridge.api.checkout.summary import OrderSummary, billing_phrase, order_summary
from bridge.contract import read_checkout_token
from bridge.domain.errors import BridgeError, NotEligible
from bridge.errors import InvalidToken

blueprint = Blueprint(
    "checkout",
    __name__,
    url_prefix="/checkout",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

RESULTS = ("applied", "pending", "scheduled", "cancelled", "unchanged")
APPLY_WAIT_S = 8.0  # how long "Applying your new limits…" waits for the site before going back
POLL_IN_REQUEST_S = 1.0
MAX_QUANTITY = 999


# -- wiring -------------------------------------------------------------------------------


def _setting(name: str) -> Any:
    settings = current_app.extensions.get("bridge.settings")
    return getattr(settings, name, None)


def _secret() -> str:
    secret = _setting("webhook_secret")
    if not secret:
        raise RuntimeError("the checkout needs settings.webhook_secret (BRIDGE_WEBHOOK_SECRET)")
    return str(secret)


def _codec() -> SessionCodec:
    return SessionCodec(_secret())


def _now() -> datetime:
    clock = current_app.extensions.get("bridge.clock")
    if clock is None:
        return datetime.now(UTC)
    now = getattr(clock, "now", clock)
    value = now()
    assert isinstance(value, datetime)
    return value


def _core() -> CheckoutCore:
    core: CheckoutCore = current_app.extensions["bridge"]
    return core


def _actor(session: CheckoutSession) -> Any:
    factory: Callable[..., Any] | None = current_app.extensions.get("checkout_actor")
    if factory is not None:
        return factory(session.site_id, session.user_id)
    return {"kind": "owner", "site_id": session.site_id, "user_id": session.user_id}


def _secure() -> bool:
    public_url = str(_setting("public_url") or "")
    return public_url.startswith("https://") or request.is_secure


def load_session() -> None:
    """App-wide: who is checking out, for the pages and for the JSON API's authorisation."""
    g.checkout_session = None
    if COOKIE_NAME not in request.cookies:
        return
    session = _codec().loads(request.cookies.get(COOKIE_NAME))
    if session is not None:
        g.checkout_session = session
        g.checkout_site_id = session.site_id
        g.checkout_user_id = session.user_id


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


def _habits(session: CheckoutSession | None = None, timezone: str | None = None) -> Habits:
    if session is not None:
        return habits_for(session.locale, timezone)
    return habits_for(negotiate(list(request.accept_languages)), timezone)


def _problem(
    status: int, title: str, what_to_do: str, h: Habits, return_url: str | None = None
) -> tuple[str, int]:
    return (
        render_template(
            "checkout/problem.html",
            h=h,
            _=h.gettext,
            title=title,
            what_to_do=what_to_do,
            return_url=return_url,
        ),
        status,
    )


def _start_again(h: Habits) -> str:
    return h.gettext("Go back to your site's Account page in WordPress and click Change again.")


def _no_session(h: Habits) -> tuple[str, int]:
    return _problem(401, h.gettext("Your checkout session has ended."), _start_again(h), h)


# -- session from the plugin's token ------------------------------------------------------


def _with_result(return_url: str, result: str) -> str:
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "plan_bridge_result"]
    query.append(("plan_bridge_result", result))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _return_url_allowed(return_url: str, site: SiteState) -> bool:
    target = urlsplit(return_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        return False
    if not site.url:
        return True
    return target.netloc.lower() == urlsplit(site.url).netloc.lower()


@blueprint.get("/start")
def start() -> Any:
    h = _habits()
    try:
        payload = read_checkout_token(
            _secret(), request.args.get("token", ""), int(_now().timestamp())
        )
    except InvalidToken as exc:
        if "expired" in str(exc):
            return _problem(401, h.gettext("This checkout link has expired."), _start_again(h), h)
        return _problem(
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
    core = _core()
    try:
        site = read_site(core.site_view(int(payload["site_id"])))
    except BridgeError:
        site = None
    if site is None or site.plan_id is None:
        return _problem(
            404,
            h.gettext("This site has no membership with us."),
            h.gettext("Please contact the network administrator."),
            h,
        )
    return_url = str(payload.get("return_url") or "")
    if not _return_url_allowed(return_url, site):
        return _problem(400, h.gettext("This checkout link is not valid."), _start_again(h), h)
    try:
        fresh = core.use_checkout_token(str(payload["jti"]), int(payload["exp"]))
    except BridgeError:
        fresh = False
    if fresh is False:
        return _problem(
            409, h.gettext("This checkout link has been used already."), _start_again(h), h
        )
    session = CheckoutSession.begin(site.site_id, int(payload["user_id"]), locale, return_url)
    if payload.get("intent") == "cancel_scheduled":
        target = url_for("checkout.scheduled", site_id=site.site_id)
    else:
        target = url_for("checkout.change", site_id=site.site_id)
    response = redirect(target, code=303)
    response.set_cookie(
        COOKIE_NAME,
        _codec().dumps(session),
        max_age=LIFETIME_S,
        httponly=True,
        samesite="Lax",
        secure=_secure(),
        path="/",
    )
    return response


def _session_for(site_id: int) -> tuple[CheckoutSession | None, tuple[str, int] | None]:
    session: CheckoutSession | None = g.get("checkout_session")
    if session is None:
        return None, _no_session(_habits())
    if session.site_id != site_id:
        h = _habits(session)
        return None, _problem(
            403,
            h.gettext("This checkout is for another site."),
            _start_again(h),
            h,
            session.return_url,
        )
    if request.method == "POST" and not csrf_matches(session, request.form.get("csrf")):
        h = _habits(session)
        return None, _problem(
            400,
            h.gettext("This form has expired."),
            h.gettext("Reload the page and try again."),
            h,
            session.return_url,
        )
    return session, None


# -- the Change page ------------------------------------------------------------------------


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


def _current_choice(site: SiteState) -> Choice:
    return Choice(site.plan_id or "", billing_key(site.billing), dict(site.addons))


def _posted_choice(form: MultiDict[str, str], site: SiteState) -> Choice:
    plan, _, billing = form.get("choice", "").partition(":")
    if not plan:
        return _current_choice(site)
    addons: dict[str, int] = {}
    for key, value in form.items():
        if key.startswith("addon-"):
            try:
                addons[key[len("addon-") :]] = max(0, min(MAX_QUANTITY, int(value or 0)))
            except ValueError:
                addons[key[len("addon-") :]] = 0
    if form.get("addons-for") != plan:
        # The plan changed since the add-ons were shown: start from what is owned.
        addons = dict(site.addons)
    return Choice(plan, billing or "1-month", addons)


def _fit_to_offer(choice: Choice, offer: Offer) -> Choice:
    """Keep only add-ons offered with the chosen plan."""
    offered = {a.id for a in offer.addons}
    return Choice(
        choice.plan, choice.billing, {p: q for p, q in choice.addons.items() if p in offered}
    )


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
}


def _summary(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
) -> tuple[OrderSummary | None, str | None]:
    """The order summary for a choice, or a sentence saying why it cannot be quoted."""
    names = _names(site, offer)
    try:
        quote = _core().create_quote(site.site_id, choice.selection(), _actor(session))
    except NotEligible as exc:
        return None, h.gettext(_REFUSALS.get(exc.code) or N_("This choice is not available."))
    except BridgeError as exc:
        if exc.code == "no_change":
            quote = {"kind": "no_change", "currency": offer.currency, "lines": [], "due_now": "0"}
        else:
            return None, h.gettext("We could not work out the amounts. Please try again.")
    summary = order_summary(
        h,
        quote,
        names=names,
        current_plan=site.plan_name or "",
        target_plan=names.get(choice.plan, choice.plan),
    )
    return summary, None


def _page_context(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
    summary: OrderSummary | None,
    refusal: str | None,
    notice: str | None = None,
) -> dict[str, Any]:
    codec = _codec()
    quote_ref = (
        codec.bind_quote(session, summary.quote_id)
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
        "scheduled_sentence": (
            h.gettext("Your plan changes to %(plan)s on %(date)s.")
            % {"plan": site.scheduled.plan_name, "date": h.date(site.scheduled.effective_at)}
            if site.scheduled
            else None
        ),
    }


def _load(site_id: int, session: CheckoutSession) -> tuple[Habits, SiteState]:
    site = read_site(_core().site_view(site_id))
    return _habits(session, site.timezone), site


@blueprint.get("/sites/<int:site_id>")
def change(site_id: int) -> Any:
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    h, site = _load(site_id, session)
    choice = _current_choice(site)
    offer = read_offer(_core().options(site_id, plan=choice.plan), site)
    summary, refusal = _summary(h, session, site, offer, choice)
    context = _page_context(h, session, site, offer, choice, summary, refusal)
    return render_template("checkout/change.html", **context)


def _posted_choice_and_offer(site_id: int, site: SiteState) -> tuple[Choice, Offer]:
    """The owner's posted choice, fitted to what the picked plan actually offers."""
    choice = _posted_choice(request.form, site)
    offer = read_offer(_core().options(site_id, plan=choice.plan), site)
    return _fit_to_offer(choice, offer), offer


@blueprint.post("/sites/<int:site_id>")
def change_submit(site_id: int) -> Any:
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    h, site = _load(site_id, session)
    choice, offer = _posted_choice_and_offer(site_id, site)
    if request.form.get("do") == "confirm":
        quote_id = _codec().unbind_quote(session, request.form.get("quote", ""))
        if quote_id is not None and request.form.get("shown") == choice.fingerprint:
            return _confirm(h, session, site, offer, choice, quote_id)
        notice = h.gettext("The summary now shows your latest choice. Check it and confirm again.")
    else:
        notice = None
    summary, refusal = _summary(h, session, site, offer, choice)
    context = _page_context(h, session, site, offer, choice, summary, refusal, notice)
    return render_template("checkout/change.html", **context)


@blueprint.post("/sites/<int:site_id>/summary")
def summary_fragment(site_id: int) -> Any:
    """For the page's script: the summary (and the add-ons of the picked plan) as HTML."""
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    h, site = _load(site_id, session)
    choice, offer = _posted_choice_and_offer(site_id, site)
    summary, refusal = _summary(h, session, site, offer, choice)
    context = _page_context(h, session, site, offer, choice, summary, refusal)
    return jsonify(
        summary=render_template("checkout/_summary.html", **context),
        addons=render_template("checkout/_addons.html", **context),
        addons_for=choice.plan,
    )


def _conflict_sentence(h: Habits, exc: BridgeError) -> str:
    if exc.code == "pending_change":
        return h.gettext(
            "An earlier change is still waiting for its payment. "
            "You can make another change once it is paid or has expired."
        )
    return h.gettext("Your membership changed while you were looking. Check the new amounts.")


def _confirm(
    h: Habits,
    session: CheckoutSession,
    site: SiteState,
    offer: Offer,
    choice: Choice,
    quote_id: str,
) -> Any:
    try:
        outcome = _core().commit_quote(quote_id, _actor(session), site_id=site.site_id)
    except BridgeError as exc:
        summary, refusal = _summary(h, session, site, offer, choice)
        notice = _conflict_sentence(h, exc)
        context = _page_context(h, session, site, offer, choice, summary, refusal, notice)
        return render_template("checkout/change.html", **context), 409
    status = str(outcome.get("status"))
    if status == "pending_payment":
        invoice = outcome.get("invoice") or {}
        number = str(invoice.get("number") or invoice.get("id") or "")
        return redirect(url_for("checkout.pending", site_id=site.site_id, invoice=number), 303)
    result = "scheduled" if status == "scheduled" else "applied"
    return redirect(_finish_url(site.site_id, result), 303)


def _finish_url(site_id: int, result: str) -> str:
    return url_for(
        "checkout.finish", site_id=site_id, result=result, until=int(time.time() + APPLY_WAIT_S)
    )


@blueprint.get("/sites/<int:site_id>/pending")
def pending(site_id: int) -> Any:
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    h, site = _load(site_id, session)
    return render_template(
        "checkout/pending.html",
        h=h,
        _=h.gettext,
        site=site,
        invoice=request.args.get("invoice", ""),
        return_url=_with_result(session.return_url, "pending"),
    )


@blueprint.get("/sites/<int:site_id>/finish")
def finish(site_id: int) -> Any:
    """Wait a little for the site to confirm its new limits, then go back to WordPress."""
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    result = request.args.get("result", "")
    if result not in RESULTS:
        result = "applied"
    until = request.args.get("until", type=int) or 0
    back = _with_result(session.return_url, result)
    deadline = min(time.monotonic() + POLL_IN_REQUEST_S, time.monotonic() + until - time.time())
    while True:
        h, site = _load(site_id, session)
        if site.limits_settled or time.time() >= until:
            return redirect(back, 303)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    return render_template("checkout/finish.html", h=h, _=h.gettext, site=site, back=back)


# -- the scheduled change -------------------------------------------------------------------


@blueprint.get("/sites/<int:site_id>/scheduled")
def scheduled(site_id: int) -> Any:
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    h, site = _load(site_id, session)
    return render_template(
        "checkout/scheduled.html",
        h=h,
        _=h.gettext,
        session=session,
        site=site,
        scheduled_sentence=(
            h.gettext("Your plan changes to %(plan)s on %(date)s.")
            % {"plan": site.scheduled.plan_name, "date": h.date(site.scheduled.effective_at)}
            if site.scheduled
            else None
        ),
    )


@blueprint.post("/sites/<int:site_id>/scheduled/cancel")
def cancel_scheduled(site_id: int) -> Any:
    session, refused = _session_for(site_id)
    if session is None:
        return refused
    h, site = _load(site_id, session)
    if site.scheduled is None:
        return redirect(_with_result(session.return_url, "unchanged"), 303)
    try:
        _core().cancel_scheduled_change(site_id, _actor(session))
    except BridgeError:
        return _problem(
            409,
            h.gettext("The scheduled change could not be cancelled."),
            h.gettext("It may have taken effect already. Go back to your Account page to see."),
            h,
            session.return_url,
        )
    return redirect(_finish_url(site_id, "cancelled"), 303)
