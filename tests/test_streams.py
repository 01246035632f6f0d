"""Stream mechanics inside one process: render once, release every subscription, heartbeats,
bounded queues, typing expiry and typing rate limits."""

from __future__ import annotations

import asyncio

import pytest

from webchat import i18n, streams
from webchat.live import feed, topics
from webchat.live.asgi import QueueSink
from webchat.live.feed import Subscriber
from webchat.live import sse
from tests.helpers.tab import Tab
from webchat.live.hub import Envelope, Hub
from webchat.models import Message


def runtime(app):
    return app.extensions["webchat"]


async def wait_for(predicate, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_message_is_rendered_once_for_fifty_subscribers(app, browser_factory, monkeypatch):
    """Once per language (webchat.i18n.LANGUAGES) at most, however many streams take it."""
    monkeypatch.setattr(streams, "STREAMS_PER_USER", 100)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    tabs = [Tab(ana, f"/rooms/{room}/events") for _ in range(50)]
    for tab in tabs:
        await tab.__aenter__()
    try:
        renderer = runtime(app).renderer
        before = renderer.renders
        assert (await ana.say(room, "hello fifty")).status == 303
        for tab in tabs:
            await tab.read_until(b"hello fifty")
        # Once per language at most; once, while the fragment has no translated words.
        assert 1 <= renderer.renders - before <= len(i18n.LANGUAGES)
        assert all(tab.data.count(b"event: message\n") == 1 for tab in tabs)
    finally:
        for tab in tabs:
            await tab.__aexit__()


async def test_two_hundred_streams_opened_and_dropped_release_everything(
    app, browser_factory, monkeypatch
):
    monkeypatch.setattr(streams, "STREAMS_PER_USER", 1000)
    monkeypatch.setattr(streams, "ROOMLESS_STREAMS_PER_USER", 1000)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    hub = runtime(app).hub
    tabs = [Tab(ana, f"/rooms/{room}/events" if n % 2 else "/events") for n in range(200)]
    for tab in tabs:
        await tab.__aenter__()
    assert hub.count == 200
    for tab in tabs:
        await tab.__aexit__()
    await wait_for(lambda: hub.count == 0)
    await wait_for(lambda: not runtime(app).state._presence)


async def test_per_user_stream_cap_answers_429(app, browser_factory, monkeypatch):
    monkeypatch.setattr(streams, "STREAMS_PER_USER", 3)
    monkeypatch.setattr(streams, "ROOMLESS_STREAMS_PER_USER", 3)
    ana = browser_factory()
    await ana.register("ana")
    tabs = [Tab(ana, "/events") for _ in range(3)]
    for tab in tabs:
        await tab.__aenter__()
    try:
        assert await ana.stream_status("/events") == 429
    finally:
        for tab in tabs:
            await tab.__aexit__()


async def test_pages_without_a_room_leave_the_last_places_to_rooms(app, browser_factory, monkeypatch):
    """Tabs of pages that list the rooms (settings, profiles, the room list…) hold `/events`; past
    ROOMLESS_STREAMS_PER_USER those are refused, and a room still opens, up to the whole cap."""
    monkeypatch.setattr(streams, "STREAMS_PER_USER", 5)
    monkeypatch.setattr(streams, "ROOMLESS_STREAMS_PER_USER", 3)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    tabs = [Tab(ana, "/events") for _ in range(3)]
    for tab in tabs:
        await tab.__aenter__()
    try:
        assert await ana.stream_status("/events") == 429
        rooms = [Tab(ana, f"/rooms/{room}/events") for _ in range(2)]
        for tab in rooms:
            await tab.__aenter__()
        tabs += rooms
        assert await ana.stream_status(f"/rooms/{room}/events") == 429
    finally:
        for tab in tabs:
            await tab.__aexit__()


async def test_idle_stream_sends_heartbeat_comments(app, browser_factory, monkeypatch):
    monkeypatch.setattr(sse, "HEARTBEAT_SECONDS", 0.2)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    async with Tab(ana, f"/rooms/{room}/events") as tab:
        await tab.read_until(b": keep-alive")
        assert sse.HEARTBEAT_SECONDS < 20  # the real value is below Heroku's 55 s window too


def test_real_heartbeat_is_below_twenty_seconds():
    assert sse.HEARTBEAT_SECONDS <= 20


async def test_slow_subscriber_is_cut_off_not_grown(monkeypatch):
    """A client that does not take what it is sent is ended (it resumes from its last id), not
    grown: the others are not held up."""
    monkeypatch.setattr(QueueSink, "LIMIT", 10_000)
    hub = Hub()
    slow_sink, fast_sink = QueueSink(), QueueSink()
    slow = Subscriber(1, 5, (topics.room(5),), slow_sink)
    fast = Subscriber(2, 5, (topics.room(5),), fast_sink)
    for sub in (slow, fast):
        hub.add(sub)
        sub.resume()  # opened
    for n in range(25):
        hub.dispatch(Envelope(topics.room(5), "message", b"x" * 1000, seq=n + 1, room=5))
        await fast_sink.next()  # the fast one keeps up
    assert slow.closed == "overflow" and slow_sink.size <= 11_000
    assert fast.closed is None and fast.last == 25


async def test_a_stream_that_is_still_opening_holds_a_bounded_number_of_events(monkeypatch):
    monkeypatch.setattr(feed, "QUEUE_LIMIT", 10)
    hub = Hub()
    opening = Subscriber(1, 5, (topics.room(5),), QueueSink())
    hub.add(opening)
    for n in range(11):
        hub.dispatch(Envelope(topics.room(5), "message", b"x", seq=n + 1, room=5))
    assert opening.closed == "overflow" and opening.pending == []


async def test_shutdown_ends_every_stream(app, browser_factory):
    """Setting `stopping` (what SIGTERM does) ends every open stream; new ones get 503."""
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    hub = runtime(app).hub
    tabs = [Tab(ana, f"/rooms/{room}/events") for _ in range(5)]
    for tab in tabs:
        await tab.__aenter__()
    runtime(app).stopping.set()
    await wait_for(lambda: hub.count == 0)
    assert await ana.stream_status(f"/rooms/{room}/events") == 503
    for tab in tabs:
        await tab.__aexit__()


async def test_typing_expires_and_is_rate_limited(app, browser_factory, monkeypatch):
    from webchat.live import state

    monkeypatch.setattr(state, "TYPING_SECONDS", 0.5)
    ana = browser_factory()
    await ana.register("ana", "Ana")
    ben = browser_factory()
    await ben.register("ben", "Ben")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    async with Tab(ben, f"/rooms/{room}/events") as tab:
        statuses = [(await ana.post(f"/rooms/{room}/typing", htmx=True)).status for _ in range(40)]
        assert statuses.count(204) >= 1 and 429 in statuses
        await tab.read_until(b"Ana is typing")
        # expiry after TYPING_SECONDS, found by the once-a-second housekeeping
        async with asyncio.timeout(4):
            while b"event: typing" not in tab.data.split(b"Ana is typing")[-1]:
                tab.data += await tab.connection.receive()
        assert tab.data.count(b"Ana is typing") == 1  # the flood made one event, not forty


@pytest.mark.parametrize("names,text", [
    ([], ""),
    (["Ana"], "Ana is typing…"),
    (["Ana", "Ben"], "Ana and Ben are typing…"),
    (["Ana", "Ben", "Cleo"], "Ana, Ben and Cleo are typing…"),
    (["Ana", "Ben", "Cleo", "Dan"], "Several people are typing…"),
])
def test_typing_text_reads_naturally(names, text):
    from webchat.render import typing_text

    assert typing_text(names) == text


async def test_opening_streams_in_a_loop_is_limited(app, browser_factory):
    from webchat.ratelimit import Limit

    app.config["RATE_LIMITS"]["stream"] = Limit(5, 60)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    statuses = [await ana.stream_status(f"/rooms/{room}/events?last_event_id=0") for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2


async def test_a_replay_is_framed_once_and_never_served_stale(app, no_limits, browser_factory, monkeypatch):
    """Catching up renders each event once; the next catch-up is served from the frames already
    made, until a message changes: then its new text, never the old."""
    from webchat.models import Message

    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    for n in range(30):
        await ana.say(room, f"note {n:02}")
    renderer = runtime(app).renderer
    framed = []
    frame = renderer.message_frame
    monkeypatch.setattr(renderer, "message_frame", lambda *a, **k: framed.append(a) or frame(*a, **k))

    async def replay() -> bytes:
        async with Tab(ana, f"/rooms/{room}/events?last_event_id=0") as tab:
            await tab.read_until(b"note 29")
            return tab.data[tab.data.index(b"event: message"):]

    first = await replay()
    assert len(framed) == 30
    assert await replay() == first
    assert len(framed) == 30
    note = await Message.get(room_id=room, body="note 05")
    assert (await ana.post(f"/rooms/{room}/messages/{note.id}/edit", {"body": "note five, edited"})).status == 303
    await ana.post(f"/rooms/{room}/messages/{(await Message.get(room_id=room, body='note 06')).id}/delete")
    async with Tab(ana, f"/rooms/{room}/events?last_event_id=0") as tab:
        await tab.read_until(b"id: 32\n")
        assert b"note 05" not in tab.data and b"note 06" not in tab.data
        # Its message event and its edit, both as it is now.
        assert [e.event for e in tab.events() if "note five, edited" in e.data] == [
            "message", "message_updated"]


def test_repeated_request_headers_are_joined_as_http_says():
    """HTTP/2 clients (and the test client) may send each cookie in a header of its own: the
    stream must still find the sign-in cookie among them."""
    from webchat.live.entry import header_map

    headers = header_map([(b"Cookie", b"a=1"), (b"cookie", b"webchat_session=x"), (b"accept-language", b"th"),
                          (b"Accept-Language", b"en;q=0.5")])
    assert headers == {b"cookie": b"a=1; webchat_session=x", b"accept-language": b"th, en;q=0.5"}


async def test_the_message_cache_keeps_to_its_budget_in_bytes(app, browser_factory, monkeypatch):
    """Renders are kept (as UTF-8) while they fit the budget, the least recently used going first,
    so a page of Thai renders (twice the bytes of English ones) cannot take more than the budget."""
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    for n in range(12):
        assert (await ana.say(room, f"message number {n} " + "word " * 40)).status == 303
    renderer = runtime(app).renderer
    renderer.forget_messages()
    page = await ana.get(f"/rooms/{room}")
    assert page.status == 200 and renderer.cached_bytes > 0
    whole = renderer.cached_bytes
    assert whole == sum(map(len, renderer._messages.values()))
    monkeypatch.setattr(renderer, "CACHE_BYTES", whole // 3)
    renderer.forget_messages()
    await ana.get(f"/rooms/{room}")
    assert 0 < renderer.cached_bytes <= whole // 3
    assert renderer.cached_bytes == sum(map(len, renderer._messages.values()))
    # The newest (the last rendered) are kept; the page still shows every message.
    kept = {key[1] for key in renderer._messages}
    newest = max(message.id for message in await Message.filter(room_id=room))
    assert newest in kept and len(kept) < 12
    assert (await ana.get(f"/rooms/{room}")).text.count('class="message') >= 12
