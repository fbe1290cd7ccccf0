"""`bridge serve`'s HTTP loop on waitress, with a drain for rolling restarts.

waitress's own `run()` stops on KeyboardInterrupt by closing every connection at once: a request
that was being read or answered is cut off. Here SIGTERM (or SIGINT) starts a drain instead:

1. connections the kernel already completed are accepted, then the listening socket closes, so
   new connections are refused and the load balancer sends them to another process (its health
   check on /healthz fails the same way);
2. requests already accepted are read to the end, run and answered, each answer with
   `Connection: close` (a keep-alive client, or the load balancer, opens its next request on a
   server that stays); idle keep-alive connections are closed;
3. when no connection has work left (or `drain_s` has passed), the loop ends and the caller
   stops what runs beside the server. `on_drain` is called as the drain begins, so the caller
   can start stopping those (the queue consumer, live pushes) while requests finish.

A second signal during the drain stops at once (KeyboardInterrupt), as an impatient operator
expects.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.task import WSGITask

__all__ = ["serve_until_stopped"]

log = logging.getLogger("bridge.serve")

# How long one turn of the loop may wait for socket activity before it looks at the flag again.
_TURN_S = 0.2
# A connection with nothing to do for this long is idle (a keep-alive between requests).
_IDLE_S = 0.5


@contextmanager
def _drain_on_signals(server: Any, stop: threading.Event) -> Iterator[None]:
    def _drain(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            log.info("received %s again, stopping now", signal.Signals(signum).name)
            raise KeyboardInterrupt
        log.info("received %s, draining", signal.Signals(signum).name)
        stop.set()
        server.pull_trigger()  # wake the loop's poll at once

    previous = {sig: signal.signal(sig, _drain) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _closing_when(stop: threading.Event) -> type[HTTPChannel]:
    """waitress's channel, whose answers say `Connection: close` once `stop` is set (a WSGI
    app may not set that hop-by-hop header itself: PEP 3333)."""

    class Task(WSGITask):  # type: ignore[misc]
        def build_response_header(self) -> Any:
            if stop.is_set():
                self.set_close_on_finish()
            return super().build_response_header()

    class Channel(HTTPChannel):  # type: ignore[misc]
        task_class = Task

    return Channel


def _turn(server: Any, timeout_s: float) -> None:
    wasyncore.loop(
        timeout=timeout_s, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1
    )


def _accept_backlog(server: Any) -> int:
    """Accept the connections the kernel already completed (closing the listening socket would
    reset them: their clients sent their requests before the drain began)."""
    accepted = 0
    for _ in range(server.adj.backlog):
        before = len(server._map)
        server.handle_accept()  # accept() answers None once the backlog is empty
        if len(server._map) == before:
            break
        accepted += 1
    return accepted


def _busy_channels(server: Any) -> int:
    """Connections with a request being read, run or answered, or too fresh to call idle (just
    accepted, its request maybe not read yet); idle ones are told to close."""
    busy = 0
    quiet_since = time.time() - _IDLE_S
    for channel in list(server.active_channels.values()):
        working = channel.requests or channel.request is not None or channel.total_outbufs_len
        if working or channel.last_activity > quiet_since:
            busy += 1
        elif not channel.will_close:
            channel.will_close = True  # an idle keep-alive connection: closed on the next turn
    return busy


def serve_until_stopped(
    server: Any, drain_s: float, on_drain: Callable[[], None] | None = None
) -> bool:
    """Run waitress's `server` until SIGTERM/SIGINT, then drain; whether every request finished.

    The caller still owns what runs beside the server (the queue consumer, the engine).
    """
    stop = threading.Event()
    server.channel_class = _closing_when(stop)
    drained = False
    try:
        with _drain_on_signals(server, stop):
            while not stop.is_set():
                _turn(server, server.adj.asyncore_loop_timeout)
            if on_drain is not None:
                try:
                    on_drain()
                except Exception:
                    log.exception("could not begin stopping the work beside the server")
            # Stop accepting: take what is already queued, then close the listening socket but
            # keep the trigger that lets task threads wake this loop when a response is ready.
            _accept_backlog(server)
            wasyncore.dispatcher.close(server)
            deadline = time.monotonic() + drain_s
            while (busy := _busy_channels(server)) and time.monotonic() < deadline:
                _turn(server, _TURN_S)
            drained = busy == 0
            # One more turn closes the idle connections marked above.
            _turn(server, 0)
            if drained:
                log.info("drained: every accepted request was answered")
            else:
                log.warning("drain timed out", extra={"busy_connections": busy})
    except KeyboardInterrupt:
        log.info("stopping without draining")
    finally:
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(server._map)
    return drained
