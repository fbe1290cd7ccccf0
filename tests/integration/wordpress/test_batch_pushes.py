"""Batches of limits documents against the real network: POST /bridge/v1/limits/batch.

The bridge's own adapter (`RestLimitsPusher.push_batch`) sends them to the network's URL; the
plugin applies each document to the blog it names under the single push's version rule and
answers per site.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bridge.adapters.wordpress import PushRejected, RestLimitsPusher, XmlRpcLimitsPusher
from bridge.contract import push_webhook, sign_headers
from tests.integration.wordpress.conftest import next_version

pytestmark = pytest.mark.wordpress

BATCH_ROUTE = "?rest_route=/bridge/v1/limits/batch"


@pytest.fixture(scope="module")
def subsites(wp_network: Any) -> list[Any]:
    return [wp_network.create_site(wp_network.next_slug("batch")) for _ in range(3)]


@pytest.fixture
def pusher(bridge_secret: str) -> Iterator[RestLimitsPusher]:
    with RestLimitsPusher(bridge_secret, timeout_s=30.0) as p:
        yield p


def document(site_id: int, version: int, limits: dict[str, Any]) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "version": version,
        "issued_at": datetime.now(UTC).isoformat(),
        "limits": limits,
        "membership": None,
    }


def pairs(documents: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """What the fan-out hands the pusher: (site id, the document's JSON as stored)."""
    return [(int(d["site_id"]), json.dumps(d)) for d in documents]


def stored(network: Any, site: Any) -> Any:
    return json.loads(
        network.eval_php("echo wp_json_encode( get_option( 'plan_bridge_limits' ) );", site.url)
    )


def post_raw(network: Any, body: str, headers: dict[str, str], url: str | None = None) -> Any:
    response = requests.post(
        (url or network.url) + BATCH_ROUTE,
        data=body.encode(),
        headers={**headers, "Content-Type": "application/json"},
        timeout=60,
    )
    response.close()
    return response


def test_one_batch_applies_each_sites_document_and_answers_per_site(
    wp_network: Any, subsites: list[Any], pusher: RestLimitsPusher
) -> None:
    version = next_version()
    missing = max(s.blog_id for s in subsites) + 10_000
    documents = [document(s.blog_id, version, {"users": n + 1}) for n, s in enumerate(subsites)]
    documents.append(document(missing, version, {"users": 1}))

    documents.append({"site_id": subsites[0].blog_id, "version": "soon", "limits": {}})

    items = pusher.push_batch(
        wp_network.url, pairs(documents), datetime.now(UTC), "msg_batch_first"
    )

    assert [(i.site_id, i.status, i.applied_version) for i in items[:3]] == [
        (s.blog_id, "applied", version) for s in subsites
    ]
    assert (items[3].site_id, items[3].status, items[3].code, items[3].http_status) == (
        missing,
        "error",
        "bridge_unknown_site",
        404,
    )
    assert (items[4].status, items[4].code) == ("error", "bridge_invalid_document")
    for n, site in enumerate(subsites):
        doc = stored(wp_network, site)
        assert (doc["site_id"], doc["version"], doc["limits"]) == (
            site.blog_id,
            version,
            {"users": n + 1},
        )


def test_older_and_equal_versions_in_a_batch_are_stale_and_change_nothing(
    wp_network: Any, subsites: list[Any], pusher: RestLimitsPusher
) -> None:
    version = next_version()
    first = [document(s.blog_id, version, {"users": 5}) for s in subsites]
    pusher.push_batch(wp_network.url, pairs(first), datetime.now(UTC), "msg_batch_base")
    older, same, newer = subsites

    items = pusher.push_batch(
        wp_network.url,
        pairs(
            [
                document(older.blog_id, version - 1, {"users": 9}),
                document(same.blog_id, version, {"users": 9}),
                document(newer.blog_id, version + 1, {"users": 9}),
            ]
        ),
        datetime.now(UTC),
        "msg_batch_rule",
    )

    assert [(i.status, i.applied_version) for i in items] == [
        ("stale", version),
        ("stale", version),
        ("applied", version + 1),
    ]
    assert stored(wp_network, older)["limits"] == {"users": 5}
    assert stored(wp_network, same)["limits"] == {"users": 5}
    assert stored(wp_network, newer)["limits"] == {"users": 9}


def test_a_batch_with_a_bad_signature_is_refused_and_applies_nothing(
    wp_network: Any, subsites: list[Any], bridge_secret: str
) -> None:
    before = stored(wp_network, subsites[0])
    body = json.dumps({"documents": [document(subsites[0].blog_id, next_version(), {"users": 0})]})
    other_key = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    headers = sign_headers(push_webhook(other_key), "msg_batch_forged", datetime.now(UTC), body)

    response = post_raw(wp_network, body, headers)

    assert response.status_code == 401
    assert response.json()["code"] == "bridge_invalid_signature"
    assert stored(wp_network, subsites[0]) == before


def test_a_batch_over_the_bound_is_refused_whole(
    wp_network: Any, subsites: list[Any], pusher: RestLimitsPusher
) -> None:
    version = next_version()
    documents = [document(subsites[0].blog_id, version, {"users": 1})] * 201

    with pytest.raises(PushRejected) as refused:
        pusher.push_batch(wp_network.url, pairs(documents), datetime.now(UTC), "msg_batch_big")

    assert refused.value.status == 413
    assert "bridge_batch_too_large" in str(refused.value)
    assert stored(wp_network, subsites[0])["version"] < version


def test_a_batch_sent_to_a_subsite_is_refused(
    wp_network: Any, subsites: list[Any], bridge_secret: str
) -> None:
    body = json.dumps({"documents": [document(subsites[1].blog_id, next_version(), {})]})
    headers = sign_headers(push_webhook(bridge_secret), "msg_batch_sub", datetime.now(UTC), body)

    response = post_raw(wp_network, body, headers, url=subsites[0].url)

    assert response.status_code == 400
    assert response.json()["code"] == "bridge_batch_not_main_site"


def test_over_xml_rpc_a_batch_goes_as_single_calls_with_the_same_answers(
    wp_network: Any, subsites: list[Any], bridge_secret: str
) -> None:
    version = next_version()
    missing = max(s.blog_id for s in subsites) + 20_000
    xmlrpc = XmlRpcLimitsPusher(bridge_secret, timeout_s=30.0)
    documents = [document(subsites[2].blog_id, version, {"users": 4})]
    documents.append(document(missing, version, {"users": 4}))

    items = xmlrpc.push_batch(wp_network.url, pairs(documents), datetime.now(UTC), "msg_x_batch")

    assert [(i.site_id, i.status, i.applied_version) for i in items[:1]] == [
        (subsites[2].blog_id, "applied", version)
    ]
    assert (items[1].site_id, items[1].status, items[1].http_status) == (missing, "error", 404)
    assert stored(wp_network, subsites[2])["limits"] == {"users": 4}
