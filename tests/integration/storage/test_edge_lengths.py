"""On PostgreSQL, where VARCHAR lengths, BIGINT and NUL are enforced: the edge's limits hold.

A blog name longer than its column is stored cut (the site still gets its membership); a URL,
e-mail, locale or time zone longer than its column, an id beyond BIGINT and NUL in a string are
refused with 400 naming the field, never StringDataRightTruncation or NumericValueOutOfRange.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient

from tests.support.bridge_app import AUTH, bridge_app, post_event, site_created_data

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(postgres_url: str, tmp_path: Path) -> Iterator[FlaskClient]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    with bridge_app(tmp_path, database_url=postgres_url) as (app, _pusher, _clock):
        yield app.test_client()


def test_a_long_blog_name_is_stored_cut_and_the_site_has_its_membership(
    client: FlaskClient,
) -> None:
    response = post_event(client, "site.created", site_created_data(3, name="Å" * 700))
    assert response.status_code == 204, response.data
    site = client.get("/api/v1/sites/3", headers=AUTH).get_json()
    assert site["site"]["name"] == "Å" * 500
    assert site["membership"]["plan"]["id"] == "free"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "http://127.0.0.1/" + "u" * 2100}, "'url'"),
        ({"owner": {"user_id": 7, "email": "e" * 400}}, "'owner.email'"),
        ({"owner": {"user_id": 7, "locale": "x" * 40}}, "'owner.locale'"),
        ({"timezone": "America/" + "y" * 80}, "'timezone'"),
        ({"site_id": 2**63}, "'site_id'"),
        ({"owner": {"user_id": 2**63}}, "'owner.user_id'"),
    ],
)
def test_fields_beyond_their_columns_are_refused_naming_the_field(
    client: FlaskClient, overrides: dict[str, Any], field: str
) -> None:
    response = post_event(client, "site.created", site_created_data(4, **overrides))
    assert response.status_code == 400, response.data
    assert field in response.get_json()["error"]["message"]
    assert client.get("/api/v1/sites/4", headers=AUTH).status_code == 404


def test_nul_in_a_string_and_ids_beyond_bigint_never_reach_postgresql(
    client: FlaskClient,
) -> None:
    response = post_event(client, "site.created", site_created_data(5, name="a\x00b"))
    assert response.status_code == 400, response.data
    assert client.get(f"/api/v1/sites/{2**63}", headers=AUTH).status_code == 404
    assert client.get("/api/v1/invoices/a%00b", headers=AUTH).status_code == 404
    long_type = post_event(client, "t" * 101, {})
    assert long_type.status_code == 400, long_type.data
