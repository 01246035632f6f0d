"""Mentions and replies for the reader: /mentions, the counts in the rooms navigation, the
notification levels of each room and "do not disturb", on SQLite and PostgreSQL (the `app`
fixture). The notices themselves are in tests/test_notices.py."""

from __future__ import annotations

import re

import pytest
from tortoise.transactions import in_transaction

from tests.helpers.tab import Tab
from webchat.messages import notices
from webchat.models import Membership, Message, Notice, Room, User


async def test_the_mentions_page_lists_newest_first_marks_unread_and_then_counts_them_seen(ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "first @ben")
    await ana.say(room, "not for ben")
    await ana.say(room, "second @Ben: **look**")
    page = await ben.get("/mentions")
    assert page.status == 200 and "<h1>Mentions and replies</h1>" in page.text
    items = re.findall(r'<li class="mention-item[^"]*">.*?</li>', page.text, re.S)
    assert len(items) == 2
    assert "second" in items[0] and "first" in items[1]  # newest first
    assert all('class="mention-item unseen"' in item for item in items)
    # Unread in text too, not by colour alone; the body as shown in the room; its permanent link.
    assert items[0].count('<span class="new-label">New') == 1
    assert "Ana Lima mentioned you in General" in items[0] and "<strong>look</strong>" in items[0]
    second = await Message.get(room_id=room, body="second @Ben: **look**")
    assert f'href="/rooms/{room}/messages/{second.id}"' in items[0]
    assert "2 new since you last looked" in page.text
    # Seen now: the next visit marks nothing.
    again = await ben.get("/mentions")
    assert "mention-item unseen" not in again.text and "Nothing new since you last looked" in again.text
    assert await notices.unread_total(await User.get(username="ben")) == 0


async def test_the_mentions_page_pages_back_and_is_empty_with_a_hint(ana, ben, no_limits):
    page = await ben.get("/mentions")
    assert "Nobody has mentioned you" in page.text and "@ben" in page.text
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(notices.PAGE + 2):
        await ana.say(room, f"@ben number {n}")
    first = await ben.get("/mentions")
    assert first.text.count('class="mention-item') == notices.PAGE
    older = re.search(r'href="(/mentions\?before=\d+)">Older mentions', first.text).group(1)
    assert "2 more unread on older pages" in first.text
    second = await ben.get(older)
    assert second.text.count('class="mention-item') == 2 and "@ben</a> number 0" in second.text
    assert 'href="/mentions">Newest</a>' in second.text and "Older mentions" not in second.text
    # A bad page number is the first page, never an error.
    assert (await ben.get("/mentions?before=%F0%9F%98%80")).status == 200


async def test_a_room_no_longer_readable_leaves_the_mentions_page(ana, ben):
    room = await ana.create_room("Secret", "private")
    await ana.post(f"/rooms/{room}/members", {"username": "ben"})
    await ana.say(room, "@ben secret plans")
    assert "secret plans" in (await ben.get("/mentions")).text
    await ana.say(room, "@ben more plans")
    await ana.post(f"/rooms/{room}/members/ben/remove")
    page = await ben.get("/mentions")
    assert "secret plans" not in page.text and "more plans" not in page.text
    # Nor is it counted: not on /mentions, not in the navigation, not in a live count.
    assert "unread on older pages" not in page.text
    assert await notices.unread_counts(await User.get(username="ben")) == {}
    assert await notices.unread_total(await User.get(username="ben")) == 0


async def test_reading_the_room_marks_its_mentions_seen_and_the_navigation_counts_them(ana, ben, no_limits):
    general = await ana.create_room("General")
    other = await ana.create_room("Other")
    for room in (general, other):
        await ben.post(f"/rooms/{room}/join")
    await ana.say(general, "@ben one")
    await ana.say(general, "@ben two")
    await ana.say(other, "@ben three")
    rooms = await ben.get("/rooms")
    assert re.search(rf'<span id="mentions-{general}" class="mention-count"><span class="visually-hidden">, '
                     r"</span>2 mentions</span>", rooms.text)
    assert f'<span id="mentions-{other}" class="mention-count"><span class="visually-hidden">, </span>1 mention<' in rooms.text
    assert re.search(r'<a href="/mentions">Mentions and replies<span class="visually-hidden">, </span> '
                     r'<span class="mention-count">3 unread</span></a>', rooms.text)
    # Opening the room reads it: its mentions are seen; the other room's stay.
    await ben.get(f"/rooms/{general}")
    ben_user = await User.get(username="ben")
    assert await notices.unread_counts(ben_user) == {other: 1}
    page = await ben.get(f"/rooms/{other}")
    assert f'<span id="mentions-{general}" class="mention-count"></span>' in page.text


