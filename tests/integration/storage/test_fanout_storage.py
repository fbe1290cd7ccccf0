"""The fan-out's reads and writes on SQLite and PostgreSQL: pending documents as stored JSON,
and many acknowledgements at once under `acknowledge`'s rule."""

from __future__ import annotations

import json
from collections.abc import Callable

from bridge.services.context import Context
from tests.integration.storage.conftest import create_site
from tests.services.conftest import send_event


def test_pending_reads_the_stored_documents_of_live_sites_as_json_text(
    make_ctx: Callable[..., Context],
) -> None:
    ctx = make_ctx()
    for site_id in (2, 3, 4):
        create_site(ctx, site_id, 100 + site_id)
    send_event(ctx, "deleted-4", "site.deleted", {"site_id": 4})

    with ctx.uow() as uow:
        rows = sorted(uow.limits.pending([2, 3, 4, 99]))

    assert [(r[0], r[1], r[2]) for r in rows] == [(2, 1, 0), (3, 1, 0)]
    assert [json.loads(r[3] or "")["site_id"] for r in rows] == [2, 3]


def test_many_acknowledgements_follow_the_single_rule(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx()
    for site_id in (2, 3, 4):
        create_site(ctx, site_id, 100 + site_id)
    with ctx.uow() as uow:
        uow.limits.record_failure(2, 1, "503", False, None, ctx.now())
        uow.commit()
    with ctx.uow() as uow:  # site 4 wants version 2 now; the answer is for version 1
        uow.limits.desire(4, lambda v: {"site_id": 4, "version": v}, ctx.now())
        uow.commit()

    with ctx.uow() as uow:
        uow.limits.acknowledge_many([(2, 1), (3, 7), (4, 1)], ctx.now())
        uow.commit()

    with ctx.uow() as uow:
        states = {s: uow.limits.get(s) for s in (2, 3, 4)}
    two, three, four = states[2], states[3], states[4]
    assert two is not None and (two.applied_version, two.attempts, two.last_error) == (1, 0, None)
    assert three is not None and three.applied_version == 1  # never past the desired version
    assert four is not None and (four.applied_version, four.desired_version) == (1, 2)
