"""The operator's console at /admin: catalog versions, products, plan groups and their picture.

Server-rendered, no JavaScript. Every page needs a console session (signed in by a single-use
operator token); every form carries the session's CSRF secret; only the `operator` role may post.
Every change is an import of a new catalog version through `services.catalog`, which checks the
domain's rules and writes the audit log with the WordPress user and the reason given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from bridge.api.console.session import COOKIE_NAME, ConsoleCodec, ConsoleSession, csrf_matches
from bridge.api.state import state
from bridge.contract import read_operator_token
from bridge.domain.catalog import CatalogInvalid
from bridge.domain.catalog_data import catalog_data
from bridge.domain.catalog_edits import Impact
from bridge.errors import ConcurrentChange, InvalidToken, NotFound
from bridge.services import catalog as catalogs
from bridge.services.access import use_operator_token
from bridge.services.catalog import Preview
from bridge.services.context import OPERATOR, Context

blueprint = Blueprint(
    "console",
    __name__,
    url_prefix="/admin",
    root_path=str(Path(__file__).resolve().parent),
    template_folder="templates",
)

PRODUCTS_PER_PAGE = 20
VERSIONS_PER_PAGE = 10
Page = Any


def _ctx() -> Context:
    return state().ctx


def _codec() -> ConsoleCodec:
    return ConsoleCodec(_ctx().settings.webhook_secret)


def _secure() -> bool:
    return _ctx().settings.public_url.startswith("https://") or request.is_secure


@blueprint.before_request
def _load_session() -> None:
    g.console = _codec().loads(request.cookies.get(COOKIE_NAME))


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    session: ConsoleSession | None = g.get("console")
    return render_template(f"console/{template}", session=session, **values), status


def _problem(title: str, message: str, status: int) -> tuple[str, int]:
    return _page("problem.html", status, title=title, message=message)


def signed_in(view: Callable[..., Page]) -> Callable[..., Page]:
    """A page for a console session; a form post also needs the CSRF secret and the role."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Page:
        session: ConsoleSession | None = g.get("console")
        if session is None:
            return _problem(
                "Sign in first",
                "Open the console from the Network Admin page of your WordPress network, "
                "or with a link from `bridge admin-link`.",
                401,
            )
        if request.method == "POST":
            if not csrf_matches(session, request.form.get("csrf")):
                return _problem(
                    "This form has expired", "Go back, reload the page and try again.", 403
                )
            if not session.can_edit:
                return _problem("Read only", "Your role (viewer) cannot change anything.", 403)
        return view(*args, **kwargs)

    return wrapper


def _reason() -> str:
    return request.form.get("reason", "").strip()


