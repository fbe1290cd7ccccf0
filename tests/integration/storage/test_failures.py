"""Database failures become the error tree's errors at the storage adapter's boundary."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bridge.adapters.storage import make_engine
from bridge.adapters.storage.failures import translated
from bridge.adapters.storage.unit_of_work import unit_of_work_factory
from bridge.errors import ConcurrentChange, DatabaseUnavailable
from tests.services.fakes import FakeQueue
from tests.support.ports import free_port


class _Orig(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def test_a_database_that_does_not_answer_is_database_unavailable() -> None:
    engine = make_engine(f"postgresql://bridge@127.0.0.1:{free_port()}/bridge")
    try:
        with (
            pytest.raises(DatabaseUnavailable) as caught,
            unit_of_work_factory(engine, FakeQueue())(),
        ):
            pass
        assert caught.value.code == "database_unavailable"
    finally:
        engine.dispose()


def test_deadlocks_and_serialization_failures_are_concurrent_changes() -> None:
    for sqlstate in ("40P01", "40001"):
        error = translated(OperationalError("UPDATE ...", {}, _Orig(sqlstate)))
        assert isinstance(error, ConcurrentChange)
    assert isinstance(
        translated(OperationalError("SELECT 1", {}, _Orig("57P01"))), DatabaseUnavailable
    )  # admin_shutdown: the server is going down
    assert translated(IntegrityError("INSERT ...", {}, _Orig("23505"))) is None
    assert translated(ValueError("not a database error")) is None
