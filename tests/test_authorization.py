"""Every route against every kind of visitor: signed out, non-member, member, author, owner.

Each row builds a fresh private room where the owner and a member have each written a message
(the member's is the "author" message), then asks one route as each role.
"""

from __future__ import annotations

import pytest

from webchat.models import Message

ROLES = ("anonymous", "outsider", "member", "author", "owner")

# route template -> method -> expected status per role (anonymous, outsider, member, author, owner)
MATRIX = [
    ("GET", "/rooms/{room}", None, (303, 403, 200, 200, 200)),
    ("GET", "/rooms/{room}/messages?before={msg}", None, (303, 403, 200, 200, 200)),
    ("GET", "/rooms/{room}/members", None, (303, 403, 200, 200, 200)),
    ("GET", "/rooms/{room}/messages/{msg}/edit", None, (303, 403, 403, 200, 200)),
    ("POST", "/rooms/{room}/messages", {"body": "hello"}, (303, 403, 303, 303, 303)),
    ("POST", "/rooms/{room}/messages/{msg}/edit", {"body": "changed"}, (303, 403, 403, 303, 403)),
    ("POST", "/rooms/{room}/messages/{msg}/delete", None, (303, 403, 403, 303, 303)),
    ("POST", "/rooms/{room}/join", None, (303, 403, 403, 403, 403)),
    ("POST", "/rooms/{room}/leave", None, (303, 403, 303, 303, 409)),
    ("POST", "/rooms/{room}/members", {"username": "dora"}, (303, 403, 403, 403, 303)),
    ("POST", "/rooms/{room}/members/mona/remove", None, (303, 403, 403, 403, 303)),
    ("POST", "/rooms/{room}/typing", None, (303, 403, 204, 204, 204)),
    ("POST", "/rooms/{room}/read", {"last_message_id": "{msg}"}, (303, 403, 303, 303, 303)),
    ("STREAM", "/rooms/{room}/events", None, (401, 403, 200, 200, 200)),
]


@pytest.fixture
async def world(app, browser_factory):
    people = {}
    for role, name in (("owner", "olga"), ("member", "mona"), ("author", "arlo"), ("outsider", "otto")):
        people[role] = browser_factory()
        await people[role].register(name)
    await browser_factory().register("dora")
    people["anonymous"] = browser_factory()
    room = await people["owner"].create_room("Zephyr plans", "private")
    for name in ("mona", "arlo"):
        assert (await people["owner"].post(f"/rooms/{room}/members", {"username": name})).status == 303
    await people["owner"].say(room, "owner's message")
    await people["author"].say(room, "author's message")
    msg = (await Message.get(body="author's message")).id
    return people, room, msg


@pytest.mark.parametrize("method,path,data,expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
async def test_route_against_role(world, method, path, data, expected, role_index):
    people, room, msg = world
    role = ROLES[role_index]
    browser = people[role]
    url = path.format(room=room, msg=msg)
    form = {k: v.format(msg=msg) for k, v in (data or {}).items()}
    if method == "GET":
        status = (await browser.get(url)).status
    elif method == "STREAM":
        status = await browser.stream_status(url)
    else:
        status = (await browser.post(url, form)).status
    assert status == expected[role_index], f"{role} {method} {url}"


async def test_outsider_never_sees_the_private_room_name(world):
    people, room, msg = world
    for url in (f"/rooms/{room}", f"/rooms/{room}/members", f"/rooms/{room}/messages?before={msg + 1}", "/rooms"):
        page = await people["outsider"].get(url)
        assert "Zephyr" not in page.text
        assert "author&#39;s message" not in page.text