async def test_setting_a_rooms_level_without_script_and_with_htmx(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    page = await ben.get(f"/rooms/{room}")
    form = re.search(r'<form id="notify-form".*?</form>', page.text, re.S).group(0)
    assert 'name="csrf_token"' in form and "<legend>Notify me of</legend>" in form
    # The default in a room that is not a direct one: mentions and replies.
    assert re.search(r'value="mentions" checked> Mentions and replies only \(default here\)', form)
    answer = await ben.post(f"/rooms/{room}/notifications", {"level": "none"})
    assert answer.status == 303 and answer.location == f"/rooms/{room}"
    assert (await Membership.get(room_id=room, user__username="ben")).notify == "none"
    assert "Notifications for this room: nothing." in (await ben.get(f"/rooms/{room}")).text
    fragment = await ben.post(f"/rooms/{room}/notifications", {"level": "all"}, htmx=True)
    assert fragment.status == 200 and fragment.text.startswith('<form id="notify-form"')
    assert 'value="all" checked' in fragment.text and "Saved: all messages." in fragment.text
    bad = await ben.post(f"/rooms/{room}/notifications", {"level": "loud"})
    assert bad.status == 422 and (await Membership.get(room_id=room, user__username="ben")).notify == "all"


async def test_do_not_disturb_is_a_setting(ben):
    page = await ben.get("/settings")
    assert 'id="do-not-disturb" name="do_not_disturb" value="1"' in page.text
    assert (await ben.post("/settings", {"announce": "all", "do_not_disturb": "1"})).status == 303
    assert (await User.get(username="ben")).do_not_disturb
    assert 'name="do_not_disturb" value="1" aria-describedby="do-not-disturb-hint" checked' in (await ben.get("/settings")).text
    assert (await ben.post("/settings", {"announce": "all"})).status == 303
    assert not (await User.get(username="ben")).do_not_disturb


async def test_a_rooms_level_reaches_the_open_pages_at_once(ana, ben):
    """The room's entry in each open page's list of rooms carries the level the page's script
    notifies by: set in one tab (or on another device), every page has it at once."""
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    async with Tab(ben, "/events") as rooms_page, Tab(ben, f"/rooms/{room}/events") as room_page:
        assert (await ben.post(f"/rooms/{room}/notifications", {"level": "none"}, htmx=True)).status == 200
        for tab in (rooms_page, room_page):
            await tab.read_until(f'<li id="nav-room-{room}" data-sort="0general" data-notify="none">'.encode())
        assert (await ben.post(f"/rooms/{room}/notifications", {"level": "all"})).status == 303
        for tab in (rooms_page, room_page):
            await tab.read_until(f'<li id="nav-room-{room}" data-sort="0general" data-notify="all">'.encode())


async def test_do_not_disturb_reaches_the_open_pages_at_once(ana):
    """Each open page (the room list's stream and a room's) learns of the change, so none of them
    notifies meanwhile; saving other settings sends nothing."""
    room = await ana.create_room("General")
    assert '<data id="do-not-disturb-state" value="off"></data>' in (await ana.get(f"/rooms/{room}")).text
    async with Tab(ana, "/events") as rooms_page, Tab(ana, f"/rooms/{room}/events") as room_page:
        assert (await ana.post("/settings", {"announce": "all", "do_not_disturb": "1"})).status == 303
        for tab in (rooms_page, room_page):
            await tab.read_until(b'<data id="do-not-disturb-state" value="on" hx-swap-oob="true"></data>')
        assert (await ana.post("/settings", {"announce": "all", "do_not_disturb": "1", "clock": "24"})).status == 303
        assert (await ana.post("/settings", {"announce": "all"})).status == 303
        for tab in (rooms_page, room_page):
            await tab.read_until(b'<data id="do-not-disturb-state" value="off"')
            assert tab.data.count(b"do-not-disturb-state") == 2  # nothing for the save that kept it on
    assert '<data id="do-not-disturb-state" value="off"></data>' in (await ana.get("/settings")).text


LEVEL_CASES = [
    # (room kind, level set or None for the default, kind of message) -> notifies?
    ("public", None, "message", False), ("public", None, "mention", True), ("public", None, "reply", True),
    ("public", "all", "message", True), ("public", "all", "mention", True), ("public", "all", "reply", True),
    ("public", "mentions", "message", False), ("public", "mentions", "mention", True),
    ("public", "mentions", "reply", True),
    ("public", "none", "message", False), ("public", "none", "mention", False), ("public", "none", "reply", False),
    ("direct", None, "message", True), ("direct", None, "mention", True), ("direct", None, "reply", True),
    ("direct", "mentions", "message", False), ("direct", "mentions", "reply", True),
    ("direct", "none", "message", False), ("direct", "none", "mention", False),
]


async def test_should_notify_follows_the_level_the_room_and_do_not_disturb(ana, ben):
    public = await Room.get(id=await ana.create_room("General"))
    await ben.post(f"/rooms/{public.id}/join")
    assert (await ben.post("/dm", {"username": "ana"})).status == 303
    direct = await Room.get(kind="direct")
    user = await User.get(username="ben")
    for kind_of_room, level, kind, expected in LEVEL_CASES:
        room = public if kind_of_room == "public" else direct
        await Membership.filter(room_id=room.id, user_id=user.id).update(notify=level)
        assert await notices.should_notify(user, room, kind) is expected, (kind_of_room, level, kind)
    # Do not disturb silences everything; a room you are not in never notifies.
    await Membership.filter(user_id=user.id).update(notify="all")
    user.do_not_disturb = True
    assert not any([await notices.should_notify(user, room, kind) for room in (public, direct)
                    for kind in ("message", "mention", "reply")])
    cleo_room = await Room.get(id=await ana.create_room("Elsewhere"))
    user.do_not_disturb = False
    assert not await notices.should_notify(user, cleo_room, "mention")
    assert await notices.levels_of(user) == {public.id: "all", direct.id: "all"}


@pytest.mark.parametrize("edit", ["named", "unnamed", "deleted"])
async def test_the_navigation_count_follows_edits_and_deletions(ana, ben, edit):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "@ben hello" if edit != "named" else "hello")
    message = await Message.get(room_id=room)
    if edit == "named":
        await ana.post(f"/rooms/{room}/messages/{message.id}/edit", {"body": "hello @ben"})
        expected = 1
    elif edit == "unnamed":
        await ana.post(f"/rooms/{room}/messages/{message.id}/edit", {"body": "hello you"})
        expected = 0
    else:
        await ana.post(f"/rooms/{room}/messages/{message.id}/delete")
        expected = 0
    assert await Notice.filter(user__username="ben").count() == expected
    text = (await ben.get("/rooms")).text
    assert (f'{expected} mention<' in text) is bool(expected)


