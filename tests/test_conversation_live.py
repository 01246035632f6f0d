"""Reactions and replies live, over real sockets, through both brokers and on both databases:
one fragment for everyone, replayed exactly once on resume, and never a new `message`."""

from __future__ import annotations

from tests.helpers.live import message_id


async def test_a_reaction_reaches_every_stream_once_as_an_update(live_server, live_users):
    ana = await live_users("ana", "Ana")
    ben = await live_users("ben", "Ben")
    room = await ana.create_room("General")
    assert (await ben.post(f"/rooms/{room}/join")).status_code == 303
    async with ben.stream(f"/rooms/{room}/events") as ben_stream, ana.stream(f"/rooms/{room}/events") as ana_stream:
        await ana.say(room, "lunch?")
        mid = message_id((await ben_stream.take("message", 1))[0].data)
        await ana_stream.take("message", 1)
        response = await ben.post(f"/rooms/{room}/messages/{mid}/reactions", {"emoji": "👍"}, htmx=True)
        assert response.status_code == 204
        seen = [(await stream.take("message_updated", 1))[0] for stream in (ben_stream, ana_stream)]
        assert seen[0].data == seen[1].data and seen[0].id == seen[1].id == "2"  # the same bytes for both
        assert 'aria-label="thumbs up: Ben"' in seen[0].data and 'hx-swap-oob="true"' in seen[0].data
        assert not [e for e in await ben_stream.quiet("message", 0.5)]  # not a new message
    # Resuming from before the reaction replays it once, as the message is now.
    async with ben.stream(f"/rooms/{room}/events?last_event_id=1") as again:
        replayed = await again.take("message_updated", 1)
        assert replayed[0].id == "2" and "thumbs up: Ben" in replayed[0].data
        assert 'data-replayed="true"' in replayed[0].data
        assert not await again.quiet("message_updated", 0.5)
    async with ben.stream(f"/rooms/{room}/events?last_event_id=0") as whole:
        events = [await whole.next(skip=("presence", "typing")) for _ in range(2)]
        assert [(e.event, e.id) for e in events] == [("message", "1"), ("message_updated", "2")]


async def test_a_reply_arrives_as_a_message_and_its_original_counts_it_as_an_update(live_server, live_users):
    ana = await live_users("ana", "Ana")
    ben = await live_users("ben", "Ben")
    room = await ana.create_room("General")
    assert (await ben.post(f"/rooms/{room}/join")).status_code == 303
    async with ben.stream(f"/rooms/{room}/events") as ben_stream, ana.stream(f"/rooms/{room}/events") as ana_stream:
        await ana.say(room, "lunch?")
        mid = message_id((await ben_stream.take("message", 1))[0].data)
        await ana_stream.take("message", 1)
        response = await ben.post(f"/rooms/{room}/messages", {"body": "yes", "reply_to": str(mid)}, htmx=True)
        assert response.status_code == 200
        for stream in (ben_stream, ana_stream):
            reply = (await stream.take("message", 1))[0]
            assert reply.id == "2" and f'href="/rooms/{room}/messages/{mid}">In reply to Ana: ' in reply.data
            update = (await stream.take("message_updated", 1))[0]
            assert update.id == "3" and f'<li id="m-{mid}"' in update.data and "1 reply</a>" in update.data
            assert 'hx-swap-oob="true"' in update.data
        assert not await ben_stream.quiet("message", 0.5)  # the count is no new message
    # Resuming from before the reply replays each once, in order.
    async with ben.stream(f"/rooms/{room}/events?last_event_id=1") as again:
        events = [await again.next(skip=("presence", "typing")) for _ in range(2)]
        assert [(e.event, e.id) for e in events] == [("message", "2"), ("message_updated", "3")]
        assert "1 reply</a>" in events[1].data
        assert not await again.quiet("message_updated", 0.5)