def _paginate(total: int, per_page: int) -> tuple[int, int, int]:
    pages = max(1, -(-total // per_page))
    try:
        number = int(request.args.get("page", "1"))
    except ValueError:
        number = 1
    number = min(max(number, 1), pages)
    return number, pages, (number - 1) * per_page


# -- sign-in ----------------------------------------------------------------------------------


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Page:
    """Exchange a single-use operator token (Network Admin button or `bridge admin-link`)."""
    token = request.form.get("token") if request.method == "POST" else request.args.get("token")
    ctx = _ctx()
    try:
        payload = read_operator_token(ctx.settings.webhook_secrets, token or "", int(time.time()))
    except InvalidToken as exc:
        return _problem("This sign-in link does not work", f"{exc.message}.", 401)
    how = "network_admin" if request.method == "POST" else "admin_link"
    if not use_operator_token(ctx, payload, how):
        return _problem("This sign-in link was used already", "Ask for a new one.", 401)
    session = ConsoleSession.begin(payload["user_id"], payload["login"], payload["role"])
    response = redirect(url_for("console.overview"), 303)
    response.set_cookie(
        COOKIE_NAME,
        _codec().dumps(session),
        httponly=True,
        samesite="Lax",
        secure=_secure(),
        path="/admin",
    )
    return response


@blueprint.post("/sign-out")
@signed_in
def sign_out() -> BaseResponse:
    response = redirect(url_for("console.signed_out"), 303)
    response.delete_cookie(COOKIE_NAME, path="/admin", secure=_secure(), httponly=True)
    return response


@blueprint.get("/signed-out")
def signed_out() -> Page:
    return _page("problem.html", title="Signed out", message="You signed out of the console.")


# -- overview: versions, config.yaml, revert --------------------------------------------------


@blueprint.get("/")
@signed_in
def overview() -> Page:
    ctx = _ctx()
    snapshot = ctx.snapshot()
    _records, total = catalogs.versions(ctx, 0, 1)
    number, pages, offset = _paginate(total, VERSIONS_PER_PAGE)
    records, total = catalogs.versions(ctx, offset, VERSIONS_PER_PAGE)
    return _page(
        "overview.html",
        current=snapshot.version,
        versions=records,
        page=number,
        pages=pages,
        differs=catalogs.config_differs(ctx),
        errors={},
    )


def _impact_page(
    title: str, action: str, preview: Preview, hidden: dict[str, str], back: str
) -> Page:
    return _page(
        "impact.html",
        title=title,
        action=action,
        preview=preview,
        hidden=hidden,
        back=back,
        impact=preview.impact,
        errors={},
    )


@blueprint.post("/catalog/import-config")
@signed_in
def import_config() -> Page:
    """Preview, then import config.yaml's catalog as a new version."""
    ctx = _ctx()
    data = catalog_data(ctx.settings.catalog)
    return _save(
        data, "Import config.yaml's catalog", url_for("console.import_config"), "import", {}
    )


@blueprint.post("/catalog/revert")
@signed_in
def revert() -> Page:
    ctx = _ctx()
    try:
        version = int(request.form.get("version", ""))
        data = catalogs.export_catalog(ctx, version)
    except (ValueError, NotFound):
        return _problem("No such version", "Choose a version from the list.", 404)
    return _save(
        data,
        f"Revert to version {version}",
        url_for("console.revert"),
        "revert",
        {"version": str(version)},
    )


@blueprint.get("/catalog/export.yaml")
@signed_in
def export() -> Page:
    ctx = _ctx()
    raw = request.args.get("version")
    try:
        data = catalogs.export_catalog(ctx, int(raw) if raw else None)
    except (ValueError, NotFound):
        return _problem("No such version", "Choose a version from the list.", 404)
    text = yaml.safe_dump({"catalog": data}, sort_keys=False, allow_unicode=True)
    return Response(text, mimetype="text/yaml")


def _save(
    data: dict[str, Any],
    title: str,
    action: str,
    source: str,
    hidden: dict[str, str],
    back: str | None = None,
) -> Page:
    """Preview an import (impact, problems), or store it when the operator confirmed it."""
    ctx = _ctx()
    session: ConsoleSession = g.console
    back = back or url_for("console.overview")
    preview = catalogs.preview_import(ctx, data)
    base = request.form.get("base_version", "")
    if request.form.get("confirm") != "save" or not preview.ok:
        hidden = {**hidden, "base_version": str(preview.base_version)}
        return _impact_page(title, action, preview, hidden, back)
    reason = _reason()
    if not reason:
        page = _page(
            "impact.html",
            400,
            title=title,
            action=action,
            preview=preview,
            hidden={**hidden, "base_version": base},
            back=back,
            impact=preview.impact,
            errors={"reason": ["Say why (the audit log keeps it)."]},
        )
        return page
    try:
        catalogs.import_catalog(
            ctx,
            data,
            OPERATOR,
            session.who,
            reason,
            source=source,
            base_version=int(base) if base.isdigit() else None,
        )
    except ConcurrentChange as exc:
        return _problem("The catalog changed meanwhile", exc.message, 409)
    except CatalogInvalid as exc:
        refused = Preview(preview.base_version, None, tuple(exc.problems), None)
        return _impact_page(title, action, refused, hidden, back)
    return redirect(back, 303)


def impact_rows(impact: Impact | None) -> list[str]:
    """The impact as sentences for the pages."""
    if impact is None:
        return []
    return [
        f"{len(impact.members)} members and {len(impact.sites)} sites affected",
        f"{len(impact.push_now)} limits documents pushed at once",
        f"{len(impact.at_renewal)} memberships get lower limits at their renewal",
    ]


@blueprint.app_template_global("impact_rows")
def _impact_rows(impact: Impact | None) -> list[str]:
    return impact_rows(impact)