async def test_a_reply_shows_as_a_reply(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ben.say(room, "question")
    question = await Message.get(room_id=room)
    async with in_transaction() as conn:
        answer = await Message.create(room_id=room, author_id=(await User.get(username="ana")).id, seq=2,
                                      body="answer", html="answer", reply_to_id=question.id, using_db=conn)
        await notices.record(conn, answer)
    assert "Ana Lima replied to you in General" in (await ben.get("/mentions")).text


async def test_the_composer_suggests_members_of_the_room(ana, ben, cleo, browser_factory, no_limits):
    from tests.conftest import registered

    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await cleo.post(f"/rooms/{room}/join")
    benny = await registered(browser_factory, "benny", "Benjamin Bot")
    await benny.post(f"/rooms/{room}/join")
    await User.filter(username="benny").update(bot_owner_id=(await User.get(username="ana")).id)
    await registered(browser_factory, "bea", "Bea Outside")  # not a member
    page = await ana.get(f"/rooms/{room}/members/suggest?q=be", htmx=True)
    assert page.status == 200
    options = re.findall(r'<li role="option" id="mention-option-([^"]+)" data-value="([^"]+)"[^>]*>(.*?)</li>', page.text)
    assert [(key, value) for key, value, _ in options] == [("ben", "ben"), ("benny", "benny")]
    assert options[1][2] == 'Benjamin Bot <span class="username">@benny</span> <span class="bot-label">bot</span>'
    # By display name too, any case; "@" typed along is fine.
    by_name = await ana.get(f"/rooms/{room}/members/suggest?q=%40CLEO", htmx=True)
    assert 'data-value="cleo"' in by_name.text
    # Deactivated people are not suggested; at most eight.
    await User.filter(username="ben").update(is_active=False)
    assert 'data-value="ben"' not in (await ana.get(f"/rooms/{room}/members/suggest?q=ben", htmx=True)).text
    for n in range(10):
        person = await registered(browser_factory, f"many{n}", f"Many {n}")
        await person.post(f"/rooms/{room}/join")
    assert (await ana.get(f"/rooms/{room}/members/suggest?q=many", htmx=True)).text.count('role="option"') == 8


async def test_member_suggestions_are_rate_limited(app, ana):
    from webchat.ratelimit import Limit

    app.config["RATE_LIMITS"]["suggest"] = Limit(2, 600)
    room = await ana.create_room("General")
    statuses = [(await ana.get(f"/rooms/{room}/members/suggest?q=a", htmx=True)).status for _ in range(3)]
    assert statuses == [200, 200, 429]
