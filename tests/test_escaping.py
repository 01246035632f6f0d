"""Hostile text is shown as text: in messages, names, topics and titles, never as markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

CORPUS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '"><script>alert(2)</script>',
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    "https://example.org/\"onmouseover=\"alert(1)",
    "https://example.org/<script>",
    "<a href='javascript:alert(1)'>x</a>",
    "<b>unclosed <i>tags",
    "</li></ol><h1>fake heading</h1>",
    "<!-- comment --><style>body{display:none}</style>",
    "\u202egnp.exe\u202c right-to-left override",
    "\u2066isolate\u2069 and \u200f marks",
    "A" * 3000,
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
    "data: event: injected\n\nevent: message\ndata: <script>x</script>",
    "&lt;already escaped&gt; &amp;",
]


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def assert_inert(html: str) -> None:
    parsed = parse(html)
    scripts = re.findall(r"<script[^>]*>", html)
    assert all('src="/static/' in s for s in scripts), scripts  # only our own files
    for tag in ("svg", "img", "iframe", "object", "embed", "b", "i", "a'"):
        assert tag not in parsed.tags, tag
    assert parsed.tags.count("h1") == 1
    styles = re.findall(r"<style[^>]*>", html)
    assert all("nonce=" in s for s in styles) and len(styles) <= 1, styles
    for name, value in parsed.attributes:
        assert not name.startswith("on"), (name, value)
        assert not value.strip().lower().startswith("javascript:"), (name, value)


@pytest.mark.parametrize("body", CORPUS, ids=range(len(CORPUS)))
async def test_hostile_message_bodies_are_inert(sqlite_app, body):
    from tests.helpers.browser import Browser

    ana = Browser(sqlite_app)
    await ana.register("ana")
    room = await ana.create_room("General")
    assert (await ana.say(room, body)).status == 303
    page = await ana.get(f"/rooms/{room}")
    assert_inert(page.text)
    # the text is there, as text
    visible = re.sub(r"<[^>]+>", "", page.text)
    import html as html_lib

    assert body.strip()[:40] in html_lib.unescape(visible).replace("\n", "\n")


@pytest.mark.parametrize("hostile", CORPUS[:12], ids=range(12))
async def test_hostile_names_and_topics_are_inert(sqlite_app, hostile):
    from tests.helpers.browser import Browser

    ana = Browser(sqlite_app)
    page = await ana.post("/register", {"username": "ana", "password": "correct horse", "display_name": hostile[:64]})
    assert page.status in (303, 422)
    if page.status == 422:
        assert_inert(page.text)
        await ana.register("ana")
    room_page = await ana.post("/rooms", {"name": hostile[:80], "topic": hostile[:200], "visibility": "public"})
    if room_page.status == 303:
        page = await ana.get(room_page.location)
        assert_inert(page.text)
        title = re.search(r"<title>(.*?)</title>", page.text, re.S).group(1)
        assert "<" not in title
    else:
        assert_inert(room_page.text)
    assert_inert((await ana.get("/rooms")).text)


async def test_event_stream_frame_keeps_every_line_prefixed():
    from webchat.live.sse import frame

    data = frame("message", "line one\nevent: evil\r\ndata: x\rlast", 7).decode()
    lines = data.split("\n")
    assert lines[0] == "event: message" and lines[1] == "id: 7"
    assert all(line.startswith("data: ") for line in lines[2:-2]), lines
    assert data.endswith("\n\n")
