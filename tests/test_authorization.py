"""Every route and every stream against every kind of visitor: signed out, non-member, member,
author, owner; in a private room, a public room and a direct room.

The world: Olga owns a private room and a public room; Mona and Arlo are members of both; Arlo
wrote a message in each (the "author" message); Otto is signed in but a member of neither; Olga and
Mona share a direct room (Arlo is an outsider there). Reading is checked for every role against one
world; each kind of write gets a fresh world per role, and a refused write must change nothing.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.helpers import uploads
from tests.helpers.browser import PASSWORD
from tests.helpers.dbstate import snapshot
from webchat.admin import service as admin
from webchat.models import Attachment, Invite, Message, User

ROLES = ("anonymous", "outsider", "member", "author", "owner")
PERSON = {"owner": "olga", "member": "mona", "author": "arlo", "outsider": "otto"}

# (method, path, form) -> expected status per role (anonymous, outsider, member, author, owner).
# GET is a plain page load, HTMX the same with HX-Request, STREAM opens an event stream.
READS = {
    "private": [
        ("GET", "/rooms/{room}/files/{file}", None, (303, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/files/{file}/thumbnail", None, (303, 403, 200, 200, 200)),
        ("HTMX", "/rooms/{room}/files/{file}", None, (401, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}", None, (303, 403, 200, 200, 200)),
        ("HTMX", "/rooms/{room}", None, (401, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages?before={next}", None, (303, 403, 200, 200, 200)),
        ("HTMX", "/rooms/{room}/messages?before={next}", None, (401, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages?date=2026-01-01", None, (303, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages?after=0", None, (303, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/members", None, (303, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages?after={msg}", None, (303, 403, 200, 200, 200)),
        ("HTMX", "/rooms/{room}/messages?after={msg}", None, (401, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}", None, (303, 403, 200, 200, 200)),
        ("HTMX", "/rooms/{room}/messages/{msg}", None, (401, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/edit", None, (303, 403, 403, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 403, 200, 200)),
        ("HTMX", "/rooms/{room}/messages/{msg}/delete", None, (401, 403, 403, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/reactions", None, (303, 403, 200, 200, 200)),
        # The message's replies page (none yet): as its permanent link.
        ("GET", "/rooms/{room}/messages/{msg}/replies", None, (303, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}?reply_to={msg}", None, (303, 403, 200, 200, 200)),
        ("GET", "/rooms/{room}/members/suggest?q=mo", None, (303, 403, 200, 200, 200)),
        ("STREAM", "/rooms/{room}/events", None, (401, 403, 200, 200, 200)),
        ("STREAM", "/rooms/{room}/events?last_event_id=0", None, (401, 403, 200, 200, 200)),
        ("GET", "/search?q=message&room={room}", None, (303, 403, 200, 200, 200)),
        ("HTMX", "/search?q=message&room={room}", None, (401, 403, 200, 200, 200)),
    ],
    "public": [
        ("GET", "/rooms/{room}/files/{file}", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/files/{file}/thumbnail", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages?before={next}", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/members", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages?after={msg}", None, (303, 200, 200, 200, 200)),
        ("HTMX", "/rooms/{room}/messages/{msg}", None, (401, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/edit", None, (303, 403, 403, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 403, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/reactions", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/messages/{msg}/replies", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}?reply_to={msg}", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/{room}/members/suggest?q=", None, (303, 200, 200, 200, 200)),
        ("STREAM", "/rooms/{room}/events", None, (401, 200, 200, 200, 200)),
        ("GET", "/search?q=message&room={room}", None, (303, 200, 200, 200, 200)),
    ],
    "direct": [
        ("GET", "/rooms/{room}/files/{file}", None, (303, 403, 200, 403, 200)),
        ("GET", "/rooms/{room}/files/{file}/thumbnail", None, (303, 403, 200, 403, 200)),
        ("GET", "/rooms/{room}", None, (303, 403, 200, 403, 200)),
        ("GET", "/rooms/{room}/messages?before={next}", None, (303, 403, 200, 403, 200)),
        ("GET", "/rooms/{room}/messages/{msg}", None, (303, 403, 200, 403, 200)),
        # The member wrote the message there; a direct room has no owner to moderate it.
        ("GET", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 200, 403, 403)),
        ("GET", "/rooms/{room}/messages/{msg}/replies", None, (303, 403, 200, 403, 200)),
        ("STREAM", "/rooms/{room}/events", None, (401, 403, 200, 403, 200)),
        ("GET", "/rooms/{room}/members/suggest?q=o", None, (303, 403, 200, 403, 200)),
        ("GET", "/search?q=message&room={room}", None, (303, 403, 200, 403, 200)),
    ],
    "none": [
        ("GET", "/rooms", None, (303, 200, 200, 200, 200)),
        ("HTMX", "/rooms", None, (401, 200, 200, 200, 200)),
        ("GET", "/settings", None, (303, 200, 200, 200, 200)),
        ("GET", "/people", None, (303, 200, 200, 200, 200)),
        ("GET", "/people?q=mona", None, (303, 200, 200, 200, 200)),
        ("HTMX", "/people/suggest?q=mo", None, (401, 200, 200, 200, 200)),
        ("GET", "/people/suggest?q=mo", None, (303, 303, 303, 303, 303)),
        ("STREAM", "/events", None, (401, 200, 200, 200, 200)),
        ("GET", "/rooms/999999", None, (303, 404, 404, 404, 404)),
        ("GET", "/search", None, (303, 200, 200, 200, 200)),
        ("GET", "/mentions", None, (303, 200, 200, 200, 200)),
        ("GET", "/rooms/999999/members/suggest?q=o", None, (303, 404, 404, 404, 404)),
        ("GET", "/mentions?before=x", None, (303, 200, 200, 200, 200)),
        ("GET", "/search?q=message", None, (303, 200, 200, 200, 200)),
        ("HTMX", "/search?q=message", None, (401, 200, 200, 200, 200)),
        ("GET", "/search?q=", None, (303, 422, 422, 422, 422)),
        ("GET", "/search?q=message&room=999999", None, (303, 404, 404, 404, 404)),
        ("GET", "/rooms/999999/messages/1", None, (303, 404, 404, 404, 404)),
        ("STREAM", "/rooms/999999/events", None, (401, 404, 404, 404, 404)),
        ("GET", "/settings/email", None, (303, 200, 200, 200, 200)),
        # No SMTP_URL in this world: no email pages (tests/test_email.py has them with email on).
        ("GET", "/forgot", None, (404, 404, 404, 404, 404)),
        ("GET", "/forgot/sent", None, (404, 404, 404, 404, 404)),
        ("GET", "/email/verify/not-a-link", None, (404, 404, 404, 404, 404)),
        ("GET", "/unsubscribe/not-a-link", None, (404, 404, 404, 404, 404)),
    ],
}

WRITES = {
    "private": [
        ("POST", "/rooms/{room}/messages", {"body": "hello"}, (303, 403, 303, 303, 303)),
        ("HTMX", "/rooms/{room}/messages", {"body": "hello"}, (401, 403, 200, 200, 200)),
        ("POST", "/rooms/{room}/messages", {"body": "hello", "reply_to": "{msg}"}, (303, 403, 303, 303, 303)),
        ("POST", "/rooms/{room}/messages/{msg}/edit", {"body": "changed"}, (303, 403, 403, 303, 403)),
        ("POST", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 403, 303, 303)),
        ("POST", "/rooms/{room}/messages/{msg}/reactions", {"emoji": "👍"}, (303, 403, 303, 303, 303)),
        ("HTMX", "/rooms/{room}/messages/{msg}/reactions", {"emoji": "👍"}, (401, 403, 204, 204, 204)),
        ("POST", "/rooms/{room}/join", None, (303, 403, 403, 403, 403)),
        ("POST", "/rooms/{room}/leave", None, (303, 403, 303, 303, 409)),
        ("POST", "/rooms/{room}/members", {"username": "dora"}, (303, 403, 403, 403, 303)),
        ("POST", "/rooms/{room}/members", {"username": "@Dora"}, (303, 403, 403, 403, 303)),
        ("POST", "/rooms/{room}/members/mona/remove", None, (303, 403, 403, 403, 303)),
        ("POST", "/rooms/{room}/typing", None, (303, 403, 204, 204, 204)),
        ("POST", "/rooms/{room}/read", {"last_message_id": "{msg}"}, (303, 403, 303, 303, 303)),
        ("POST", "/rooms/{room}/notifications", {"level": "none"}, (303, 403, 303, 303, 303)),
        ("HTMX", "/rooms/{room}/notifications", {"level": "all"}, (401, 403, 200, 200, 200)),
        ("POST", "/rooms/{room}/notifications", {"level": "loud"}, (303, 403, 422, 422, 422)),
    ],
    "public": [
        ("POST", "/rooms/{room}/messages", {"body": "hello"}, (303, 403, 303, 303, 303)),
        ("POST", "/rooms/{room}/messages/{msg}/edit", {"body": "changed"}, (303, 403, 403, 303, 403)),
        ("POST", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 403, 303, 303)),
        # Readers may react: a signed-in non-member reads a public room.
        ("POST", "/rooms/{room}/messages/{msg}/reactions", {"emoji": "👍"}, (303, 303, 303, 303, 303)),
        ("POST", "/rooms/{room}/join", None, (303, 303, 303, 303, 303)),
        ("POST", "/rooms/{room}/leave", None, (303, 409, 303, 303, 409)),
        ("POST", "/rooms/{room}/members", {"username": "dora"}, (303, 403, 403, 403, 409)),
        ("POST", "/rooms/{room}/members/mona/remove", None, (303, 403, 403, 403, 303)),
        ("POST", "/rooms/{room}/typing", None, (303, 403, 204, 204, 204)),
        ("POST", "/rooms/{room}/read", {"last_message_id": "{msg}"}, (303, 403, 303, 303, 303)),
        # A reader who is not a member has no level to set.
        ("POST", "/rooms/{room}/notifications", {"level": "all"}, (303, 403, 303, 303, 303)),
    ],
    "direct": [
        ("POST", "/rooms/{room}/messages", {"body": "hello"}, (303, 403, 303, 403, 303)),
        ("POST", "/rooms/{room}/messages", {"body": "hello", "reply_to": "{msg}"}, (303, 403, 303, 403, 303)),
        ("POST", "/rooms/{room}/typing", None, (303, 403, 204, 403, 204)),
        ("POST", "/rooms/{room}/messages/{msg}/reactions", {"emoji": "👍"}, (303, 403, 303, 403, 303)),
        ("POST", "/rooms/{room}/leave", None, (303, 403, 303, 403, 303)),
        ("POST", "/rooms/{room}/notifications", {"level": "mentions"}, (303, 403, 303, 403, 303)),
    ],
    "none": [
        ("POST", "/rooms", {"name": "New room", "visibility": "public"}, (303, 303, 303, 303, 303)),
        ("HTMX", "/rooms", {"name": "New room", "visibility": "public"}, (401, 303, 303, 303, 303)),
        ("POST", "/dm", {"username": "olga"}, (303, 303, 303, 303, 303)),
        ("POST", "/dm", {"username": "Dora Explorer"}, (303, 303, 303, 303, 303)),
        ("POST", "/settings", {"announce": "none"}, (303, 303, 303, 303, 303)),
        ("POST", "/logout", None, (303, 303, 303, 303, 303)),
        ("POST", "/logout/everywhere", None, (303, 303, 303, 303, 303)),
        ("POST", "/settings/email", {"email": "someone@example.org"}, (303, 404, 404, 404, 404)),
        ("POST", "/settings/email/remove", None, (303, 303, 303, 303, 303)),
        ("POST", "/settings/email/digests", {"digests": "1"}, (303, 303, 303, 303, 303)),
        ("POST", "/email/verify/not-a-link", None, (404, 404, 404, 404, 404)),
        ("POST", "/unsubscribe/not-a-link", None, (404, 404, 404, 404, 404)),
        ("POST", "/forgot", {"account": "olga"}, (404, 404, 404, 404, 404)),
    ],
}
# Statuses that mean "refused": the database must not change. (A signed-out visitor's 303 to the
# sign-in page is a refusal too.)
REFUSALS = {401, 403, 404, 409}


async def make_world(browser_factory) -> tuple[dict, dict]:
    people = {}
    for role in ("owner", "member", "author", "outsider"):
        people[role] = browser_factory()
        await people[role].register(PERSON[role], PERSON[role].title())
    await browser_factory().register("dora", "Dora Explorer")
    people["anonymous"] = browser_factory()
    await people["anonymous"].get("/login")  # a browser with a CSRF token, signed out
    owner, author = people["owner"], people["author"]
    private = await owner.create_room("Zephyr plans", "private")
    public = await owner.create_room("Agora", "public")
    for name in ("mona", "arlo"):
        assert (await owner.post(f"/rooms/{private}/members", {"username": name})).status == 303
        assert (await people[{"mona": "member", "arlo": "author"}[name]].post(f"/rooms/{public}/join")).status == 303
    direct = int((await owner.post("/dm", {"username": "mona"})).location.rsplit("/", 1)[1])
    ids = {"none": {"room": 0, "msg": 0, "next": 0, "file": 0}}
    for kind, room in (("private", private), ("public", public), ("direct", direct)):
        await owner.say(room, f"owner's message in {kind}")
        speaker = author if kind != "direct" else people["member"]
        await speaker.say(room, f"author's message in {kind}")
        msg = (await Message.get(body=f"author's message in {kind}")).id
        ids[kind] = {"room": room, "msg": msg, "next": msg + 1, "file": 0}
    for kind in ("private", "public", "direct"):  # an image in each room, served to its readers only
        speaker = author if kind != "direct" else people["member"]
        page = await uploads.send(speaker, ids[kind]["room"], f"picture in {kind}", [("a.png", uploads.png())],
                                  [("alt", "a red square")])
        assert page.status == 303, page.text
        ids[kind]["file"] = (await Attachment.filter(room_id=ids[kind]["room"]).get()).id
    return people, ids


async def ask(browser, method: str, path: str, form: dict | None) -> int:
    if method == "GET":
        return (await browser.get(path)).status
    if method == "STREAM":
        return await browser.stream_status(path)
    if method == "HTMX" and form is None:
        return (await browser.get(path, htmx=True)).status
    return (await browser.post(path, form, htmx=method == "HTMX")).status


def fill(path: str, form: dict | None, ids: dict) -> tuple[str, dict | None]:
    return path.format(**ids), {k: v.format(**ids) for k, v in form.items()} if form else form


@pytest.mark.parametrize("kind", list(READS))
async def test_reading_against_every_role(no_limits, browser_factory, kind):
    people, ids = await make_world(browser_factory)
    got, expected = {}, {}
    for method, path, form, statuses in READS[kind]:
        url, data = fill(path, form, ids[kind])
        for role, status in zip(ROLES, statuses, strict=True):
            got[(role, method, path)] = await ask(people[role], method, url, data)
            expected[(role, method, path)] = status
    assert got == expected


@pytest.mark.parametrize("method,path,form,statuses,kind", [
    (*row, kind) for kind, rows in WRITES.items() for row in rows
], ids=[f"{kind}: {row[0]} {row[1]}" for kind, rows in WRITES.items() for row in rows])
async def test_writing_against_every_role(no_limits, browser_factory, method, path, form, statuses, kind):
    """A fresh world per role (a write by one role must not decide the next role's answer)."""
    from tortoise import Tortoise

    got, expected = {}, {}
    for role, status in zip(ROLES, statuses, strict=True):
        await _empty_database(Tortoise)
        people, ids = await make_world(browser_factory)
        url, data = fill(path, form, ids[kind])
        before = await snapshot()
        got[role] = await ask(people[role], method, url, data)
        expected[role] = status
        if got[role] in REFUSALS or role == "anonymous":
            assert await snapshot() == before, f"{role} {method} {url} was refused but changed state"
    assert got == expected


async def _empty_database(tortoise) -> None:
    from webchat.models import Event, Membership, Reaction, Room, User

    for model in (Event, Reaction, Message, Membership, Room, User):
        await model.all().delete()


async def test_outsider_never_sees_the_private_room_name(browser_factory):
    people, ids = await make_world(browser_factory)
    room, msg = ids["private"]["room"], ids["private"]["msg"]
    for url in (f"/rooms/{room}", f"/rooms/{room}/members", f"/rooms/{room}/messages?before={msg + 1}",
                f"/rooms/{room}/messages/{msg}", f"/rooms/{room}/messages?after=0", "/rooms", "/search?q=private"):
        for htmx in (False, True):
            page = await people["outsider"].get(url, htmx=htmx)
            assert "Zephyr" not in page.text
            assert "author&#39;s message" not in page.text and "author's message" not in page.text


async def test_search_finds_for_each_role_only_what_it_may_read(browser_factory):
    """Every message of the world mentions "message": each role finds those of the rooms it reads."""
    import re

    people, _ = await make_world(browser_factory)
    seen = {}
    for role in ("outsider", "member", "author", "owner"):
        page = await people[role].get("/search?q=message")
        seen[role] = sorted(re.findall(r"message</mark> in (private|public|direct)<", page.text))
    assert seen == {
        "outsider": ["public", "public"],
        "member": ["direct", "direct", "private", "private", "public", "public"],
        "author": ["private", "private", "public", "public"],
        "owner": ["direct", "direct", "private", "private", "public", "public"],
    }


async def test_outsider_stream_of_a_private_room_is_never_opened(app, browser_factory):
    """403 before any subscription: nothing of the room reaches the hub for an outsider."""
    people, ids = await make_world(browser_factory)
    hub = app.extensions["webchat"].hub
    room = ids["private"]["room"]
    for _ in range(3):
        assert await people["outsider"].stream_status(f"/rooms/{room}/events") == 403
        assert await people["anonymous"].stream_status(f"/rooms/{room}/events") == 401
    async with asyncio.timeout(2):
        while hub.count:
            await asyncio.sleep(0.01)
    assert hub.count == 0


# ---------------------------------------------------------------------------------------------
# Running a community: the site administrator, a room's moderator, a muted member and a banned
# person, over every route of administration, moderation, reports, profiles and account settings.
#
# The world: Ada made the first account, so she runs the site (and is in no room); Olga owns the
# public room Agora and wrote a message there; Mona is a member, Muki a muted member, Moss a moderator;
# Bram was banned from Agora; Otto is signed in and in no room. Mona reported Olga's message.

COMMUNITY_ROLES = ("anonymous", "outsider", "banned", "member", "muted", "moderator", "owner", "admin")
COMMUNITY_PEOPLE = {"admin": "ada", "owner": "olga", "member": "mona", "muted": "muki", "moderator": "moss",
                    "banned": "bram", "outsider": "otto"}
ADMIN_ONLY = (303, 403, 403, 403, 403, 403, 403, 200)
EVERYONE = (303, 200, 200, 200, 200, 200, 200, 200)

COMMUNITY_READS = [
    ("GET", "/admin", ADMIN_ONLY),
    ("GET", "/admin/users?q=o", ADMIN_ONLY),
    ("GET", "/admin/rooms", ADMIN_ONLY),
    ("GET", "/admin/rooms/{room}/delete", ADMIN_ONLY),
    ("GET", "/admin/invites", ADMIN_ONLY),
    ("GET", "/admin/reports", ADMIN_ONLY),
    ("GET", "/admin/audit", ADMIN_ONLY),
    ("HTMX", "/admin", (401, 403, 403, 403, 403, 403, 403, 200)),
    ("GET", "/invites", ADMIN_ONLY),  # members make invitations only when the administrators allow it
    # An invitation link is for new people; the signed-in are sent on to their rooms.
    ("GET", "/join/{invite}", (200, 303, 303, 303, 303, 303, 303, 303)),
    # A reset link is its own authority: whoever holds it may choose Mona's new password.
    ("GET", "/reset/{reset}", (200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/rooms/{room}", (303, 200, 403, 200, 200, 200, 200, 200)),
    ("STREAM", "/rooms/{room}/events", (401, 200, 403, 200, 200, 200, 200, 200)),
    ("STREAM", "/rooms/{private}/events", (401, 403, 403, 200, 200, 200, 200, 403)),
    ("STREAM", "/events", (401, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/rooms/{room}/settings", (303, 403, 403, 403, 403, 200, 200, 403)),
    # Moss moderates Agora only; the direct room is Mona's and Moss's: it has no settings.
    ("GET", "/rooms/{private}/settings", (303, 403, 403, 403, 403, 403, 200, 403)),
    ("GET", "/rooms/{direct}/settings", (303, 403, 403, 404, 403, 404, 403, 403)),
    ("GET", "/rooms/{room}/delete", (303, 403, 403, 403, 403, 403, 200, 403)),
    ("GET", "/rooms/{room}/messages/{msg}/report", (303, 200, 403, 200, 200, 200, 409, 200)),
    ("GET", "/rooms/{private}/messages/{msg}/report", (303, 403, 403, 404, 404, 404, 404, 403)),
    ("GET", "/users/mona", EVERYONE),
    ("GET", "/users/nobody", (303, 404, 404, 404, 404, 404, 404, 404)),
    ("GET", "/settings/profile", EVERYONE),
    ("GET", "/settings/password", EVERYONE),
    ("GET", "/settings/delete", EVERYONE),
    ("GET", "/settings/export", EVERYONE),
]

COMMUNITY_WRITES = [
    ("POST", "/rooms/{room}/messages", {"body": "hello"}, (303, 403, 403, 303, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/typing", None, (303, 403, 403, 204, 403, 204, 204, 403)),
    ("POST", "/rooms/{room}/join", None, (303, 303, 403, 303, 303, 303, 303, 303)),
    ("POST", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 403, 403, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/messages/{msg}/report", {"reason": "rude"}, (303, 303, 403, 303, 303, 303, 409, 303)),
    ("POST", "/rooms/{room}/moderation/mona/mute", {"minutes": "10"}, (303, 403, 403, 403, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/moderation/muki/unmute", None, (303, 403, 403, 403, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/moderation/mona/remove", None, (303, 403, 403, 403, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/moderation/mona/ban", None, (303, 403, 403, 403, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/moderation/bram/unban", None, (303, 403, 403, 403, 403, 303, 303, 403)),
    ("POST", "/rooms/{room}/moderation/moss/mute", {"minutes": "10"}, (303, 403, 403, 403, 403, 409, 303, 403)),
    ("POST", "/rooms/{room}/moderation/olga/ban", None, (303, 403, 403, 403, 403, 409, 409, 403)),
    ("POST", "/rooms/{room}/settings", {"name": "Forum", "visibility": "public"},
     (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/transfer", {"username": "mona"}, (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/moderators", {"username": "mona"}, (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/moderators/moss/remove", None, (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/archive", None, (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/unarchive", None, (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/delete", {"confirm": "Agora"}, (303, 403, 403, 403, 403, 403, 303, 403)),
    ("POST", "/admin/users/mona/deactivate", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/users/mona/reactivate", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/users/mona/promote", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/users/mona/reset", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/site", {"name": "Club", "registration": "invite"}, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/invites", {"days": "1", "uses": "1"}, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/rooms/{room}/archive", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/rooms/{room}/unarchive", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/invites/{invite_id}/revoke", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/rooms/{room}/delete", {"confirm": "Agora"}, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/reports/{report}/dismiss", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/admin/reports/{report}/resolve", None, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/invites", {"days": "1", "uses": "1"}, ADMIN_ONLY[:7] + (303,)),
    ("POST", "/invites/{invite_id}/revoke", None, ADMIN_ONLY[:7] + (303,)),
    # A form without a password: the visitor sees the form again; the signed-in are sent on.
    ("POST", "/join/{invite}", {"username": "newcomer"}, (422, 303, 303, 303, 303, 303, 303, 303)),
    ("POST", "/reset/{reset}", {"password": "short"}, (422, 422, 422, 422, 422, 422, 422, 422)),
    ("POST", "/users/mona/block", None, (303, 303, 303, 409, 303, 303, 303, 303)),
    ("POST", "/users/mona/unblock", None, (303, 303, 303, 409, 303, 303, 303, 303)),
    ("POST", "/settings/password", {"current_password": PASSWORD, "new_password": "a new long password"},
     (303, 303, 303, 303, 303, 303, 303, 303)),
    # The site's last administrator stays.
    ("POST", "/settings/delete", {"messages": "keep", "password": PASSWORD},
     (303, 303, 303, 303, 303, 303, 303, 422)),
    ("POST", "/settings/profile", {"display_name": "New name", "time_zone": "UTC"},
     (303, 303, 303, 303, 303, 303, 303, 303)),
]


async def make_community(browser_factory) -> tuple[dict, dict]:
    from webchat.models import Report

    people = {}
    for role in ("admin", "owner", "member", "muted", "moderator", "banned", "outsider"):
        people[role] = browser_factory()
        await people[role].register(COMMUNITY_PEOPLE[role], COMMUNITY_PEOPLE[role].title())
    people["anonymous"] = browser_factory()
    await people["anonymous"].get("/login")
    owner = people["owner"]
    room = await owner.create_room("Agora", "public")
    private = await owner.create_room("Back office", "private")
    for role in ("member", "muted", "moderator", "banned"):
        assert (await people[role].post(f"/rooms/{room}/join")).status == 303
        if role != "banned":
            assert (await owner.post(f"/rooms/{private}/members", {"username": COMMUNITY_PEOPLE[role]})).status == 303
    assert (await owner.post(f"/rooms/{room}/moderators", {"username": "moss"})).status == 303
    assert (await owner.post(f"/rooms/{room}/moderation/muki/mute", {"minutes": "60"})).status == 303
    assert (await owner.post(f"/rooms/{room}/moderation/bram/ban")).status == 303
    await owner.say(room, "olga's message")
    msg = (await Message.get(body="olga's message")).id
    assert (await people["member"].post(f"/rooms/{room}/messages/{msg}/report", {"reason": "rude"})).status == 303
    direct = int((await people["member"].post("/dm", {"username": "moss"})).location.rsplit("/", 1)[1])
    report = (await Report.get(message_id=msg)).id
    ada, mona = await User.get(username="ada"), await User.get(username="mona")
    invite = await admin.create_invite(ada, 7, 5)
    invite_id = (await Invite.get(token_hash=admin.token_hash(invite))).id
    reset = await admin.create_reset(ada, mona)
    return people, {"room": room, "private": private, "direct": direct, "msg": msg, "report": report,
                    "invite": invite, "invite_id": invite_id, "reset": reset}


# The areas of running a community: every route in them is in the matrix above.
COMMUNITY_BLUEPRINTS = ("admin", "invites", "moderation", "profile")
COMMUNITY_ELSEWHERE = {"/join/<token>", "/reset/<token>"}


def test_the_community_matrix_holds_every_route_of_running_a_community(app):
    """A route added to administration, invitations, moderation or people's own pages fails here
    until the matrix says who may use it."""
    rows = [(method, path) for method, path, _ in COMMUNITY_READS]
    rows += [(method, path) for method, path, _, _ in COMMUNITY_WRITES]
    rows = [("POST" if method == "POST" else "GET", path.split("?")[0]) for method, path in rows]
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in COMMUNITY_BLUEPRINTS and rule.rule not in COMMUNITY_ELSEWHERE:
            continue
        pattern = re.compile(re.sub(r"<[^>]+>", r"[^/]+", rule.rule))
        for method in sorted(rule.methods & {"GET", "POST"}):
            if not any(m == method and pattern.fullmatch(re.sub(r"\{\w+\}", "1", p)) for m, p in rows):
                missing.append(f"{method} {rule.rule}")
    assert missing == []


async def test_community_reading_against_every_role(no_limits, browser_factory):
    people, ids = await make_community(browser_factory)
    got, expected = {}, {}
    for method, path, statuses in COMMUNITY_READS:
        url = path.format(**ids)
        for role, status in zip(COMMUNITY_ROLES, statuses, strict=True):
            got[(role, method, path)] = await ask(people[role], method, url, None)
            expected[(role, method, path)] = status
    assert got == expected


@pytest.mark.parametrize("method,path,form,statuses", COMMUNITY_WRITES,
                         ids=[f"{row[0]} {row[1]}" for row in COMMUNITY_WRITES])
async def test_community_writing_against_every_role(no_limits, browser_factory, method, path, form, statuses):
    got, expected = {}, {}
    for role, status in zip(COMMUNITY_ROLES, statuses, strict=True):
        await _empty_community()
        people, ids = await make_community(browser_factory)
        url, data = fill(path, form, ids)
        before = await snapshot()
        got[role] = await ask(people[role], method, url, data)
        expected[role] = status
        if got[role] in REFUSALS or role == "anonymous":
            assert await snapshot() == before, f"{role} {method} {url} was refused but changed state"
    assert got == expected


async def _empty_community() -> None:
    from webchat.models import (
        AuditEntry,
        Ban,
        Block,
        Event,
        Invite,
        Membership,
        PasswordReset,
        Report,
        Room,
        Site,
        User,
    )

    for model in (Report, Ban, Block, Invite, PasswordReset, AuditEntry, Event, Message, Membership, Room,
                  User, Site):
        await model.all().delete()
