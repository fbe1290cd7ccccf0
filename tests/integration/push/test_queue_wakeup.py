"""The embedded SQLite queue's idle workers: woken by an enqueue, and let go when stopping.

An idle worker of `WakingSqliteStorage` waits inside `dequeue` (as Redis's BRPOP does) for an
enqueue of its process. The wait is made an hour long here, so a worker that returns at all was
woken, never timed out.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bridge.adapters import queue as queue_module
from bridge.adapters.queue import WakingSqliteStorage


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WakingSqliteStorage:
    monkeypatch.setattr(queue_module, "WAKE_TIMEOUT_S", 3600.0)
    return WakingSqliteStorage("wakeup-test", filename=str(tmp_path / "queue.db"))


def _idle_worker(storage: WakingSqliteStorage) -> tuple[threading.Thread, list[bytes | None]]:
    got: list[bytes | None] = []
    thread = threading.Thread(target=lambda: got.append(storage.dequeue()), daemon=True)
    thread.start()
    return thread, got


def test_an_enqueue_wakes_an_idle_worker_with_the_job(storage: WakingSqliteStorage) -> None:
    thread, got = _idle_worker(storage)
    thread.join(timeout=0.2)
    assert thread.is_alive()  # waiting: the queue is empty
    storage.enqueue(b"job")
    thread.join(timeout=30)
    assert not thread.is_alive() and got == [b"job"]


def test_stopping_lets_an_idle_worker_go_and_no_worker_waits_again(
    storage: WakingSqliteStorage,
) -> None:
    thread, got = _idle_worker(storage)
    thread.join(timeout=0.2)
    assert thread.is_alive()
    storage.stop_waiting()
    thread.join(timeout=30)
    assert not thread.is_alive() and got == [None]
    again, got_again = _idle_worker(storage)  # a stopping consumer waits for nothing any more
    again.join(timeout=30)
    assert not again.is_alive() and got_again == [None]
