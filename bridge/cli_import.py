"""`bridge import ultimate-multisite`: move a network from Ultimate Multisite 2.x (README, "Move a
network from Ultimate Multisite").

BRIDGE_UM_DATABASE_URL=mysql://reader:...@127.0.0.1/wordpress \\
    bridge import ultimate-multisite --dry-run        # the report only; nothing is written
bridge import ultimate-multisite --prefix wp_ --network-id 1
bridge import ultimate-multisite --undo 3             # remove what batch 3 created
"""

from __future__ import annotations

import getpass
import os

import click

from bridge.errors import BridgeError


@click.group("import")
def import_group() -> None:
    """Bring another system's catalog, customers and memberships into the bridge."""


@import_group.command("ultimate-multisite")
@click.option("--prefix", default="wp_", show_default=True, help="WordPress's base table prefix.")
@click.option("--network-id", default=1, show_default=True, type=click.IntRange(1))
@click.option("--dry-run", is_flag=True, help="Print the report only; write nothing.")
@click.option("--undo", "undo", type=int, default=None, metavar="BATCH", help="Undo one import.")
@click.option("--by", "who", default=None, help="Who imports (default: cli:$USER).")
@click.pass_context
def ultimate_multisite(
    ctx: click.Context,
    prefix: str,
    network_id: int,
    dry_run: bool,
    undo: int | None,
    who: str | None,
) -> None:
    """Import an Ultimate Multisite 2.x network (database URL from BRIDGE_UM_DATABASE_URL)."""
    from bridge.cli_console import _catalog_runtime
    from bridge.services.context import OPERATOR

    who = who or f"cli:{getpass.getuser()}"
    try:
        if undo is not None:
            from bridge.services.um_undo import undo_import

            runtime = _catalog_runtime(ctx)
            for line in undo_import(runtime.ctx, undo, OPERATOR, who):
                click.echo(line)
            click.echo(f"import batch {undo} undone")
            return
        from bridge.adapters.um_reader import database_url, read_network
        from bridge.services.um_import import import_network

        url = database_url(dict(os.environ))
        network, zone = read_network(url, prefix, network_id)
        runtime = _catalog_runtime(ctx)
        preview = import_network(runtime.ctx, network, zone, OPERATOR, who, dry_run=True)
        for line in preview.report.lines():
            click.echo(line)
        if dry_run:
            click.echo("\ndry run: nothing was written")
            return
        done = import_network(runtime.ctx, network, zone, OPERATOR, who, dry_run=False)
        click.echo(
            f"\nimport batch {done.batch_id} written (catalog version {done.catalog_version}); "
            f"undo it with: bridge import ultimate-multisite --undo {done.batch_id}"
        )
    except BridgeError as exc:
        raise click.ClickException(exc.message) from exc
