"""Rooms, messages, history, read markers and direct rooms, without JavaScript."""

from __future__ import annotations

import logging
import re

from webchat.models import Membership, Message, Room


async def test_create_public_room_and_list_it(ana, ben):
    room = await ana.create_room("General", topic="Anything goes")
    page = await ana.get(f"/rooms/{room}")
    assert page.status == 200
    assert "<h1" in page.text and "General" in page.text and "Anything goes" in page.text
    assert f'<form id="composer" class="composer stack" method="post" action="/rooms/{room}/messages"' in page.text
    listing = await ben.get("/rooms")
    assert f'href="/rooms/{room}"' in listing.text and "Public rooms you can join" in listing.text
    owner_listing = await ana.get("/rooms")
    assert f'id="unread-{room}"' in owner_listing.text


async def test_room_name_validation_keeps_input(ana):
    page = await ana.post("/rooms", {"name": "", "topic": "kept topic", "visibility": "public"})
    assert page.status == 422 and 'href="#room-name"' in page.text and 'value="kept topic"' in page.text
    page = await ana.post("/rooms", {"name": "n" * 81, "visibility": "public"})
    assert page.status == 422
    page = await ana.post("/rooms", {"name": "ok", "visibility": "secret"})
    assert page.status == 422 and 'href="#visibility-public"' in page.text
    assert await Room.all().count() == 0


async def test_join_post_and_leave_public_room(ana, ben):
    room = await ana.create_room("General")
    page = await ben.get(f"/rooms/{room}")
    assert page.status == 200 and "Join General" in page.text and 'id="composer"' not in page.text
    page = await ben.say(room, "hi")
    assert page.status == 403 and "Join the room to post" in page.text
    assert (await ben.post(f"/rooms/{room}/join")).status == 303
    page = await ben.say(room, "hi")
    assert page.status == 303 and page.location.startswith(f"/rooms/{room}#m-")
    assert (await ben.post(f"/rooms/{room}/leave")).status == 303
    assert (await ben.say(room, "after leaving")).status == 403
    assert await Message.filter(body="after leaving").count() == 0


async def test_private_room_only_members_see_it(ana, ben, cleo):
    room = await ana.create_room("Secret plans", "private")
    for path in (f"/rooms/{room}", f"/rooms/{room}/messages?before=5", f"/rooms/{room}/members"):
        page = await ben.get(path)
        assert page.status == 403, path
        assert "Secret plans" not in page.text
    assert "Secret plans" not in (await ben.get("/rooms")).text
    assert (await ben.post(f"/rooms/{room}/join")).status == 403
    # only the owner adds members
    assert (await ben.post(f"/rooms/{room}/members", {"username": "ben"})).status == 403
    assert (await ana.post(f"/rooms/{room}/members", {"username": "BEN"})).status == 303
    assert (await ben.get(f"/rooms/{room}")).status == 200
    assert (await ben.post(f"/rooms/{room}/members", {"username": "cleo"})).status == 403
    page = await ana.post(f"/rooms/{room}/members", {"username": "nobody"})
    assert page.status == 422 and 'href="#member-username"' in page.text
    assert (await ana.post(f"/rooms/{room}/members/ben/remove")).status == 303
    assert (await ben.get(f"/rooms/{room}")).status == 403


async def test_messages_edit_delete_rules(ana, ben, cleo):
    room = await ana.create_room("General")
    for who in (ben, cleo):
        await who.post(f"/rooms/{room}/join")
    await ben.say(room, "ben's words")
    message = await Message.get(body="ben's words")
    base = f"/rooms/{room}/messages/{message.id}"
    assert (await cleo.post(f"{base}/edit", {"body": "hijack"})).status == 403
    assert (await ana.post(f"{base}/edit", {"body": "owner edit"})).status == 403  # owners don't edit
    assert (await cleo.post(f"{base}/delete")).status == 403
    assert (await ben.post(f"{base}/edit", {"body": "   "})).status == 422
    page = await ben.post(f"{base}/edit", {"body": "ben's better words"})
    assert page.status == 303
    page = await ben.get(f"/rooms/{room}")
    assert "ben&#39;s better words" in page.text and "(edited)" in page.text
    assert (await ana.post(f"{base}/delete")).status == 303  # the owner may delete
    await message.refresh_from_db()
    assert message.deleted and message.body == ""  # the text is erased from storage
    page = await ben.get(f"/rooms/{room}")
    assert "Message deleted" in page.text and "better words" not in page.text
    assert (await ben.post(f"{base}/edit", {"body": "revive"})).status == 410


