"""The `bridge` command: serve, worker, migrate, quote, sites, memberships, invoices, repush.

Examples:

    bridge serve --host 127.0.0.1 --port 8000       # waitress + an in-process queue worker
    bridge serve --no-worker                        # when `bridge worker` processes do the pushes
    bridge worker --workers 4                       # one more consumer on the same queue
    bridge migrate                                  # create or upgrade the database schema
    bridge quote examples/upgrade.json              # offline quote of a scenario file
    bridge sites --json                             # plan, desired/applied version, push state
    bridge repush 2 3 | bridge repush --dead | bridge repush --all

Settings come from config.yaml (`--config` or BRIDGE_CONFIG) and BRIDGE_* variables.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bridge.config import Settings, load_settings
from bridge.errors import BridgeError
from bridge.services import listings
from bridge.services.fanout import queue_pushes
from bridge.services.limits import sync_default_limits

if TYPE_CHECKING:
    from bridge.bootstrap import Runtime

log = logging.getLogger("bridge.cli")

# Threads answering HTTP requests in `bridge serve`; a request holds a thread while it waits on
# the database, never on WordPress (pushes run in the queue).
DEFAULT_THREADS = 8
DEFAULT_WORKERS = 2
# Threads of `bridge serve` that push a commit's own limits at once (adapters/live.py).
LIVE_THREADS = 2
# Huey's idle workers poll SQLite with a growing pause (10 s by default); limits must apply
# "at once" after a checkout, so an idle worker looks again at least every second.
MAX_POLL_S = 1.0
# How long in-flight requests get to finish after SIGTERM (keep it under systemd's
# TimeoutStopSec, with the consumer's shutdown timeout on top).
DEFAULT_DRAIN_S = 20.0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="config.yaml to read (default: BRIDGE_CONFIG or ./config.yaml).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Plan Bridge: prorated plan changes and limits for a WordPress multisite network."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["log_level"] = logging.DEBUG if verbose else logging.INFO


def _settings(ctx: click.Context, *, secrets: bool = True) -> Settings:
    try:
        settings = load_settings(path=ctx.obj["config_path"], require_secrets=secrets)
    except BridgeError as exc:
        raise click.ClickException(exc.message) from exc
    from bridge.logs import configure_logging

    configure_logging(settings, ctx.obj["log_level"])
    return settings


def _migrate(settings: Settings) -> None:
    from bridge.adapters.storage import migrate

    migrate(settings.database_url)


def _app(settings: Settings) -> tuple[Runtime, Any]:
    """The runtime (queue, engine) and the Flask app serving on it."""
    from bridge.app import build_app
    from bridge.bootstrap import bootstrap

    runtime = bootstrap(settings)
    return runtime, build_app(settings, runtime=runtime)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1))
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run a queue consumer inside this process.",
)
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1))
@click.option(
    "--drain-timeout",
    "drain_s",
    default=DEFAULT_DRAIN_S,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds in-flight requests get to finish after SIGTERM.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    threads: int,
    worker: bool,
    workers: int,
    drain_s: float,
) -> None:
    """Migrate the database, then serve HTTP (and run queue jobs unless --no-worker).

    SIGTERM drains: no new connections, accepted requests are answered, then the in-process
    consumer finishes its running jobs (a rolling restart loses nothing)."""
    from waitress.server import create_server

    from bridge.serving import serve_until_stopped

    started = time.monotonic()
    settings = _settings(ctx)
    _migrate(settings)
    runtime, app = _app(settings)
    _catalog_start(runtime)
    consumer = None
    if worker:
        consumer = _start_consumer(runtime, settings, workers)
    if runtime.live is not None:
        # A commit's own pushes start at once on these threads (adapters/live.py); the queued
        # copy waits one WordPress timeout and a little more, then finds the site up to date.
        runtime.live.start(
            runtime.runner, threads=LIVE_THREADS, grace_s=settings.wordpress.timeout_s + 2
        )
    from bridge.app import MAX_CONTENT_LENGTH

    # waitress buffers a body (up to 1 GiB by default) before the app sees it; the app's own
    # limit would answer 413 only afterwards. Same limit here, so waitress answers 413 right
    # after the headers (it refuses a length >= its setting, Flask one > MAX_CONTENT_LENGTH).
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="plan-bridge",
        max_request_body_size=MAX_CONTENT_LENGTH + 1,
    )
    url = f"http://{host}:{server.effective_port}"
    click.echo(f"Plan Bridge serving on {url} (healthy at {url}/healthz)", err=False)
    log.info(
        "serving",
        extra={
            "url": url,
            "threads": threads,
            "worker": worker,
            "startup_s": round(time.monotonic() - started, 3),
        },
    )
    stopping = _Stopping(runtime, consumer, settings.wordpress.timeout_s)
    try:
        serve_until_stopped(server, drain_s, on_drain=stopping.begin)
    finally:
        stopping.finish()
        runtime.close()
        log.info("stopped")


class _Stopping:
    """Stopping what runs beside the HTTP server within the unit's stop timeout.

    `begin` (as the drain begins): live pushes not started yet go to the queue, the consumer
    takes no new job and its idle workers stop waiting for one. Pushes already under way go on
    while the requests drain. `finish` (after the drain): wait for them, at most one WordPress
    timeout and a second counted from `begin`, so the whole stop takes the drain plus at most
    that (deploy/plan-bridge-serve@.service's TimeoutStopSec allows for both)."""

    def __init__(self, runtime: Runtime, consumer: Any, push_timeout_s: float) -> None:
        self._runtime, self._consumer = runtime, consumer
        self._budget_s = push_timeout_s + 1
        self._deadline: float | None = None

    def begin(self) -> None:
        self._deadline = time.monotonic() + self._budget_s
        if self._runtime.live is not None:
            self._runtime.live.close()
        if self._consumer is not None:
            self._consumer.stop_flag.set()
            stop_waiting = getattr(self._runtime.queue.huey.storage, "stop_waiting", None)
            if stop_waiting is not None:
                stop_waiting()

    def finish(self) -> None:
        if self._deadline is None:
            self.begin()
        assert self._deadline is not None
        if self._runtime.live is not None:
            self._runtime.live.stop(max(self._deadline - time.monotonic(), 0.1))
        if self._consumer is not None:
            # Huey joins its workers for `shutdown_timeout` at most (running jobs finish).
            self._consumer.shutdown_timeout = max(self._deadline - time.monotonic(), 0.1)
            self._consumer.stop(graceful=True)


def _start_consumer(runtime: Runtime, settings: Settings, workers: int) -> Any:
    """Huey's consumer as threads of this process, then a reconcile so a crash loses nothing."""
    consumer = runtime.consumer(
        workers=workers,
        worker_type="thread",
        periodic=True,
        max_delay=MAX_POLL_S,
        shutdown_timeout=settings.wordpress.timeout_s * 2 + 1,
    )
    # Consumer.start() installs signal handlers meant for Consumer.run(), which we do not call;
    # keep ours (and the default SIGHUP) instead.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    consumer.start()
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    _catch_up(runtime)
    return consumer


def _catalog_start(runtime: Runtime) -> None:
    """Seed an empty database's catalog from config.yaml, or warn that config.yaml differs."""
    from bridge.services.catalog import start_up
    from bridge.services.context import SYSTEM
    from bridge.services.taxes import check_tax_mode

    try:
        check_tax_mode(runtime.ctx)
    except BridgeError as exc:
        runtime.close()
        raise click.ClickException(exc.message) from exc
    start_up(runtime.ctx, SYSTEM)


def _catch_up(runtime: Runtime) -> int:
    """At start-up: re-queue every site behind (a killed worker loses its in-flight pushes,
    never the desired versions in the database) and push new default limits if they changed."""
    queued = int(runtime.jobs.reconcile(True))
    try:
        sync_default_limits(runtime.ctx)
    except Exception:  # the next start tries again; serving must not wait on it
        log.exception("could not check the default limits")
    return queued


@cli.command()
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1))
@click.pass_context
def worker(ctx: click.Context, workers: int) -> None:
    """Run queue jobs in this process (start several for more push throughput)."""
    settings = _settings(ctx)
    if settings.queue.backend == "immediate":
        raise click.ClickException("the immediate queue has no worker; use sqlite or redis")
    _migrate(settings)
    from bridge.bootstrap import bootstrap

    runtime = bootstrap(settings)
    _catalog_start(runtime)
    consumer = runtime.consumer(
        workers=workers,
        worker_type="thread",
        periodic=True,
        max_delay=MAX_POLL_S,
        graceful_signal="TERM",
        shutdown_timeout=settings.wordpress.timeout_s * 2 + 1,
    )
    queued = _catch_up(runtime)
    click.echo(f"Plan Bridge worker: {workers} threads, {queued} pushes re-queued at start-up")
    try:
        consumer.run()  # main thread: Huey's own signal handling (TERM graceful, INT at once)
    finally:
        runtime.close()


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(ctx, secrets=False)
    _migrate(settings)
    click.echo("database is up to date")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
