"""`GET /healthz` (the database answers) and `GET /metrics` (Prometheus text format).

Metrics live in a registry per app, never prometheus_client's global one: two apps in one process
(tests, or a server and a CLI command) must not share or double-register counters.
"""

from __future__ import annotations

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

    def count_push(self, outcome: str) -> None:
        self.pushes.labels(outcome=outcome).inc()

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the depth when scraped: cheap on SQLite and Redis (a count, no scan)."""
        self.queue_depth.set_function(lambda: float(depth()))


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
