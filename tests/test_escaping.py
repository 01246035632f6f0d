"""Hostile text is shown as text: in messages, names, topics and titles, never as markup."""

from __future__ import annotations

import asyncio
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


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "xlink:href", "srcset",
                  "hx-get", "hx-post", "sse-connect"}


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
    # Only our own files, and the one data block of the scripts' words (JSON, not code).
    data = [s for s in scripts if s == '<script type="application/json" id="script-strings">']
    assert len(data) <= 1 and all('src="/static/' in s for s in scripts if s not in data), scripts
    for tag in ("svg", "img", "iframe", "object", "embed", "b", "i", "a'"):
        assert tag not in parsed.tags, tag
    assert parsed.tags.count("h1") == 1
    styles = re.findall(r"<style[^>]*>", html)
    assert all("nonce=" in s for s in styles) and len(styles) <= 1, styles
    for name, value in parsed.attributes:
        assert not name.startswith("on"), (name, value)
        if name in URL_ATTRIBUTES:  # (a form shown again keeps the text in an input's value)
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


# -- Everywhere else user text appears: streamed fragments and every page title -----------------

FORBIDDEN_TAGS = ("script", "style", "svg", "img", "iframe", "object", "embed", "b", "i", "h1", "a'")


def assert_fragment_inert(html: str) -> None:
    """A fragment swapped into the page (an event's data): no element or attribute from the text."""
    parsed = parse(html)
    for tag in FORBIDDEN_TAGS:
        assert tag not in parsed.tags, (tag, html)
    for name, value in parsed.attributes:
        assert not name.startswith("on"), (name, value)
        if name in URL_ATTRIBUTES:
            assert not value.strip().lower().startswith("javascript:"), (name, value)


NAMES = [text[:64] for text in CORPUS[:12] if not any(ord(ch) < 32 for ch in text[:64])]


async def test_hostile_display_names_are_inert_in_every_streamed_event(sqlite_app):
    """Typing, presence, read markers and messages carry display names into other people's pages
    through the stream: every event's data is inert, and every name arrives, escaped."""
    import html as html_lib

    from tests.helpers.browser import Browser
    from tests.helpers.tab import Tab
    from webchat.ratelimit import Limit

    sqlite_app.config["RATE_LIMITS"]["register"] = Limit(100, 60)
    ana = Browser(sqlite_app)
    await ana.register("ana", "Ana")
    room = await ana.create_room("General")
    await ana.say(room, "first")
    hostile = []
    for n, name in enumerate(NAMES):
        browser = Browser(sqlite_app)
        await browser.register(f"h{n:02d}", name)
        assert (await browser.post(f"/rooms/{room}/join")).status == 303
        hostile.append(browser)
    async with Tab(ana, f"/rooms/{room}/events") as watching:
        for n, browser in enumerate(hostile):
            async with Tab(browser, f"/rooms/{room}/events"):
                await watching.read_until(b"event: presence", timeout=5)
                assert (await browser.post(f"/rooms/{room}/read", {"last_message_id": "1"}, htmx=True)).status == 204
                assert (await browser.post(f"/rooms/{room}/typing", htmx=True)).status == 204
                await browser.say(room, f"message {n}")  # ends their typing
                await watching.read_until(f"message {n}<".encode())
        await watching.read_until(b"event: read", timeout=5)
        await asyncio.sleep(0.3)
        events = watching.events()
    kinds = {event.event for event in events}
    assert {"presence", "typing", "message", "read"} <= kinds, kinds
    for event in events:
        assert_fragment_inert(event.data)
    shown = html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", event.data) for event in events))
    for name in NAMES:
        assert name.strip() in shown, name


async def test_hostile_names_are_inert_in_every_page_title(sqlite_app):
    """Room names, topics and display names in <title>, headings, members, history, edit pages,
    direct-room titles, the notices after adding a member, and forms shown again with an error."""
    from tests.helpers.browser import Browser
    from webchat.ratelimit import Limit

    sqlite_app.config["RATE_LIMITS"]["register"] = Limit(100, 60)
    ana = Browser(sqlite_app)
    await ana.register("ana", "Ana")
    for n, hostile in enumerate(NAMES):
        ben = Browser(sqlite_app)
        await ben.register(f"ben{n:02d}", hostile)
        room = await ana.create_room(hostile[:80], "private", hostile[:200])
        added = await ana.post(f"/rooms/{room}/members", {"username": f"ben{n:02d}"})
        assert added.status == 303
        await ana.say(room, "hello")
        message = (await ana.get(f"/rooms/{room}")).text.split('<li id="m-', 1)[1].split('"', 1)[0]
        dm = (await ana.post("/dm", {"username": f"ben{n:02d}"})).location
        pages = [
            await ana.get(added.location),  # the members page, with the "… was added" notice
            await ana.get(f"/rooms/{room}"),
            await ana.get(f"/rooms/{room}/messages?before=999999"),
            await ana.get(f"/rooms/{room}/messages/{message}/edit"),
            await ana.get(dm),
            await ben.get(f"/rooms/{room}"),
            await ben.get("/rooms"),
            await ana.post("/rooms", {"name": hostile[:80], "topic": "t" * 201, "visibility": "public"}),
            # Not anyone's name (the hostile name itself is Ben's, and he is a member already).
            await ana.post(f"/rooms/{room}/members", {"username": hostile + " (nobody)"}),
        ]
        for page in pages:
            assert page.status in (200, 422), (n, page.status)
            assert_inert(page.text)
            title = re.search(r"<title>(.*?)</title>", page.text, re.S).group(1)
            assert "<" not in title and ">" not in title.replace("&gt;", ""), title
