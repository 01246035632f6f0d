"""Finding people and naming them: the people directory, the suggestions of a name field, direct
messages and new members by display name or username, and the question asked before deleting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

from tests.helpers.dbstate import snapshot
from webchat.models import Membership, Message, Room, User


async def test_people_directory_lists_everyone_and_finds_by_name(ana, ben, cleo, browser_factory):
    dora = browser_factory()
    await dora.register("dora", "Ana Dorado")
    page = await ana.get("/people")
    assert page.status == 200 and "<h1>People</h1>" in page.text
    names = re.findall(r"<li>([^<]+) <span class=\"username\">@(\w+)</span>", page.text)
    assert [n for n, _ in names] == ["Ana Dorado", "Ana Lima", "Ben Okafor", "Cleo"]  # by display name
    # Each with a button that opens a direct room (a form: it works without JavaScript).
    assert page.text.count('<form method="post" action="/dm"') == 4
    assert '<input type="hidden" name="username" value="ben">' in page.text
    # A display name anywhere in it, or the start of a username.
    found = await ana.get("/people?q=ana")
    assert re.findall(r"class=\"username\">@(\w+)<", found.text) == ["ana", "dora"]  # the exact username first
    assert "2 people match “ana”" in found.text
    found = await ana.get("/people?q=okaf")
    assert re.findall(r"class=\"username\">@(\w+)<", found.text) == ["ben"]
    found = await ana.get("/people?q=%40cle")  # "@cle"
    assert re.findall(r"class=\"username\">@(\w+)<", found.text) == ["cleo"]
    nobody = await ana.get("/people?q=zzz")
    assert nobody.status == 200 and "Nobody’s name or username matches “zzz”" in nobody.text


async def test_people_search_survives_hostile_queries(ana):
    for query in ("%", "_", "%%", "a\x00b", "\u202eana", "x" * 300, "'; DROP TABLE users; --", "\ud800"):
        page = await ana.get(f"/people?q={quote(query, errors='surrogatepass')}")
        assert page.status == 200, query
    # LIKE's wildcards are matched as themselves, not as "anything".
    assert 'class="username">@ana<' not in (await ana.get("/people?q=%25")).text
    assert 'class="username">@ana<' not in (await ana.get("/people?q=_")).text


async def test_suggestions_are_options_for_a_combobox(ana, ben, cleo):
    page = await ana.get("/people/suggest?for=dm&username=o", htmx=True, headers={"HX-Target": "dm-username-options"})
    assert page.status == 200 and "<html" not in page.text
    options = re.findall(r'<li role="option" id="([^"]+)" data-value="([^"]+)" aria-selected="false">([^<]+)<', page.text)
    # "o": in Ben Okafor's and Cleo's display names; never the reader herself in a direct message.
    assert options == [
        ("dm-username-options-ben", "@ben", "Ben Okafor "),
        ("dm-username-options-cleo", "@cleo", "Cleo "),
    ]
    # For adding a member the reader is not left out; a target id that is not an id is not used.
    page = await ana.get("/people/suggest?q=ana", htmx=True, headers={"HX-Target": "x\" onclick=\"y"})
    assert re.findall(r'id="([^"]+)"', page.text) == ["suggestion-ana"]
    assert (await ana.get("/people/suggest?q=", htmx=True)).text.strip() == ""
    # Without htmx: the directory page, searched.
    page = await ana.get("/people/suggest?username=Ben%20O")
    assert page.status == 303 and page.location == "/people?q=Ben%20O"


async def direct_room_of(page) -> int:
    assert page.status == 303, page.text[:500]
    return int(page.location.rsplit("/", 1)[1])


async def test_direct_message_by_display_name_or_username(ana, ben):
    by_username = await direct_room_of(await ana.post("/dm", {"username": "ben"}))
    assert await direct_room_of(await ana.post("/dm", {"username": "@ben"})) == by_username
    assert await direct_room_of(await ana.post("/dm", {"username": " @BEN "})) == by_username
    assert await direct_room_of(await ana.post("/dm", {"username": "Ben Okafor"})) == by_username
    assert await direct_room_of(await ana.post("/dm", {"username": "ben  okafor"})) == by_username
    assert await Room.filter(kind="direct").count() == 1


async def test_a_name_that_means_several_people_or_nobody_brings_the_choice(ana, ben, browser_factory):
    other = browser_factory()
    await other.register("benji", "Ben Okafor")
    before = await snapshot()
    page = await ana.post("/dm", {"username": "Ben Okafor"})
    assert page.status == 422
    assert 'href="#dm-username"' in page.text and "More than one person matches “Ben Okafor”" in page.text
    assert 'value="Ben Okafor"' in page.text  # the input is kept
    candidates = re.findall(r'name="username" value="(\w+)"><button type="submit" class="secondary">Message'
                            r'<span class="visually-hidden"> Ben Okafor @(\w+)</span>', page.text)
    assert candidates == [("ben", "ben"), ("benji", "benji")]
    # Part of a name is never a guess, even when it fits one person only.
    page = await ana.post("/dm", {"username": "Okaf"})
    assert page.status == 422 and page.text.count('class="secondary">Message') == 2
    page = await ana.post("/dm", {"username": "Nobody Here"})
    assert page.status == 422 and "There is nobody called “Nobody Here”" in page.text
    assert 'class="candidates"' not in page.text
    page = await ana.post("/dm", {"username": ""})
    assert page.status == 422 and "Enter their name or username." in page.text
    assert await snapshot() == before
    # Choosing one of them opens the direct room with that one.
    room = await direct_room_of(await ana.post("/dm", {"username": "benji"}))
    members = {m.user.username for m in await Membership.filter(room_id=room).select_related("user")}
    assert members == {"ana", "benji"}


async def test_adding_a_member_by_display_name(ana, ben, cleo):
    room = await ana.create_room("Plans", "private")
    page = await ana.post(f"/rooms/{room}/members", {"username": "Ben Okafor"})
    assert page.status == 303
    page = await ana.post(f"/rooms/{room}/members", {"username": "@cleo"})
    assert page.status == 303
    listing = await ana.get(f"/rooms/{room}/members")
    assert "Cleo (@cleo) was added to the room." in listing.text
    assert {m.user.username for m in await Membership.filter(room_id=room).select_related("user")} == {"ana", "ben", "cleo"}
    again = await ana.post(f"/rooms/{room}/members", {"username": "ben"})
    assert again.status == 303
    assert "Ben Okafor (@ben) is already a member." in (await ana.get(f"/rooms/{room}/members")).text
    page = await ana.post(f"/rooms/{room}/members", {"username": "Ana"})  # ana, and Ana Lima: exact username
    assert page.status == 303
    page = await ana.post(f"/rooms/{room}/members", {"username": "o"})
    assert page.status == 422 and 'class="candidates"' in page.text
    assert f'action="/rooms/{room}/members"' in page.text and ">Add<span" in page.text


async def test_deleting_asks_first_and_the_question_changes_nothing(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ben.say(room, "ben's words")
    message = await Message.get(body="ben's words")
    path = f"/rooms/{room}/messages/{message.id}/delete"
    before = await snapshot()
    page = await ben.get(path)
    assert page.status == 200 and "<h1>Delete this message?</h1>" in page.text
    assert f'<form method="post" action="{path}"' in page.text and "ben's words" in page.text
    fragment = await ben.get(path, htmx=True)
    assert fragment.status == 200 and "<html" not in fragment.text
    assert f'<li id="m-{message.id}" class="message confirming"' in fragment.text
    assert 'class="danger confirm-delete"' in fragment.text and 'class="edit-cancel"' in fragment.text
    assert (await ana.get(path)).status == 200  # the room's owner may delete it too
    assert await snapshot() == before  # asking deletes nothing
    assert (await ben.post(path)).status == 303
    assert (await ben.get(path)).status == 410


async def test_a_room_opens_at_the_first_unread_message(app, ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(120):
        await ana.say(room, f"message number {n}")
    page = await ben.get(f"/rooms/{room}")
    shown = re.findall(r'<div class="body"[^>]*>message number (\d+)</div>', page.text)
    assert shown == [str(n) for n in range(120)]  # every unread message (joined before the first)
    first = (await Message.get(body="message number 0")).id
    assert f'data-first-unread="{first}"' in page.text
    li = re.search(rf'<li id="m-{first}".*?</li>', page.text, re.S).group(0)
    assert '<p class="new-divider" id="new-messages"><span>New messages</span></p>' in li
    assert page.text.count('id="new-messages"') == 1
    # Opening it read it: the next time it opens at the newest, with the latest page, no divider.
    page = await ben.get(f"/rooms/{room}")
    assert "new-divider" not in page.text and "data-first-unread" not in page.text
    assert len(re.findall(r'<div class="body"[^>]*>message number', page.text)) == 50
    # A few unread: the latest page (it holds them), the divider at the first of them.
    for n in range(3):
        await ana.say(room, f"later {n}")
    page = await ben.get(f"/rooms/{room}")
    assert len(re.findall(r'<li id="m-\d+"', page.text)) == 50
    later = (await Message.get(body="later 0")).id
    assert f'data-first-unread="{later}"' in page.text
    assert re.search(rf'<li id="m-{later}"[^>]*>\s*(<h3[^>]*>[^<]*</h3>\s*)?<p class="new-divider"', page.text)


async def test_a_long_unread_history_opens_with_at_most_two_hundred(app, ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(230):
        await ana.say(room, f"m{n}")
    page = await ben.get(f"/rooms/{room}")
    assert len(re.findall(r'<li id="m-\d+"', page.text)) == 200
    assert "Show older messages" in page.text
    first_shown = int(re.search(r'<li id="m-(\d+)"', page.text).group(1))
    assert f'data-first-unread="{first_shown}"' in page.text  # all shown are unread: at the top


async def test_days_are_headed_in_utc_for_pages_without_script(ana):
    room = await ana.create_room("General")
    for body in ("yesterday's", "today's", "later today"):
        await ana.say(room, body)
    first = await Message.get(body="yesterday's")
    await Message.filter(id=first.id).update(created_at=datetime(2026, 11, 29, 23, 50, tzinfo=UTC))
    for body in ("today's", "later today"):
        await Message.filter(body=body).update(created_at=datetime(2026, 11, 30, 0, 10, tzinfo=UTC))
    page = await ana.get(f"/rooms/{room}")
    headings = re.findall(r'<h3 class="day-heading" data-utc-day="([\d-]+)">([^<]+)</h3>', page.text)
    assert headings == [("2026-11-29", "Sunday 29 November 2026 (UTC)"),
                        ("2026-11-30", "Monday 30 November 2026 (UTC)")]
    # Only the page puts them there: the message fragment of the stream has none.
    fragment = await ana.get(f"/rooms/{room}/messages/{first.id}", htmx=True)
    assert "day-heading" not in fragment.text and "new-divider" not in fragment.text
