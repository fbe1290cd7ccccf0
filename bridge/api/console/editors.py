"""The console's catalog editors: products (create, edit, retire) and plan groups with the
picture of the upgrade paths, each previewed before it is saved as a new catalog version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, redirect, render_template, request, url_for

from bridge.api.console.forms import UNITS, field_of, form_values, product_from_form
from bridge.api.console.pages import (
    Page,
    _ctx,
    _page,
    _paginate,
    _problem,
    _reason,
    _save,
    blueprint,
    signed_in,
)
from bridge.api.console.picture import path_sentence, render
from bridge.domain.catalog import Catalog, CatalogInvalid, CatalogProblem
from bridge.domain.catalog_data import catalog_data
from bridge.domain.money import format_amount
from bridge.domain.paths import upgrade_paths
from bridge.errors import ConcurrentChange
from bridge.services import catalog as catalogs
from bridge.services.context import OPERATOR

PRODUCTS_PER_PAGE = 20


# -- products ---------------------------------------------------------------------------------


def _money(catalog: Catalog, minor: int) -> str:
    return f"{format_amount(minor, catalog.currency)} {catalog.currency}"


@blueprint.get("/products")
@signed_in
def products() -> Page:
    catalog = _ctx().catalog
    items = sorted(catalog.products.values(), key=lambda p: (p.kind, p.group or "", p.order, p.id))
    number, pages, offset = _paginate(len(items), PRODUCTS_PER_PAGE)
    return _page(
        "products.html",
        products=items[offset : offset + PRODUCTS_PER_PAGE],
        money=lambda m: _money(catalog, m),
        page=number,
        pages=pages,
    )


def _addon_choices(catalog: Catalog) -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in catalog.products.values() if p.kind != "plan"]


def _product_page(
    pid: str | None, values: dict[str, Any], errors: dict[str, list[str]], status: int = 200
) -> Page:
    catalog = _ctx().catalog
    return _page(
        "product.html",
        status,
        pid=pid,
        values=values,
        errors=errors,
        units=UNITS,
        addon_choices=_addon_choices(catalog),
        currency=catalog.currency,
        impact=None,
    )


def _errors_of(
    problems: list[CatalogProblem] | tuple[CatalogProblem, ...], pid: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        key = field_of(problem) if problem.product in (pid, None) else "(product)"
        text = problem.message if key != "(product)" else str(problem)
        errors.setdefault(key, []).append(text)
    return errors


@blueprint.route("/products/new", methods=["GET", "POST"])
@signed_in
def new_product() -> Page:
    if request.method == "GET":
        return _product_page(None, form_values(None, _ctx().catalog.currency), {})
    pid = request.form.get("id", "").strip()
    errors: dict[str, list[str]] = {}
    if not pid or not all(c.isalnum() or c in "-_" for c in pid):
        errors["id"] = ["Use letters, digits, - and _ only."]
    elif pid in _ctx().catalog.products:
        errors["id"] = [f"'{pid}' exists already; edit it instead."]
    return _product_post(pid, None, errors)


@blueprint.route("/products/<pid>", methods=["GET", "POST"])
@signed_in
def edit_product(pid: str) -> Page:
    catalog = _ctx().catalog
    product = catalog.get(pid)
    if product is None:
        return _problem("No such product", f"There is no product '{pid}'.", 404)
    if request.method == "GET":
        return _product_page(pid, form_values(product, catalog.currency), {})
    base = catalog_data(catalog)["products"][pid]  # type: ignore[index]
    return _product_post(pid, base, {})


def _product_post(pid: str, base: Any, errors: dict[str, list[str]]) -> Page:
    ctx = _ctx()
    catalog = ctx.catalog
    addons = request.form.getlist("addons")
    fields, problems = product_from_form(pid or "new", request.form, addons, base)
    values = {**dict(request.form), "addons": addons, "active": request.form.get("active") == "on"}
    values.setdefault("kind", (base or {}).get("kind", "plan"))
    if pid:
        values["id"] = pid
    data = catalog_data(catalog)
    data["products"] = {**data["products"], pid or "new": fields}  # type: ignore[dict-item]
    preview = catalogs.preview_import(ctx, data)
    errors = {**errors, **_errors_of([*problems, *preview.problems], pid)}
    confirm = request.form.get("confirm") == "save"
    if confirm and not _reason():
        errors["reason"] = ["Say why (the audit log keeps it)."]
    if errors or not confirm:
        page = render_template(
            "console/product.html",
            session=g.console,
            pid=pid if base is not None else None,
            values=values,
            errors=errors,
            units=UNITS,
            addon_choices=_addon_choices(catalog),
            currency=catalog.currency,
            impact=None if errors else preview.impact,
            base_version=preview.base_version,
        )
        return page, (400 if errors else 200)
    try:
        catalogs.import_catalog(
            ctx,
            data,
            OPERATOR,
            g.console.who,
            _reason(),
            source="console",
            base_version=_int(request.form.get("base_version")),
        )
    except ConcurrentChange as exc:
        return _problem("The catalog changed meanwhile", exc.message, 409)
    except CatalogInvalid as exc:
        return _product_page(pid, values, _errors_of(exc.problems, pid), 400)
    return redirect(url_for("console.edit_product", pid=pid), 303)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


@blueprint.post("/products/<pid>/retire")
@signed_in
def retire_product(pid: str) -> Page:
    catalog = _ctx().catalog
    if pid not in catalog.products:
        return _problem("No such product", f"There is no product '{pid}'.", 404)
    data = catalog_data(catalog)
    data["products"][pid]["active"] = False  # type: ignore[index]
    return _save(
        data,
        f"Retire {catalog.products[pid].name}",
        url_for("console.retire_product", pid=pid),
        "console",
        {},
        back=url_for("console.products"),
    )


# -- plan groups and order, with the picture ----------------------------------------------------


def _plans(catalog: Catalog) -> list[Any]:
    return sorted(
        (p for p in catalog.products.values() if p.kind == "plan"),
        key=lambda p: (p.group or "~", p.order, p.id),
    )


def _groups_page(catalog: Catalog, values: dict[str, dict[str, str]], **extra: Any) -> Page:
    ctx = _ctx()
    path_map = upgrade_paths(catalog, ctx.policy, datetime.now(UTC))
    sentences = [path_sentence(p, catalog.currency) for p in path_map.paths]
    return _page(
        "groups.html",
        extra.pop("status", 200),
        plans=_plans(ctx.catalog),
        values=values,
        picture=render(path_map, catalog.currency),
        sentences=sentences,
        paths=path_map.paths,
        currency=catalog.currency,
        **extra,
    )


@blueprint.route("/groups", methods=["GET", "POST"])
@signed_in
def groups() -> Page:
    ctx = _ctx()
    catalog = ctx.catalog
    if request.method == "GET":
        values = {p.id: {"group": p.group or "", "order": str(p.order)} for p in _plans(catalog)}
        return _groups_page(
            catalog,
            values,
            errors={},
            preview=False,
            impact=None,
            base_version=ctx.snapshot().version,
        )
    data = catalog_data(catalog)
    values = {}
    errors: dict[str, list[str]] = {}
    for plan in _plans(catalog):
        group = request.form.get(f"group-{plan.id}", "").strip()
        order_text = request.form.get(f"order-{plan.id}", "0").strip() or "0"
        values[plan.id] = {"group": group, "order": order_text}
        fields = data["products"][plan.id]  # type: ignore[index]
        fields.pop("group", None)
        fields.pop("order", None)
        if group:
            fields["group"] = group
        try:
            order = int(order_text)
        except ValueError:
            errors[f"order-{plan.id}"] = ["Write a whole number."]
            continue
        if order:
            fields["order"] = order
    preview = catalogs.preview_import(ctx, data)
    for problem in preview.problems:
        errors.setdefault(f"{problem.field}-{problem.product}", []).append(problem.message)
    confirm = request.form.get("confirm") == "save"
    if confirm and not _reason():
        errors["reason"] = ["Say why (the audit log keeps it)."]
    shown = preview.catalog if preview.catalog is not None else catalog
    if errors or not confirm:
        return _groups_page(
            shown,
            values,
            errors=errors,
            preview=True,
            impact=preview.impact,
            base_version=request.form.get("base_version", ""),
            status=400 if errors else 200,
        )
    try:
        catalogs.import_catalog(
            ctx,
            data,
            OPERATOR,
            g.console.who,
            _reason(),
            source="console",
            base_version=_int(request.form.get("base_version")),
        )
    except ConcurrentChange as exc:
        return _problem("The catalog changed meanwhile", exc.message, 409)
    except CatalogInvalid as exc:
        errors = {f"{p.field}-{p.product}": [p.message] for p in exc.problems}
        return _groups_page(
            shown, values, errors=errors, preview=True, impact=None, base_version="", status=400
        )
    return redirect(url_for("console.groups"), 303)
