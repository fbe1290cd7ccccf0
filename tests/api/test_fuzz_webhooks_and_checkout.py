"""Fuzz the webhook `data` and the checkout form with the shapes that used to answer 500.

Events are signed correctly (so they reach the parser and the use cases), posted through the
test client to the real app on SQLite; pushes go to a recording pusher, and every URL generated
is a loopback URL (127.0.0.0/8), so nothing generated ever leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bridge_app import (
    RecordingPusher,
    bridge_app,
    post_event,
    post_raw_event,
    seed_site,
    start_checkout,
)

pytestmark = pytest.mark.slow

EVENT_TYPES = ["site.created", "site.deleted", "usage.reported", "limits.applied", "invoice.paid"]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

huge_ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**400]),
)
long_text = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=480, max_value=2100).map(lambda n: "n" * n),
    st.sampled_from(["\x00", "a\x00b", "Europe/Oslo", "UTC+5.5", "../../etc", "x" * 70]),
)
loopback_urls = st.builds(
    lambda a, b, path, port: f"http://127.{a}.{b}.1{port}/{path}",
    st.integers(0, 255),
    st.integers(0, 255),
    st.text(alphabet="abc/%?#:@", max_size=30),
    st.sampled_from(["", ":8080", ":0", ":99999"]),
) | st.integers(2000, 3000).map(lambda n: "http://127.0.0.1/" + "p" * n)
amounts = st.one_of(
    st.sampled_from(["1e309", "9" * 30, "-0", "1.005", "NaN", "Infinity", "1e-400", " 5 "]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
)
scalars = st.one_of(st.none(), st.booleans(), huge_ints, long_text, amounts, loopback_urls)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def _owner() -> st.SearchStrategy[Any]:
    return st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"user_id": huge_ints},
            optional={"email": long_text, "locale": long_text},
        ),
    )


event_data = st.one_of(
    st.fixed_dictionaries(
        {"site_id": huge_ints, "url": loopback_urls, "name": long_text, "owner": _owner()},
        optional={"timezone": long_text},
    ),
    st.fixed_dictionaries({"site_id": huge_ints}, optional={"usage": json_values}),
    st.fixed_dictionaries({"site_id": huge_ints, "version": huge_ints}),
    st.fixed_dictionaries(
        {"invoice_id": st.one_of(long_text, huge_ints), "amount": amounts, "currency": long_text},
        optional={"reference": long_text},
    ),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FlaskClient, RecordingPusher]]:
    # One app for all examples: the point is that no input breaks it, whatever came before.
    with bridge_app(tmp_path_factory.mktemp("fuzz")) as (app, pusher, _clock):
        client = app.test_client()
        seed_site(client, 2)
        yield client, pusher


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    # Apart from the events' app: a fuzzed site.deleted must not end the checkout's site.
    with bridge_app(tmp_path_factory.mktemp("checkout")) as (app, _pusher, _clock):
        client = app.test_client()
        seed_site(client, 2)
        yield client


@FUZZ
@given(event_type=st.sampled_from(EVENT_TYPES) | st.text(max_size=120), data=event_data)
def test_no_signed_event_answers_5xx(
    fuzzed: tuple[FlaskClient, RecordingPusher], event_type: str, data: dict[str, Any]
) -> None:
    client, pusher = fuzzed
    response = post_event(client, event_type, data)
    assert response.status_code < 500, (response.status_code, response.data)
    assert response.status_code in (204, 400), response.data
    assert all(url.startswith("http://127.") for url, _ in pusher.pushed)


@FUZZ
@given(depth=st.integers(1, 100_000), opener=st.sampled_from(["[", '{"a":']))
def test_no_nesting_depth_answers_5xx(
    fuzzed: tuple[FlaskClient, RecordingPusher], depth: int, opener: str
) -> None:
    client, _ = fuzzed
    closer = "]" if opener == "[" else "}"
    body = json.dumps({"type": "usage.reported"})[:-1] + ', "data": {"usage": '
    body += opener * depth + "1" * (opener != "[") + closer * depth + "}}"
    response = post_raw_event(client, body)
    assert response.status_code in (204, 400, 413), response.data  # 413: over 256 KiB


form_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["1e309", "-2", "1.5", "9" * 400, "999", "0", "", "1000", "٣"]),
)
choices = st.one_of(
    st.sampled_from(
        ["premium:bogus", "premium:1-month", "premium:12-month", "free:once", "basic:1-year"]
    ),
    st.builds(lambda p, b: f"{p}:{b}", st.sampled_from(["premium", "basic", "x"]), form_values),
    form_values,
)


@FUZZ
@given(
    choice=choices,
    addons_for=st.sampled_from(["premium", "basic", ""]),
    quantities=st.dictionaries(
        st.sampled_from(["extra-disk", "unlimited-visits", "site-migration", "nope"]),
        form_values,
        max_size=3,
    ),
    path=st.sampled_from(["/checkout/sites/2", "/checkout/sites/2/summary"]),
)
def test_no_checkout_form_answers_5xx_or_json_errors(
    checkout: FlaskClient,
    choice: str,
    addons_for: str,
    quantities: dict[str, str],
    path: str,
) -> None:
    client = checkout
    csrf = start_checkout(client, 2)
    form = {"csrf": csrf, "choice": choice, "addons-for": addons_for}
    form.update({f"addon-{key}": value for key, value in quantities.items()})
    response = client.post(path, data=form)
    assert response.status_code < 500, response.data[:300]
    if response.status_code >= 400:
        assert response.mimetype == "text/html", response.data[:300]


@FUZZ
@given(invoice=form_values, result=form_values)
def test_no_confirmation_link_answers_5xx(checkout: FlaskClient, invoice: str, result: str) -> None:
    client = checkout
    start_checkout(client, 2)
    response = client.get(
        "/checkout/sites/2/done", query_string={"invoice": invoice, "result": result}
    )
    assert response.status_code in (200, 303, 400), response.data[:300]
    assert response.mimetype == "text/html"