async def test_body_limits_keep_the_text(ana):
    room = await ana.create_room("General")
    page = await ana.say(room, "   \n  ")
    assert page.status == 422 and 'href="#composer-body"' in page.text
    long = "x" * 4001
    page = await ana.say(room, long)
    assert page.status == 422 and long in page.text and "4,000" in page.text
    page = await ana.post(f"/rooms/{room}/messages", {"body": long}, htmx=True)
    assert page.status == 422 and long in page.text
    assert (await ana.say(room, "y" * 4000)).status == 303
    assert await Message.all().count() == 1


async def test_duplicate_submit_with_nonce_creates_one_message(ana):
    room = await ana.create_room("General")
    first = await ana.say(room, "once", nonce="abc123")
    second = await ana.say(room, "once", nonce="abc123")
    assert first.status == second.status == 303
    assert first.location == second.location
    assert await Message.filter(body="once").count() == 1
    htmx = await ana.post(f"/rooms/{room}/messages", {"body": "again", "nonce": "n2"}, htmx=True)
    assert htmx.status == 200 and 'id="composer"' in htmx.text and "again" not in htmx.text


def bodies(html: str) -> list[str]:
    """The numbers of the "message number N" bodies shown, in order (each once: not the spoken
    sentence that repeats the text for screen readers)."""
    return re.findall(r'<div class="body"[^>]*>message number (\d+)</div>', html)


async def test_history_pages_back_fifty_at_a_time(app, ana, no_limits):
    room = await ana.create_room("General")
    for n in range(120):
        await ana.say(room, f"message number {n}")
    page = await ana.get(f"/rooms/{room}")
    shown = bodies(page.text)
    assert shown == [str(n) for n in range(70, 120)]  # the latest 50, oldest first
    first_id = int(re.search(r'<li id="m-(\d+)"', page.text).group(1))
    link = f"/rooms/{room}/messages?before={first_id}"
    assert f'href="{link}"' in page.text
    older = await ana.get(link)
    assert bodies(older.text) == [str(n) for n in range(20, 70)]
    assert "<h1" in older.text  # a whole page without htmx
    fragment = await ana.get(link, htmx=True)
    assert "<html" not in fragment.text and 'hx-swap-oob="true"' in fragment.text
    oldest_id = int(re.search(r'<li id="m-(\d+)"', older.text).group(1))
    last = await ana.get(f"/rooms/{room}/messages?before={oldest_id}")
    assert bodies(last.text) == [str(n) for n in range(20)]
    assert "start of the conversation" in last.text
    assert (await ana.get(f"/rooms/{room}/messages?before=abc")).status == 400


async def test_fragment_markup_of_a_message(ana):
    room = await ana.create_room("General")
    await ana.say(room, "see https://example.org/a?b=1&c=2. and\nnew line")
    page = await ana.get(f"/rooms/{room}")
    li = re.search(r'<li id="m-\d+"[^>]*>.*?</li>', page.text, re.S).group(0)
    assert 'data-author="ana"' in li
    assert '<time datetime="' in li and "UTC" in li
    assert 'dir="auto"' in li
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow ugc">' in li
    assert "</a>. and<br>" in li


def said(li: str) -> str:
    """The sentence a screen reader says for one rendered message."""
    return re.search(r'<span class="said visually-hidden">(.*?)</span>', li, re.S).group(1)


