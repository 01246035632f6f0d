"""The reader's list of rooms, live, through their own stream (`/events`, and every room stream):
a new direct room, being added to or removed from a room, leaving, joining, a room renamed or
deleted. Each change is a `rooms` event; from a room's arrival on, the stream carries that room's
unread numbers too, and after its removal no longer does."""

from __future__ import annotations

import asyncio
import re

from tests.helpers.tab import Tab
from webchat.rooms import broadcasts


def rooms_events(tab: Tab) -> list[str]:
    return [e.data for e in tab.events() if e.event == "rooms"]


async def no_more(tab: Tab, marker: bytes, seconds: float = 0.5) -> bool:
    """Nothing with the marker arrives within a short while (for asserting absence)."""
    try:
        await tab.read_until(marker, timeout=seconds)
    except TimeoutError:
        return True
    return False


async def test_a_new_direct_room_appears_in_the_other_persons_list(ana, ben):
    async with Tab(ben, "/events") as bens_list:
        page = await ana.post("/dm", {"username": "Ben Okafor"})
        room = int(page.location.rsplit("/", 1)[1])
        await bens_list.read_until(b"event: rooms")
        [entry] = rooms_events(bens_list)
        # An entry of his list, named for him, with its numbers (nothing unread yet).
        # A direct room notifies of every message by default.
        assert entry.startswith(f'<li id="nav-room-{room}" data-sort="1direct: ana lima" data-notify="all">')
        assert f'<a href="/rooms/{room}"><span class="room-name">Direct: Ana Lima<span class="unread-sep">, </span></span>' in entry
        assert f'<data id="latest-{room}" value="0"></data><data id="read-{room}" value="0"></data>' in entry
        # His stream now follows the new room's count: Ana's message reaches him as a number.
        await ana.say(room, "hello Ben")
        # With the new message's id and author, for browser notifications.
        await bens_list.read_until(f'<data id="latest-{room}" value="1" data-message='.encode())
    async with Tab(ana, "/events") as anas_list:
        # Opening it again changes nobody's list.
        await ana.post("/dm", {"username": "ben"})
        assert await no_more(anas_list, b"event: rooms")


async def test_added_to_and_removed_from_a_private_room(ana, ben):
    room = await ana.create_room("Secret plans", "private")
    async with Tab(ben, "/events") as bens_list:
        assert (await ana.post(f"/rooms/{room}/members", {"username": "@ben"})).status == 303
        await bens_list.read_until(b"event: rooms")
        [entry] = rooms_events(bens_list)
        assert f'id="nav-room-{room}" data-sort="0secret plans"' in entry
        assert 'class="room-name">Secret plans<' in entry
        await ana.say(room, "for members")
        await bens_list.read_until(f'id="latest-{room}" value="1"'.encode())
        assert (await ana.post(f"/rooms/{room}/members/ben/remove")).status == 303
        await bens_list.read_until(f'<li id="nav-room-{room}" data-update="remove"></li>'.encode())
        before = len(bens_list.data)
        await ana.say(room, "after Ben left")
        assert await no_more(bens_list, f'id="latest-{room}" value="2"'.encode())
        assert b"after Ben left" not in bens_list.data[before:]


async def test_joining_creating_and_leaving_reach_the_readers_other_pages(ana, ben):
    public = await ana.create_room("Agora", "public")
    async with Tab(ben, "/events") as other_tab:
        assert (await ben.post(f"/rooms/{public}/join")).status == 303
        await other_tab.read_until(f'id="nav-room-{public}"'.encode())
        own = await ben.create_room("Ben's own", "public")
        await other_tab.read_until(f'id="nav-room-{own}"'.encode())
        assert (await ben.post(f"/rooms/{public}/leave")).status == 303
        await other_tab.read_until(f'<li id="nav-room-{public}" data-update="remove"></li>'.encode())
        assert [re.search(r'id="nav-room-(\d+)"', e).group(1) for e in rooms_events(other_tab)] == [
            str(public), str(own), str(public)]
    # A room stream carries the reader's list too (the room page shows it).
    async with Tab(ben, f"/rooms/{own}/events") as room_tab:
        dm = int((await ana.post("/dm", {"username": "ben"})).location.rsplit("/", 1)[1])
        await room_tab.read_until(f'id="nav-room-{dm}"'.encode())


async def test_renamed_and_deleted_rooms_reach_every_member(app, ana, ben, cleo):
    """No page renames or deletes a room yet: these are the calls that will (rooms/broadcasts.py)."""
    rt = app.extensions["webchat"]
    room = await ana.create_room("Old name", "public")
    await ben.post(f"/rooms/{room}/join")
    async with Tab(ana, "/events") as anas, Tab(ben, "/events") as bens, Tab(cleo, "/events") as cleos:
        await broadcasts.room_renamed(rt, room, "New <name>")
        for tab in (anas, bens):
            await tab.read_until(b"event: rooms")
            assert rooms_events(tab) == [
                f'<li id="nav-room-{room}" data-update="name" data-sort="0new &lt;name&gt;">'
                '<span class="room-name">New &lt;name&gt;</span></li>'
            ]
        assert await no_more(cleos, b"event: rooms")  # not a member
        await broadcasts.room_deleted(rt, room)
        for tab in (anas, bens):
            await tab.read_until(f'<li id="nav-room-{room}" data-update="remove"></li>'.encode())
        # The streams no longer follow its count.
        await broadcasts.unread_latest(rt, room, 99)
        assert await no_more(bens, b'value="99"')
