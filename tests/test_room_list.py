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


def room_nav(html: str) -> str | None:
    found = re.search(r'<nav id="room-nav".*?</nav>', html, re.S)
    return found.group(0) if found else None


async def test_every_signed_in_page_lists_the_readers_rooms_with_their_counts(ana, ben):
    """Not only the room list and the rooms: settings, mentions, search, people, profiles, a room's
    members and a message's replies, administration, the API's pages. Each lists the reader's rooms
    (with unread and mention counts) after its main content and keeps them live through the reader's
    stream; the page's own room is not marked as the current page. Error pages and signed-out pages
    do not."""
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ben.say(room, "hello @ana")
    mid = int(re.findall(r'<li id="m-(\d+)"', (await ben.get(f"/rooms/{room}")).text)[-1])
    pages = ["/settings", "/mentions", "/search?q=hello", "/people", "/users/ben", "/settings/tokens",
             f"/rooms/{room}/members", f"/rooms/{room}/messages/{mid}/replies", "/admin", "/api",
             f"/rooms/{room}/messages/{mid}/reactions"]
    for path in pages:
        page = await ana.get(path)
        assert page.status == 200, (path, page.status)
        nav = room_nav(page.text)
        assert nav is not None, path
        assert page.text.count('<nav id="room-nav"') == 1, path
        assert f'<a href="/rooms/{room}"><span class="room-name">General' in nav, path
        assert f'<span id="unread-{room}" class="unread" data-room="{room}">1 unread</span>' in nav, path
        assert "Mentions and replies" in nav and "1 unread" in nav, path
        assert 'aria-current="page"' not in nav and "fold" not in nav.split(">", 1)[0], path
        assert page.text.index("</main>") < page.text.index('<nav id="room-nav"'), path
        assert '<body class="with-rooms"' in page.text and 'sse-connect="/events"' in page.text, path
    # The room list and the room keep their own list, first, once; the room's own entry is current.
    for path in ("/rooms", f"/rooms/{room}"):
        html = (await ana.get(path)).text
        assert html.count('<nav id="room-nav"') == 1 and html.index('<nav id="room-nav"') < html.index("<main")
    assert f'<li id="nav-room-{room}" data-sort="0general" data-notify="mentions" class="current">' in (
        await ana.get(f"/rooms/{room}")).text
    # An error page, and a page for someone signed out: no list of rooms, no stream.
    missing = await ana.get("/rooms/999999")
    assert missing.status == 404 and room_nav(missing.text) is None and "sse-connect" not in missing.text
    await ben.post("/logout")
    signed_out = await ben.get("/login")
    assert room_nav(signed_out.text) is None and "sse-connect" not in signed_out.text