async def test_a_message_is_said_in_one_sentence(ana, ben):
    """Author, @username, time once, then the text: one sentence for assistive technology, with
    the shown header (and a body without links) hidden from it, so nothing is read twice. The
    @username is shown beside the display name too, so a display name cannot pass for another's."""
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Good <morning>\nsecond line")
    await ben.say(room, "see https://example.org now")
    await ana.say(room, "first words")
    await ana.say(room, "gone soon")
    plain, linked, edited, deleted = await Message.all().order_by("id")
    await ana.post(f"/rooms/{room}/messages/{edited.id}/edit", {"body": "better words"})
    await ana.post(f"/rooms/{room}/messages/{deleted.id}/delete")
    page = await ana.get(f"/rooms/{room}")
    items = re.findall(r'<li id="m-\d+"[^>]*>.*?</li>', page.text, re.S)
    assert len(items) == 4
    when = plain.created_at.strftime("%Y-%m-%d %H:%M UTC")
    assert said(items[0]) == f"Ana Lima @ana, {when}: Good &lt;morning&gt;\nsecond line"
    assert '<p class="meta" aria-hidden="true"><span class="author">Ana Lima</span> <span class="username">@ana</span> <time datetime="' in items[0]
    assert '<div class="body" dir="auto" aria-hidden="true">Good &lt;morning&gt;<br>' in items[0]
    # With a link the body stays readable (its link can be reached): the sentence ends at the colon.
    assert said(items[1]) == f"Ben Okafor @ben, {linked.created_at.strftime('%Y-%m-%d %H:%M UTC')}: "
    assert '<div class="body" dir="auto">see <a href="https://example.org"' in items[1]
    assert said(items[2]).endswith(", edited: better words") and "(edited)" in items[2]
    assert said(items[3]).endswith(": message deleted") and "gone soon" not in items[3]
    assert '<p class="body tombstone" aria-hidden="true">Message deleted</p>' in items[3]
    # The actions are one short link each: the list item around them gives their context.
    assert ">Edit or delete</a>" in items[0] and ">Delete</a>" in items[0]
    assert 'class="visually-hidden"> your message' not in page.text


