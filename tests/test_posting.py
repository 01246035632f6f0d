"""Posting under load: posts that arrive together are written together (group commit), and each
still gets its own message number and event id, in order, with nothing lost or doubled."""

from __future__ import annotations

import asyncio

from webchat.messages import service
from webchat.models import Event, Message, Room, User


async def test_posts_at_once_are_each_saved_with_their_own_ids(app, no_limits, browser_factory, monkeypatch):
    batches = []
    together = service._write_together

    async def counting(posts):
        batches.append(len(posts))
        return await together(posts)

    monkeypatch.setattr(service, "_write_together", counting)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    await ana.ensure_token()
    pages = await asyncio.gather(*(ana.say(room, f"note {n}") for n in range(40)))
    assert [page.status for page in pages] == [303] * 40
    assert sum(batches) == 40 and max(batches) > 1  # written together, in fewer commits than posts
    messages = await Message.filter(room_id=room).order_by("seq")
    assert [m.seq for m in messages] == list(range(1, 41))
    assert sorted(m.body for m in messages) == sorted(f"note {n}" for n in range(40))
    events = await Event.filter(room_id=room).order_by("seq").values_list("seq", "message_id")
    assert [seq for seq, _ in events] == list(range(1, 41))
    assert len({message for _, message in events}) == 40


async def test_a_double_submit_among_others_is_one_message(app, no_limits, browser_factory):
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    await ana.ensure_token()
    posts = [ana.say(room, "once, however often", nonce="same-nonce") for _ in range(5)]
    posts += [ana.say(room, f"other {n}") for n in range(5)]
    pages = await asyncio.gather(*posts)
    assert all(page.status == 303 for page in pages)
    assert await Message.filter(room_id=room, body="once, however often").count() == 1
    assert await Message.filter(room_id=room).count() == 6
    assert {page.location for page in pages[:5]} == {pages[0].location}  # every answer, the first message


async def test_a_post_that_fails_does_not_take_the_others_with_it(app, no_limits, browser_factory, monkeypatch):
    """A batch that fails is written again one post at a time: only the bad one fails."""
    render = service.render_body

    def fussy(body):
        if body == "boom":
            raise RuntimeError("this one cannot be rendered")
        return render(body)

    monkeypatch.setattr(service, "render_body", fussy)
    ana = browser_factory()
    await ana.register("ana")
    room = await ana.create_room("General")
    await ana.ensure_token()
    pages = await asyncio.gather(*(ana.say(room, body) for body in ["a", "b", "boom", "c", "d"]))
    assert [page.status for page in pages] == [303, 303, 500, 303, 303]
    assert sorted(await Message.filter(room_id=room).values_list("body", flat=True)) == ["a", "b", "c", "d"]
    assert [seq for seq in await Event.filter(room_id=room).order_by("seq").values_list("seq", flat=True)] == [1, 2, 3, 4]


async def test_batches_over_the_same_rooms_in_opposite_orders_do_not_deadlock(app, no_limits, browser_factory):
    """Two processes each writing a batch for the same rooms (here: two connections at once) lock
    the rooms in one order; otherwise PostgreSQL finds a deadlock and fails one batch."""
    ana = browser_factory()
    await ana.register("ana")
    rooms = [await Room.get(id=await ana.create_room(f"Room {n}")) for n in range(4)]
    author = await User.get(username="ana")

    def batch(order, label):
        return [service._Post(room, author, f"{label} to {room.name}", f"{label} to {room.name}", None)
                for room in order]

    for attempt in range(5):
        results = await asyncio.gather(
            service._write_together(batch(rooms, f"forward {attempt}")),
            service._write_together(batch(rooms[::-1], f"backward {attempt}")),
            return_exceptions=True,
        )
        assert not [r for r in results if isinstance(r, BaseException)], results
    for room in rooms:
        seqs = await Message.filter(room_id=room.id).order_by("seq").values_list("seq", flat=True)
        assert seqs == list(range(1, 11))
