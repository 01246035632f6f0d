"""Live rooms over real sockets: a real Hypercorn process and an SSE client that parses the wire."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.helpers.live import message_id


async def test_stream_headers_opening_and_retry(live_server, live_users):
    ana = await live_users("ana")
    room = await ana.create_room("General")
    async with ana.stream(f"/rooms/{room}/events") as stream:
        assert stream.status == 200
        headers = stream.headers
        assert headers["content-type"].startswith("text/event-stream")
        # The contract's no-cache, and no-store: a stream is as private as the page.
        assert {"no-cache", "no-store"} <= {v.strip() for v in headers["cache-control"].split(",")}
        assert headers["x-accel-buffering"] == "no"
        presence = await stream.next(timeout=1)
        assert presence.event == "presence"
        assert stream.retry is not None and stream.comments >= 1
        assert "Ana" in presence.data or "ana" in presence.data


async def test_two_users_see_messages_edits_deletes(live_server, live_users):
    ana = await live_users("ana", "Ana")
    ben = await live_users("ben", "Ben")
    room = await ana.create_room("General")
    assert (await ben.post(f"/rooms/{room}/join")).status_code == 303
    async with ben.stream(f"/rooms/{room}/events") as stream:
        await ana.say(room, "first line\nsecond line <b>bold</b>")
        event = (await stream.take("message", 1))[0]
        assert event.id == "1"
        assert 'data-author="ana"' in event.data
        assert "first line<br>\nsecond line &lt;b&gt;bold&lt;/b&gt;" in event.data  # multi-line, whole
        mid = message_id(event.data)
        response = await ana.post(f"/rooms/{room}/messages/{mid}/edit", {"body": "changed"})
        assert response.status_code == 303
        edited = (await stream.take("message_updated", 1))[0]
        assert edited.id == "2" and "changed" in edited.data and "(edited)" in edited.data
        assert 'hx-swap-oob="true"' in edited.data
        response = await ana.post(f"/rooms/{room}/messages/{mid}/delete")
        assert response.status_code == 303
        deleted = (await stream.take("message_updated", 1))[0]
        assert deleted.id == "3" and "Message deleted" in deleted.data and "changed" not in deleted.data


async def test_typing_and_presence_between_two_users(live_server, live_users):
    ana = await live_users("ana", "Ana")
    ben = await live_users("ben", "Ben")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    async with ben.stream(f"/rooms/{room}/events") as ben_stream:
        async with ana.stream(f"/rooms/{room}/events") as ana_stream:
            await ben_stream.until("presence", lambda d: "Ana" in d and "Ben" in d)
            assert (await ana.post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
            typing = await ben_stream.until("typing", lambda d: "Ana is typing" in d)
            # Who is typing, for the page to tell when someone starts (it may announce that).
            assert re.search(r'<data class="typer" value="\d+" data-name="Ana" hidden></data>Ana is typing…', typing.data)
            own = [e for e in await ana_stream.quiet("typing", 0.5)]
            assert all("Ana" not in e.data for e in own)  # never your own typing
            await ana.say(room, "done typing")
            await ben_stream.until("typing", lambda d: "typing" not in d)
        await ben_stream.until("presence", lambda d: "Ana" not in d and "Ben" in d)


async def test_resume_after_disconnect_gets_exactly_the_missed_messages(live_server, live_users):
    ana = await live_users("ana")
    ben = await live_users("ben")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "before")
    async with ben.stream(f"/rooms/{room}/events?last_event_id=0") as stream:
        first = await stream.take("message", 1)
        last_id = first[0].id
    for n in range(20):
        await ana.say(room, f"missed {n}")
    async with ben.stream(f"/rooms/{room}/events", headers={"Last-Event-ID": last_id}) as stream:
        events = await stream.take("message", 20)
        assert [e.id for e in events] == [str(n) for n in range(2, 22)]
        assert [re.search(r"missed \d+", e.data).group(0) for e in events] == [f"missed {n}" for n in range(20)]
        assert all('data-replayed="true"' in e.data for e in events)  # never announced
        assert await stream.quiet("message", 0.5) == []  # nothing twice


async def test_resume_while_messages_keep_arriving(live_server, live_users):
    ana = await live_users("ana")
    ben = await live_users("ben")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(20):
        await ana.say(room, f"old {n}")

    async def keep_posting():
        for n in range(30):
            await ana.say(room, f"new {n}")

    poster = asyncio.create_task(keep_posting())
    async with ben.stream(f"/rooms/{room}/events?last_event_id=0") as stream:
        await poster
        events = await stream.take("message", 50, timeout=20)
        assert [int(e.id) for e in events] == list(range(1, 51))
        assert await stream.quiet("message", 0.5) == []


async def test_both_resume_points_larger_wins_and_bad_values(live_server, live_users):
    ana = await live_users("ana")
    room = await ana.create_room("General")
    for n in range(3):
        await ana.say(room, f"m{n}")
    async with ana.stream(f"/rooms/{room}/events?last_event_id=1", headers={"Last-Event-ID": "2"}) as s:
        events = await s.take("message", 1)
        assert events[0].id == "3"
    for bad in ("-1", "abc", "1.5", "9" * 30):
        async with ana.stream(f"/rooms/{room}/events?last_event_id={bad}") as s:
            assert s.status == 400
    async with ana.stream(f"/rooms/{room}/events?last_event_id=99") as s:  # from the future
        assert (await s.next(skip=("presence", "typing"))).event == "reload"


async def test_signed_out_401_and_non_member_403_never_a_stream(live_server, live_users):
    from tests.helpers.live import LiveUser

    ana = await live_users("ana")
    ben = await live_users("ben")
    private = await ana.create_room("Secret", "private")
    async with ben.stream(f"/rooms/{private}/events") as s:
        assert s.status == 403
        assert "text/event-stream" not in s.headers.get("content-type", "")
    anonymous = LiveUser(live_server.url, "nobody")
    async with anonymous.stream(f"/rooms/{private}/events") as s:
        assert s.status == 401
    async with anonymous.stream("/events") as s:
        assert s.status == 401
    async with ben.stream("/rooms/999999/events") as s:
        assert s.status == 404
    await anonymous.aclose()


async def test_removed_member_stream_closes_and_shows_nothing_after(live_server, live_users):
    """Removal ends the member's stream of the room at once (event `close`), nothing said after it
    reaches them there, their other streams stop carrying the room's unread numbers, and every
    door back (page, history, stream, post) is shut."""
    ana = await live_users("ana")
    ben = await live_users("ben")
    room = await ana.create_room("Secret", "private")
    lobby = await ana.create_room("Lobby", "public")
    assert (await ana.post(f"/rooms/{room}/members", {"username": "ben"})).status_code == 303
    assert (await ben.post(f"/rooms/{lobby}/join")).status_code == 303
    async with ben.stream(f"/rooms/{room}/events") as stream, ben.stream("/events") as own, \
            ben.stream(f"/rooms/{lobby}/events") as elsewhere:
        await ana.say(room, "hello ben")
        assert len(await stream.take("message", 1)) == 1
        await own.until("unread", lambda d: f'id="latest-{room}"' in d)
        await elsewhere.until("unread", lambda d: f'id="latest-{room}"' in d)
        await ana.post(f"/rooms/{room}/members/ben/remove")
        closed = await stream.next(skip=("presence", "typing", "unread", "read"))
        assert closed.event == "close"
        await ana.say(room, "after removal")
        assert await stream.next() is None  # the stream ended; nothing after the removal
        await ana.say(lobby, "marker")  # everything published before it has reached ben's streams
        for other in (own, elsewhere):
            seen = []
            while (event := await other.next()) is not None:
                seen.append(event)
                if f'id="latest-{lobby}"' in event.data:
                    break
            assert not [e for e in seen if f"latest-{room}" in e.data], seen
    for path in (f"/rooms/{room}", f"/rooms/{room}/messages?before=999"):
        assert (await ben.page(path)).status_code == 403
    assert (await ben.post(f"/rooms/{room}/messages", {"body": "let me back"})).status_code == 403
    async with ben.stream(f"/rooms/{room}/events") as stream:
        assert stream.status == 403


async def test_sign_out_everywhere_ends_open_streams_and_refuses_old_cookies(live_server, live_users):
    from tests.helpers.live import LiveUser

    ana = await live_users("ana")
    room = await ana.create_room("General")
    laptop = await LiveUser(live_server.url, "ana").login()
    try:
        async with laptop.stream(f"/rooms/{room}/events") as in_room, laptop.stream("/events") as own:
            await in_room.next()
            assert (await ana.post("/logout/everywhere")).status_code == 303
            for stream in (in_room, own):
                closed = await stream.next(skip=("presence", "typing", "unread", "read"))
                assert closed is not None and closed.event == "close", closed
                assert await stream.next() is None
        assert (await laptop.page("/rooms")).status_code == 303
        assert (await laptop.page("/rooms", htmx=True)).status_code == 401
        async with laptop.stream(f"/rooms/{room}/events") as stream:
            assert stream.status == 401
        async with laptop.stream("/events") as stream:
            assert stream.status == 401
        refused = await laptop.post(f"/rooms/{room}/messages", {"body": "ghost"})
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
        await ana.login()
        assert "ghost" not in (await ana.page(f"/rooms/{room}")).text
    finally:
        await laptop.aclose()


async def test_unread_counts_on_the_user_stream(live_server, live_users):
    ana = await live_users("ana")
    ben = await live_users("ben")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    async with ben.stream("/events") as stream:
        await ana.say(room, "count me")
        unread = (await stream.take("unread", 1))[0]
        assert f'id="latest-{room}"' in unread.data and 'value="1"' in unread.data
        assert (await ben.post(f"/rooms/{room}/read", {"last_message_id": "1"}, htmx=True)).status_code == 204
        mine = (await stream.take("unread", 1))[0]
        assert f'id="read-{room}"' in mine.data and 'value="1"' in mine.data


async def test_read_markers_are_streamed_to_others(live_server, live_users):
    ana = await live_users("ana", "Ana")
    ben = await live_users("ben", "Ben")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "read me")
    async with ana.stream(f"/rooms/{room}/events") as stream:
        await ben.post(f"/rooms/{room}/read", {"last_message_id": "1"}, htmx=True)
        read = (await stream.take("read", 1, timeout=5))[0]
        assert 'data-reader="ben"' in read.data and 'data-message="1"' in read.data


async def test_sigterm_ends_open_streams_and_exits_cleanly(database_url, free_port, workdir):
    from tests.helpers.live import LiveServer, LiveUser

    server = LiveServer(free_port, workdir, database_url).start()
    try:
        ana = await LiveUser(server.url, "ana").register()
        room = await ana.create_room("General")
        async with ana.stream(f"/rooms/{room}/events") as stream:
            await stream.next()
            loop = asyncio.get_running_loop()
            started = loop.time()
            code = await asyncio.to_thread(server.stop)
            assert code == 0, server.log()
            assert loop.time() - started < 10
            while (event := await stream.next(timeout=5)) is not None:
                pass  # the stream ends instead of hanging
        await ana.aclose()
    finally:
        server.stop()


async def test_a_new_direct_room_reaches_the_other_persons_list_through_either_broker(live_server, live_users):
    """The reader's list of rooms over real sockets, in-process and through Redis: the `rooms`
    event, then the new room's unread numbers on the same stream."""
    ana = await live_users("ana", "Ana Lima")
    ben = await live_users("ben", "Ben Okafor")
    async with ben.stream("/events") as stream:
        response = await ana.post("/dm", {"username": "Ben Okafor"})
        assert response.status_code == 303
        room = int(response.headers["location"].rsplit("/", 1)[1])
        event = await stream.until("rooms", lambda data: f'id="nav-room-{room}"' in data)
        assert "Direct: Ana Lima" in event.data
        await ana.say(room, "hello")
        await stream.until("unread", lambda data: f'id="latest-{room}" value="1"' in data)