async def test_read_markers_only_move_forward_and_unread_counts(app, ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(5):
        await ana.say(room, f"m{n}")
    listing = await ben.get("/rooms")
    assert re.search(rf'id="unread-{room}"[^>]*>5 unread<', listing.text)
    assert re.search(rf'id="unread-{room}"[^>]*><', (await ana.get("/rooms")).text)  # own messages are read
    ids = [m.id for m in await Message.filter(room_id=room).order_by("id")]
    assert (await ben.post(f"/rooms/{room}/read", {"last_message_id": str(ids[2])})).status == 303
    assert re.search(rf'id="unread-{room}"[^>]*>2 unread<', (await ben.get("/rooms")).text)
    await ben.post(f"/rooms/{room}/read", {"last_message_id": str(ids[0])}, htmx=True)  # never back
    membership = await Membership.get(room_id=room, user__username_key="ben")
    assert membership.read_message_id == ids[2]
    assert (await ben.post(f"/rooms/{room}/read", {"last_message_id": "x"})).status == 422
    await ben.get(f"/rooms/{room}")  # opening the room reads it
    assert re.search(rf'id="unread-{room}"[^>]*><', (await ben.get("/rooms")).text)


async def test_opening_a_room_marks_it_read_only_without_the_script(app, ana, ben, no_limits):
    """A browser that runs the page's script says so by a cookie: its script marks the room read
    once the messages are seen, so fetching the page leaves the marker where it was."""
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(3):
        await ana.say(room, f"m{n}")
    ben.client.set_cookie("localhost", "webchat_js", "1")
    page = await ben.get(f"/rooms/{room}")
    assert page.status == 200 and 'id="new-messages"' in page.text
    assert re.search(rf'id="unread-{room}"[^>]*>3 unread<', (await ben.get("/rooms")).text)
    assert "<title>(3) General · webchat</title>" in page.text  # the unread total leads the title
    ben.client.delete_cookie("localhost", "webchat_js")
    page = await ben.get(f"/rooms/{room}")  # no script: seen as now
    assert "<title>General · webchat</title>" in page.text
    assert re.search(rf'id="unread-{room}"[^>]*><', (await ben.get("/rooms")).text)
    await ana.say(room, "one more")
    assert "<title>(1) Rooms · webchat</title>" in (await ben.get("/rooms")).text


async def test_direct_room_is_the_same_for_the_same_two(ana, ben, cleo):
    page = await ana.post("/dm", {"username": "Ben"})
    assert page.status == 303
    room = page.location
    assert (await ben.post("/dm", {"username": "ana"})).location == room
    assert (await ana.post("/dm", {"username": "ben"})).location == room
    page = await ben.get(room)
    assert page.status == 200 and "Direct: Ana Lima" in page.text
    assert (await cleo.get(room)).status == 403
    page = await ana.post("/dm", {"username": "ghost"})
    assert page.status == 422 and 'href="#dm-username"' in page.text
    assert "Direct: Ben Okafor" in (await ana.get("/rooms")).text


async def test_unknown_and_malformed_ids(ana):
    room = await ana.create_room("General")
    assert (await ana.get("/rooms/999999")).status == 404
    assert (await ana.get("/rooms/abc")).status == 404
    assert (await ana.get("/rooms/-1")).status == 404
    assert (await ana.get("/rooms/" + "9" * 40)).status == 404
    assert (await ana.post(f"/rooms/{room}/messages/999/edit", {"body": "x"})).status == 404
    assert (await ana.post(f"/rooms/{room}/messages/x/delete")).status == 404
    page = await ana.get("/rooms/999999")
    assert "no such room" in page.text


async def test_room_page_queries_do_not_grow_with_messages(app, ana, no_limits):
    room = await ana.create_room("General")
    await ana.say(room, "one")
    few = await _count_queries(ana, f"/rooms/{room}")
    for n in range(60):
        await ana.say(room, f"more {n}")
    many = await _count_queries(ana, f"/rooms/{room}")
    assert many == few, (few, many)
    assert 3 < many < 20


async def _count_queries(browser, path: str) -> int:
    counter = _QueryCounter()
    logger = logging.getLogger("tortoise.db_client")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        page = await browser.get(path)
        assert page.status == 200
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    return counter.count


class _QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip().upper()
        if message.startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.count += 1


async def test_leaving_a_direct_room_can_be_undone_by_opening_it_again(ana, ben):
    page = await ana.post("/dm", {"username": "ben"})
    room = int(page.location.rsplit("/", 1)[1])
    await ben.say(room, "are you there?")
    assert (await ana.post(f"/rooms/{room}/leave")).status == 303
    assert (await ana.get(f"/rooms/{room}")).status == 403
    await ben.say(room, "hello?")
    page = await ana.post("/dm", {"username": "ben"})
    assert page.location == f"/rooms/{room}"  # the same room, with its history
    shown = await ana.get(f"/rooms/{room}")
    assert shown.status == 200 and "are you there?" in shown.text and "hello?" in shown.text
    membership = await Membership.get(room_id=room, user__username_key="ana")
    assert membership.read_seq == (await Room.get(id=room)).last_seq  # opened to read it now
    await ana.say(room, "back")
    assert await Message.filter(room_id=room, body="back").exists()


async def test_a_new_account_is_welcomed_with_what_to_do_first(ana, ben):
    page = await ana.get("/rooms")
    assert "Welcome to webchat, Ana Lima" in page.text
    # On an empty instance: create the first room, or message someone (nothing to join yet).
    assert 'href="#room-name">create a room</a>' in page.text and "nobody has made one yet" in page.text
    assert 'href="#public-title"' not in page.text and 'href="#dm-username"' in page.text
    room = await ana.create_room("General")
    assert "Welcome to webchat" not in (await ana.get("/rooms")).text  # in a room now
    page = await ben.get("/rooms")
    assert 'href="#public-title">join one of the public rooms</a>' in page.text
    assert f'href="/rooms/{room}"' in page.text and "nobody has made one yet" not in page.text
