"""The `bridge` commands of the console's part: `catalog import|export|versions`, `admin-link`.

bridge catalog export > catalog.yaml                  # the current version, quote-cli.md format
bridge catalog import catalog.yaml --reason "..."     # a new version (checked, with its impact)
bridge catalog versions                               # who, when, why
bridge admin-link --role viewer                       # a one-time console link (ten minutes)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.bootstrap import Runtime


def _catalog_runtime(ctx: click.Context) -> Runtime:
    from bridge.bootstrap import bootstrap
    from bridge.cli import _catalog_start, _migrate, _settings

    settings = _settings(ctx)
    _migrate(settings)
    runtime = bootstrap(settings)
    _catalog_start(runtime)
    return runtime


@click.group()
def catalog() -> None:
    """The catalog's versions: import a YAML file, export the current one, list versions."""


@catalog.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--reason", required=True, help="Why (kept with the version and in the audit log).")
@click.option("--by", "who", default=None, help="Who imports (default: cli:$USER).")
@click.option("--dry-run", is_flag=True, help="Only show the impact; store nothing.")
@click.pass_context
def catalog_import(
    ctx: click.Context, file: str, reason: str, who: str | None, dry_run: bool
) -> None:
    """Make FILE's `catalog:` section the new current version (checked like a console edit)."""
    import getpass
    from pathlib import Path

    from bridge.catalog_file import load_yaml
    from bridge.domain.catalog import CatalogInvalid
    from bridge.services import catalog as catalogs
    from bridge.services.context import OPERATOR

    data = load_yaml(Path(file))
    section = data.get("catalog") if isinstance(data, dict) and "catalog" in data else data
    runtime = _catalog_runtime(ctx)
    preview = catalogs.preview_import(runtime.ctx, section)
    for problem in preview.problems:
        click.echo(f"{file}: {problem}", err=True)
    if not preview.ok or preview.impact is None:
        raise click.ClickException("the catalog was not imported")
    impact = preview.impact
    click.echo(
        f"{len(impact.changes)} changes; {len(impact.members)} members and "
        f"{len(impact.sites)} sites affected; {len(impact.push_now)} documents to push now; "
        f"{len(impact.over_later)} limits over at renewal"
    )
    for change in impact.changes:
        click.echo(
            f"  {change.product or '-'} {change.field}: {change.before!r} -> {change.after!r}"
        )
    if dry_run:
        return
    try:
        done = catalogs.import_catalog(
            runtime.ctx,
            section,
            OPERATOR,
            who or f"cli:{getpass.getuser()}",
            reason,
            base_version=preview.base_version,
        )
    except (CatalogInvalid, BridgeError) as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"catalog version {done.version} is current")


@catalog.command("export")
@click.option("--version", "version", type=int, default=None, help="A stored version id.")
@click.pass_context
def catalog_export(ctx: click.Context, version: int | None) -> None:
    """Print the current (or a given) version as YAML with a `catalog:` section."""
    import yaml

    from bridge.services import catalog as catalogs

    runtime = _catalog_runtime(ctx)
    try:
        data = catalogs.export_catalog(runtime.ctx, version)
    except BridgeError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(yaml.safe_dump({"catalog": data}, sort_keys=False, allow_unicode=True), nl=False)


@catalog.command("versions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def catalog_versions(ctx: click.Context, as_json: bool) -> None:
    """List catalog versions, newest first."""
    from bridge.services import catalog as catalogs

    records, _total = catalogs.versions(_catalog_runtime(ctx).ctx, 0, 1000)
    rows = [
        {
            "version": r.id,
            "at": r.created_at.isoformat(),
            "by": r.actor,
            "source": r.source,
            "changes": len(r.diff),
            "reason": r.reason,
        }
        for r in records
    ]
    from bridge.cli import _emit

    _emit(rows, ["version", "at", "by", "source", "changes", "reason"], as_json)


@click.command("admin-link")
@click.option("--role", type=click.Choice(["operator", "viewer"]), default="operator")
@click.option("--user", "login", default=None, help="Who signs in (default: cli-$USER).")
@click.pass_context
def admin_link(ctx: click.Context, role: str, login: str | None) -> None:
    """Print a one-time link to the console, valid for ten minutes."""
    import getpass
    import secrets as random_tokens
    from urllib.parse import quote

    from bridge.cli import _settings
    from bridge.contract import ADMIN_LINK_TTL_S, mint_operator_token

    settings = _settings(ctx)
    token = mint_operator_token(
        settings.webhook_secret,
        {
            "user_id": 0,
            "login": login or f"cli-{getpass.getuser()}",
            "role": role,
            "exp": int(time.time()) + ADMIN_LINK_TTL_S,
            "jti": random_tokens.token_urlsafe(16),
        },
    )
    click.echo(f"{settings.public_url}/admin/sign-in?token={quote(token)}")
