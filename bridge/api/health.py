"""`GET /healthz` (the database answers) and `GET /metrics` (Prometheus text format).

Metrics live in a registry per app, never prometheus_client's global one: two apps in one process
(tests, or a server and a CLI command) must not share or double-register counters.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from bridge.api.state import state

__all__ = ["Metrics", "register"]

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)


class Metrics:
    """The bridge's counters, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bridge_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bridge_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            registry=self.registry,
        )
        self.pushes = Counter(
            "bridge_pushes",
            "Limits pushes by outcome: ok, failed (will retry), rejected, dead.",
            ["outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "bridge_queue_depth",
            "Jobs waiting in the queue, now or scheduled for a retry.",
            registry=self.registry,
        )

    def watch_alerts(self, read: Callable[[], dict[str, int]], max_age_s: float = 1.0) -> None:
        """Gauges of what to alert on, read from the database when scraped (one read per
        scrape: the values are kept `max_age_s`). A scrape while the database is down shows
        NaN for them, and /healthz says why."""
        names = {
            "dead_pushes": "Sites whose limits push is dead (retried slowly by the reconcile).",
            "sites_behind": "Sites whose applied limits version is behind the desired one.",
            "open_invoices": "Invoices open (unpaid).",
            "memberships_past_due": "Memberships past due: their renewal invoice is unpaid.",
            "events_refused_last_day": "Webhook events refused in the last 24 hours.",
        }
        cached = _Cached(read, max_age_s)
        for key, doc in names.items():
            gauge = Gauge(f"bridge_{key}", doc, registry=self.registry)
            gauge.set_function(functools.partial(cached.value, key))

    def count_push(self, outcome: str) -> None:
        self.pushes.labels(outcome=outcome).inc()

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the depth when scraped: cheap on SQLite and Redis (a count, no scan)."""
        self.queue_depth.set_function(lambda: float(depth()))


class _Cached:
    """Counts read at most once per `max_age_s` (one scrape reads every gauge in a row)."""

    def __init__(self, read: Callable[[], dict[str, int]], max_age_s: float) -> None:
        self.read, self.max_age_s = read, max_age_s
        self.at = float("-inf")
        self.values: dict[str, int] = {}

    def value(self, key: str) -> float:
        now = time.monotonic()
        if now - self.at > self.max_age_s:
            try:
                self.values = self.read()
            except Exception:
                log.warning("metrics: the alert counts could not be read")
                self.values = {}
            self.at = now
        return float(self.values[key]) if key in self.values else float("nan")


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        state().ping()
    except Exception as exc:  # any failure means "not healthy"; the reason goes to the log only
        log.warning("health check failed: %s", type(exc).__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@blueprint.get("/metrics")
def metrics() -> Response:
    registry = state().metrics.registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


# The method label takes one of these values: a client choosing the method must not be able to
# create a new series (and grow the scrape) with every made-up method name.
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


def method_label(method: str) -> str:
    """The request's method as a metrics label: a standard method, else "other"."""
    return method if method in METHODS else "other"


def _route() -> str:
    # The URL rule, not the path: one series per endpoint however many site ids are requested.
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def register(app: Flask, metrics: Metrics) -> None:
    """Mount /healthz and /metrics and time every request of the app."""
    app.register_blueprint(blueprint)

    @app.before_request
    def _start_timer() -> None:
        g.bridge_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("bridge_started", None)
        route = _route()
        if started is not None:
            metrics.latency.labels(route=route).observe(time.perf_counter() - started)
        metrics.requests.labels(
            method=method_label(request.method), route=route, status=str(response.status_code)
        ).inc()
        return response
