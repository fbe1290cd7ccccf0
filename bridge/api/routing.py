"""URL converters for ids, so that an id the database cannot hold never reaches it.

`<bigid:site_id>`: a site id, a whole number that fits the BIGINT columns (0 to 2^63 - 1); a
larger one matches no route (404) instead of overflowing SQLite or PostgreSQL.
`<key:quote_id>`: a quote or invoice id, at most 64 letters, digits, `-` and `_`; anything else
(NUL, which PostgreSQL refuses, or a 10,000-character id) matches no route either.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from bridge.api.inputs import INT64_MAX


class Id64Converter(IntegerConverter):
    """A non-negative integer id of at most 2^63 - 1."""

    # At most 19 digits: int() of thousands of digits is slow, and past 4300 it raises.
    regex = r"\d{1,19}"

    def __init__(self, map: Map) -> None:
        super().__init__(map, max=INT64_MAX)


class KeyConverter(BaseConverter):
    """A stored key such as a quote's or an invoice's id."""

    regex = r"[A-Za-z0-9_-]{1,64}"


def install(app: Flask) -> None:
    """Add the converters to the app (idempotent; each blueprint that uses them calls it)."""
    app.url_map.converters.setdefault("bigid", Id64Converter)
    app.url_map.converters.setdefault("key", KeyConverter)
