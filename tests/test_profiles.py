"""People: profiles with initials avatars of a stable colour that reads in light and dark, blocking,
changing one's password, deleting one's account, downloading one's data."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.browser import PASSWORD
from webchat.accounts.people import AVATAR_COLOURS, avatar_colour, initials
from webchat.models import AuditEntry, Message, Room, User

CSS = (Path(__file__).resolve().parents[1] / "static/css/webchat.css").read_text()


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_avatar_colour_meets_contrast_in_light_and_dark():
    light_css, dark_css = CSS.split("/* Initials avatars", 1)[1].split("@media (prefers-color-scheme: dark)", 1)
    for css, text in ((light_css, "#ffffff"), (dark_css, "#111315")):
        colours = dict(re.findall(r"\.avatar-(\d) \{ --avatar: (#[0-9a-f]{6}); \}", css))
        assert sorted(colours) == [str(n) for n in range(AVATAR_COLOURS)]
        assert f"color: {text}" in css
        for n, colour in colours.items():
            assert contrast(colour, text) >= 4.5, (n, colour, text, contrast(colour, text))


def test_initials_and_a_colour_that_never_changes():
    person = User(username="ana", username_key="ana", display_name="Ana María Lima")
    assert initials(person) == "AL"
    assert initials(User(username="x_y", username_key="x_y", display_name="🙂 ")) == "X"
    assert initials(User(username="bo", username_key="bo", display_name="bo")) == "B"
    # Derived from the username with SHA-256, not Python's per-process hash(): the same everywhere.
    assert avatar_colour(person) == avatar_colour(User(username="ANA", username_key="ana", display_name="?"))
    assert {avatar_colour(User(username_key=f"user{n}")) for n in range(200)} == set(range(AVATAR_COLOURS))


async def test_profile_page_and_editing_it(ana, ben):
    page = await ben.get("/users/ANA")
    assert page.status == 200 and "<h1>Ana Lima" in page.text and "@ana" in page.text
    assert re.search(r'class="avatar avatar-\d avatar-large" aria-hidden="true">AL<', page.text)
    assert (await ben.get("/users/nobody")).status == 404
    assert (await ben.get("/users/%00")).status == 404
    bad = await ana.post("/settings/profile", {"display_name": "A" * 65, "bio": "b" * 301})
    assert bad.status == 422
    for field in ("profile-name", "profile-bio"):
        assert f'href="#{field}"' in bad.text
    assert "Not set" in (await ben.get("/users/ana")).text  # no time zone chosen yet
    done = await ana.post("/settings/profile", {"display_name": "Ana L.", "bio": "Sailor.\nBaker."})
    assert done.status == 303
    # The time zone is chosen in the settings, with the clock.
    assert (await ana.post("/settings", {"time_zone": "Mars/Olympus"})).status == 422
    assert (await ana.post("/settings", {"time_zone": "Asia/Bangkok"})).status == 303
    shown = (await ben.get("/users/ana")).text
    assert "Asia/Bangkok" in shown and "Sailor.\nBaker." in shown and "Ana L." in shown


async def test_blocking_stops_direct_messages_and_folds_messages(ana, ben, cleo):
    direct = int((await ben.post("/dm", {"username": "ana"})).location.rsplit("/", 1)[1])
    room = await ana.create_room("Square")
    await ben.post(f"/rooms/{room}/join")
    assert (await ana.post("/users/ben/block")).status == 303
    assert (await ana.post("/users/ana/block")).status == 409
    refused = await ben.post("/dm", {"username": "ana"})
    assert refused.status == 403 and "does not take direct messages from you" in refused.text
    # Nor a group conversation that has her in it.
    grouped = await ben.post("/dm", {"usernames": "ana cleo"})
    assert grouped.status == 403 and "does not take direct messages from you" in grouped.text
    assert (await ben.say(direct, "hello?")).status == 403
    assert (await ana.say(direct, "I can still write")).status == 303  # blocking is one way
    mid = int((await ben.say(room, "from Ben")).location.rsplit("-", 1)[1])
    await ana.say(room, "from Ana")
    page = await ana.get(f"/rooms/{room}")
    assert '<meta name="blocked-authors" content="ben">' in page.text
    # Folded on the page itself, without script: Ben's message behind a <details>, Ana's not.
    for path in (f"/rooms/{room}", f"/rooms/{room}/messages?before={mid + 10}", f"/rooms/{room}/messages/{mid}"):
        text = (await ana.get(path)).text
        assert len(re.findall(r"<summary>Show message from blocked user</summary>", text)) == 1, path
        folded = text.split(f'<li id="m-{mid}"', 1)[1].split("</li>", 1)[0]
        assert "<details class=\"blocked-fold\">" in folded and "from Ben" in folded.split("<details", 1)[1]
    unblocked = await ben.get(f"/rooms/{room}")
    assert 'name="blocked-authors"' not in unblocked.text and "blocked-fold" not in unblocked.text
    assert "Unblock Ben" in (await ana.get("/users/ben")).text
    assert (await ana.post("/users/ben/unblock")).status == 303
    assert (await ben.say(direct, "hello again")).status == 303


async def test_changing_the_password_signs_out_the_other_sessions(ana, browser_factory):
    other = browser_factory()
    await other.login("ana")
    wrong = await ana.post("/settings/password", {"current_password": "nope", "new_password": "x"})
    assert wrong.status == 422 and 'href="#current-password"' in wrong.text and 'href="#new-password"' in wrong.text
    done = await ana.post("/settings/password", {"current_password": PASSWORD, "new_password": "sea shells sing"})
    assert done.status == 303
    assert (await ana.get("/rooms")).status == 200  # this session carries on
    assert (await other.get("/rooms")).location.startswith("/login")
    assert (await browser_factory().login("ana", "sea shells sing")).status == 303


async def test_deleting_the_account_keeps_or_erases_messages(ana, ben, cleo, browser_factory):
    room = await ana.create_room("Square")
    for person in (ben, cleo):
        await person.post(f"/rooms/{room}/join")
    await ben.say(room, "ben's words")
    await cleo.say(room, "cleo's words")
    wrong = await ben.post("/settings/delete", {"messages": "keep", "password": "nope"})
    assert wrong.status == 422 and await User.exists(username="ben")
    assert (await ben.post("/settings/delete", {"messages": "keep", "password": PASSWORD})).status == 303
    assert (await cleo.post("/settings/delete", {"messages": "erase", "password": PASSWORD})).status == 303
    page = (await ana.get(f"/rooms/{room}")).text
    assert "ben&#39;s words" in page and "deleted user" in page
    kept = await Message.get(body="ben's words").select_related("author")
    assert kept.author.display_name == "deleted user" and kept.author.deleted
    erased = await Message.get(id=(await Message.filter(room_id=room).order_by("-id").first()).id)
    assert erased.deleted and erased.body == ""
    assert not await Message.filter(body__contains="cleo").exists()
    assert (await ben.get("/rooms")).location.startswith("/login")
    assert (await browser_factory().login("ben")).status == 401
    assert (await ana.get("/users/ben")).status == 404
    await browser_factory().register("ben")  # the name is free again
    assert [e.action for e in await AuditEntry.filter(action="user.delete")] == ["user.delete", "user.delete"]
    # The site's last administrator stays.
    assert (await ana.post("/settings/delete", {"messages": "keep", "password": PASSWORD})).status == 422


async def test_a_deleted_owner_hands_the_room_on(ana, ben, cleo):
    room = await ben.create_room("Ben's room")
    await cleo.post(f"/rooms/{room}/join")
    await ben.post("/settings/delete", {"messages": "keep", "password": PASSWORD})
    assert (await Room.get(id=room)).owner_id == (await User.get(username="cleo")).id


async def test_download_your_data(ana, ben):
    room = await ana.create_room("Square")
    await ana.say(room, "my words")
    await ana.post("/users/ben/block")
    response = await ana.client.get("/settings/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="webchat-ana.json"'
    data = json.loads(await response.get_data(as_text=True))
    assert data["account"]["username"] == "ana" and data["account"]["administrator"] is True
    assert [m["body"] for m in data["messages"]] == ["my words"]
    assert data["rooms"][0]["name"] == "Square" and data["blocked"] == ["ben"]


async def test_group_conversations_of_three_to_eight_people(ana, ben, cleo, browser_factory):
    from webchat.models import Membership

    opened = await ana.post("/dm", {"usernames": "ben, @Cleo"})
    assert opened.status == 303
    room = int(opened.location.rsplit("/", 1)[1])
    # The same people, in any order, from any of them: the same conversation.
    assert (await cleo.post("/dm", {"usernames": "ana ben"})).location == opened.location
    assert sorted(await Membership.filter(room_id=room).values_list("user__username", flat=True)) == [
        "ana", "ben", "cleo"]
    page = await ben.get(f"/rooms/{room}")
    assert "Group: Ana Lima and Cleo" in page.text
    await cleo.say(room, "hello group")
    assert "hello group" in (await ana.get(f"/rooms/{room}")).text
    outsider = browser_factory()
    await outsider.register("otto")
    assert (await outsider.get(f"/rooms/{room}")).status == 403
    for typed in ("ben", "", "ben, nobody", ",".join(f"pp{n}" for n in range(8))):
        refused = await ana.post("/dm", {"usernames": typed})
        assert refused.status == 422, typed
        assert 'href="#group-usernames"' in refused.text
    for n in range(6):
        await browser_factory().register(f"pp{n}")
    eight = await ana.post("/dm", {"usernames": "ben cleo pp0 pp1 pp2 pp3 pp4"})
    assert eight.status == 303 and eight.location != opened.location
    assert (await ana.post("/dm", {"usernames": "ben cleo pp0 pp1 pp2 pp3 pp4 pp5"})).status == 422  # nine
