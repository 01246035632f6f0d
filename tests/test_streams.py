"""Stream mechanics inside one process: render once, release every subscription, heartbeats,
bounded queues, typing expiry and typing rate limits."""

from __future__ import annotations

import asyncio

import pytest

from webchat.live import hub as hub_module
from tests.helpers.tab import Tab
from webchat.live.hub import Envelope, Hub, Subscriber


def runtime(app):
    return app.extensions["webchat"]


async def wait_for(predicate, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_message_is_rendered_once_for_fifty_subscribers(app, browser_factory, monkeypatch):
    from webchat.live import views

    monkeypatch.setattr(views, "STREAMS_PER_USER", 100)
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
        assert renderer.renders - before == 1
        assert all(tab.data.count(b"event: message\n") == 1 for tab in tabs)
    finally:
        for tab in tabs:
            await tab.__aexit__()


async def test_two_hundred_streams_opened_and_dropped_release_everything(
    app, browser_factory, monkeypatch
):
    from webchat.live import views

    monkeypatch.setattr(views, "STREAMS_PER_USER", 1000)
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
    from webchat.live import views

    monkeypatch.setattr(views, "STREAMS_PER_USER", 3)
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


async def test_idle_stream_sends_heartbeat_comments(app, browser_factory, monkeypatch):
    from webchat.live import views

    monkeypatch.setattr(views, "HEARTBEAT_SECONDS", 0.2)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    async with Tab(ana, f"/rooms/{room}/events") as tab:
        await tab.read_until(b": keep-alive")
        assert views.HEARTBEAT_SECONDS < 20  # the real value is below Heroku's 55 s window too


def test_real_heartbeat_is_below_twenty_seconds():
    from webchat.live import views

    assert views.HEARTBEAT_SECONDS <= 20


async def test_slow_subscriber_is_cut_off_not_grown(monkeypatch):
    monkeypatch.setattr(hub_module, "QUEUE_LIMIT", 10)
    hub = Hub()
    slow = Subscriber(1, 5, ("room:5",))
    fast = Subscriber(2, 5, ("room:5",))
    hub.add(slow)
    hub.add(fast)
    for n in range(25):
        hub.dispatch(Envelope("room:5", "message", b"x", seq=n + 1, room=5))
        fast.frames.clear()  # the fast one keeps up
    assert slow.closed == "overflow" and len(slow.frames) == 10
    assert fast.closed is None


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
