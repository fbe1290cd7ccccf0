"""`GET /` on the real app: a small, accessible HTML page with the links a newcomer needs."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.support.bridge_app import bridge_app


class _Outline(HTMLParser):
    """The parts of a page that matter here: lang, title, headings and links."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.title = ""
        self.headings: list[tuple[str, str]] = []
        self.links: dict[str, str] = {}
        self._open: list[str] = []
        self._href = ""
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag in ("title", "h1", "h2", "h3", "a"):
            self._open.append(tag)
            self._text = ""
            self._href = values.get("href") or "" if tag == "a" else self._href

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1] != tag:
            return
        self._open.pop()
        text = " ".join(self._text.split())
        if tag == "title":
            self.title = text
        elif tag == "a":
            self.links[self._href] = text
        else:
            self.headings.append((tag, text))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    with bridge_app(tmp_path) as (app, _pusher, _clock):
        yield app.test_client()


def outline(client: FlaskClient) -> _Outline:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = _Outline()
    page.feed(response.get_data(as_text=True))
    return page


def test_root_is_an_html_page_not_the_json_404(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True).lstrip().lower().startswith("<!doctype html>")


def test_root_links_the_console_health_check_and_openapi(client: FlaskClient) -> None:
    links = outline(client).links
    assert {"/admin/", "/healthz", "/openapi.json"} <= set(links)
    assert all(text for text in links.values()), links


def test_every_link_of_the_root_page_answers(client: FlaskClient) -> None:
    for href in outline(client).links:
        response = client.get(href)
        # The console redirects to its sign-in without a session; nothing answers 404.
        assert response.status_code in (200, 302, 303, 401), (href, response.status_code)


def test_root_page_has_a_language_a_title_and_one_main_heading(client: FlaskClient) -> None:
    page = outline(client)
    assert page.lang == "en"
    assert page.title == "Plan Bridge"
    assert [text for tag, text in page.headings if tag == "h1"] == ["Plan Bridge"]
    assert all(tag in ("h1", "h2") for tag, _ in page.headings)


def test_root_page_points_to_the_readme_and_make_demo(client: FlaskClient) -> None:
    text = client.get("/").get_data(as_text=True)
    assert "README.md" in text
    assert "make demo" in text


def test_unknown_paths_keep_the_json_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.is_json