def quote(scenario: str) -> NoReturn:
    """Quote a plan change described by a scenario file, offline."""
    from bridge.services.scenario import run_quote

    code, out, err = run_quote(scenario)
    if out:
        click.echo(out, nl=not out.endswith("\n"))
    if err:
        click.echo(err, err=True, nl=not err.endswith("\n"))
    sys.exit(code)


def _runtime(ctx: click.Context) -> Runtime:
    from bridge.bootstrap import bootstrap

    return bootstrap(_settings(ctx))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def sites(ctx: click.Context, as_json: bool) -> None:
    """List sites with their plan, desired/applied limits version and push state."""
    rows = listings.site_rows(_runtime(ctx).ctx)
    columns = ["site_id", "plan", "status", "desired", "applied", "push", "attempts", "last_error"]
    _emit(rows, columns, as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def memberships(ctx: click.Context, as_json: bool) -> None:
    """List memberships: plan, status, period, balance and sites."""
    rows = listings.membership_rows(_runtime(ctx).ctx)
    columns = ["id", "plan", "status", "period_end", "price", "balance", "currency", "sites"]
    _emit(rows, columns, as_json)


@cli.command()
@click.option("--status", type=click.Choice(["open", "paid", "void", "expired"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def invoices(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List invoices, newest first."""
    rows: list[Any] = [dict(r) for r in listings.invoice_rows(_runtime(ctx).ctx, status)]
    if not as_json:
        for row in rows:
            row.pop("lines")
    columns = ["number", "kind", "status", "site_id", "total", "credit", "amount_due", "paid_at"]
    _emit(rows, columns, as_json)


@cli.command()
@click.argument("site_ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every live site.")
@click.option("--dead", is_flag=True, help="Sites whose pushes gave up (dead).")
@click.pass_context
def repush(ctx: click.Context, site_ids: tuple[int, ...], every: bool, dead: bool) -> None:
    """Queue a push of the current limits document for the given sites."""
    if bool(site_ids) + every + dead != 1:
        raise click.UsageError("name SITE_IDs, or use --all or --dead (one of them)")
    runtime = _runtime(ctx)
    rows = listings.site_rows(runtime.ctx)
    if every:
        targets = [r["site_id"] for r in rows]
    elif dead:
        targets = [r["site_id"] for r in rows if r["push"] == "dead"]
    else:
        known = {r["site_id"] for r in rows}
        unknown = [i for i in site_ids if i not in known]
        if unknown:
            raise click.BadParameter(f"no such site: {', '.join(map(str, unknown))}")
        targets = list(site_ids)
    if len(targets) >= runtime.settings.push.fanout_from:
        queue_pushes(runtime.ctx, targets)
        click.echo(f"{len(targets)} pushes queued as one fan-out")
        return
    with click.progressbar(targets, label="Queueing pushes", show_pos=True) as bar:
        for site_id in bar:
            runtime.queue.enqueue_push(site_id, 0)
    click.echo(f"{len(targets)} pushes queued")


def _emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str, ensure_ascii=False))
        return
    if not rows:
        click.echo("(none)")
        return
    table = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in table)) for i, col in enumerate(columns)]
    click.echo("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True)).rstrip())
    for r in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def main() -> None:
    """Console entry point (`bridge` in pyproject)."""
    cli(obj={})


def _add_console_commands() -> None:
    from bridge.cli_console import admin_link, catalog
    from bridge.cli_import import import_group

    cli.add_command(catalog)
    cli.add_command(admin_link)
    cli.add_command(import_group)


_add_console_commands()
