"""axe-core finds no WCAG 2.2 A or AA violation on any page, in any state, in either colour scheme.

Each test walks through a group of pages and states and checks every one of them in the light
and the dark scheme (prefers-color-scheme, so axe's color-contrast rule covers both palettes),
then reports every violation it saw at once. The page must also log no refused script or style
(the strict CSP) and no uncaught script error.
"""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Audit, Session, open_actions
from tests.helpers.live import LiveUser

LINK = "https://example.org/a/very/long/path/that/goes/on/and/on?with=query&and=more"


async def message_ids(user: LiveUser, room: int) -> list[int]:
    page = await user.page(f"/rooms/{room}")
    return [int(n) for n in re.findall(r'<li id="m-(\d+)"', page.text)]


async def seed(owner: LiveUser, other: LiveUser, room: int, count: int) -> None:
    """`count` messages, alternating authors, with a link, line breaks and a mention."""
    for i in range(count):
        who = owner if i % 3 else other
        if i % 10 == 4:
            body = f"Message {i}: see {LINK}"
        elif i % 10 == 7:
            body = f"Message {i}, over\ntwo lines, for @{owner.username}"
        else:
            body = f"Message {i}: the quick brown fox jumps over the lazy dog."
        await who.say(room, body)


async def typing(user: LiveUser, room: int) -> None:
    response = await user.post(f"/rooms/{room}/typing", htmx=True)
    assert response.status_code == 204


async def test_signed_out_pages(session: Session):
    audit = Audit()
    page = await session.page()

    await page.goto("/")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await audit.check(page, "landing")

    await page.goto("/register")
    await audit.check(page, "register, empty")
    await page.get_by_label("Username").fill("x")
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await audit.check(page, "register, with errors")

    await page.goto("/login")
    await audit.check(page, "sign-in, empty")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await audit.check(page, "sign-in, with errors (empty)")
    await page.get_by_label("Username").fill("nobody-here")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator("#error-summary")).to_contain_text("do not match")
    await audit.check(page, "sign-in, with errors (bad credentials)")

    response = await page.goto("/no/such/page")
    assert response.status == 404
    await audit.check(page, "404, signed out")

    # The form expired: the browser's CSRF cookie is gone (a new browser profile, cleared cookies).
    await page.goto("/login")
    await page.context.clear_cookies()
    await page.get_by_label("Username").fill("someone")
    await page.get_by_label("Password").fill("whatever password")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    await audit.check(page, "403 form expired, signed out")
    audit.verify()


async def test_room_list_empty_and_with_errors(session: Session, fresh_server):
    """A fresh server, so that the list is truly empty: no rooms of one's own, none to join."""
    server = fresh_server()
    own = Session(session.browser, server.url)
    try:
        audit = Audit()
        user = await own.user(unique("solo"), "Solo Reader")
        page = await own.page(user)
        await page.goto("/rooms")
        await expect(page.get_by_text("You are not in any room yet.")).to_be_visible()
        await expect(page.get_by_text("There are no other public rooms yet.")).to_be_visible()
        await expect(page.get_by_role("heading", name="Welcome to webchat, Solo Reader")).to_be_visible()
        await audit.check(page, "room list, empty (the first-run welcome)")

        await page.get_by_role("button", name="Create room").click()
        await expect(page.locator("#error-summary")).to_be_visible()
        await audit.check(page, "room list, create-room errors")

        await page.get_by_label("Their name or username").fill("nobody-at-all")
        await page.get_by_role("button", name="Open direct messages").click()
        await expect(page.locator(".error-summary")).to_be_visible()
        await audit.check(page, "room list, direct-message errors")

        # Two people share a display name: the name alone brings the form back with both.
        for prefix in ("sam", "sam"):
            await own.user(unique(prefix), "Sam Lee")
        await page.get_by_label("Their name or username").fill("Sam Lee")
        await page.get_by_role("button", name="Open direct messages").click()
        await expect(page.locator(".candidates li")).to_have_count(2)
        await audit.check(page, "room list, direct message to one of two people")

        # The suggestions of the name field, open, with one of them chosen by the arrow keys.
        field = page.get_by_role("combobox", name="Their name or username")
        await field.fill("")
        await field.press_sequentially("Sam")
        await expect(page.locator("#dm-username-options [role=option]")).to_have_count(2)
        await field.press("ArrowDown")
        await expect(field).to_have_attribute("aria-activedescendant", re.compile(r"^dm-username-options-"))
        await audit.check(page, "room list, name suggestions open")
        audit.verify()
    finally:
        await own.close()


async def test_room_list_full(session: Session):
    audit = Audit()
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    mine = [await ana.create_room(f"Ana's room {i}", "public") for i in range(3)]
    secret = await ana.create_room("Ana's private room", "private")
    await ana.post(f"/rooms/{secret}/members", {"username": ben.username})
    theirs = await ben.create_room("Ben's open room with a long name to wrap around", "public")
    await ben.post(f"/rooms/{mine[0]}/join")
    for i in range(4):
        await ben.say(mine[0], f"unread {i}")
    await ben.post("/dm", {"username": ana.username})
    page = await session.page(ana)
    await page.goto("/rooms")
    await expect(page.locator(f"#unread-{mine[0]}")).to_have_text("4 unread")
    await expect(page.locator(f'a[href="/rooms/{theirs}"]')).to_be_visible()
    await audit.check(page, "room list, full")
    audit.verify()


async def test_room_states(session: Session):
    audit = Audit()
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Lobby", "public")
    await ben.post(f"/rooms/{room}/join")

    page = await session.page(ana)
    await page.goto(f"/rooms/{room}")
    await expect(page.get_by_text("No messages yet. Say hello!")).to_be_visible()
    await audit.check(page, "room, empty")

    await seed(ana, ben, room, 64)
    await page.goto(f"/rooms/{room}")
    await expect(page.get_by_role("link", name="Show older messages")).to_be_visible()
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await audit.check(page, "room, with history")

    await typing(ben, room)
    await expect(page.locator("#typing")).to_contain_text("is typing")
    await audit.check(page, "room, someone typing", schemes=("light",))
    await typing(ben, room)
    await expect(page.locator("#typing")).to_contain_text("is typing")
    await audit.check(page, "room, someone typing", schemes=("dark",))

    await page.get_by_role("link", name="Show older messages").click()
    await expect(page.locator("#older")).to_have_text("This is the start of the conversation.")
    await audit.check(page, "room, older history loaded")

    ids = await message_ids(ana, room)
    own = [i for i in ids if await page.locator(f"#m-{i}").get_attribute("data-author") == ana.username]
    await open_actions(page.locator(f"#m-{own[-1]}"))
    await audit.check(page, "room, a message's actions menu open")
    await page.locator(f"#m-{own[-1]} .act-own").click()
    await expect(page.locator("#edit-body")).to_be_visible()
    await audit.check(page, "room, editing a message in place")
    await page.locator("#edit-body").fill("Edited: a better message")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator(f"#m-{own[-1]} .edited")).to_be_visible()
    await open_actions(page.locator(f"#m-{own[-2]}"))
    await page.locator(f"#m-{own[-2]} .act-own").click()
    await page.get_by_role("link", name="Delete this message…").click()
    await expect(page.get_by_role("button", name="Delete message")).to_be_focused()
    await audit.check(page, "room, asked before deleting a message")
    await page.get_by_role("button", name="Delete message").click()
    await expect(page.locator(f"#m-{own[-2]} .tombstone")).to_have_text("Message deleted")
    await audit.check(page, "room, after an edit and a delete")

    # Reading older messages while someone writes: "1 new message below" appears.
    await page.locator("#messages > li").first.scroll_into_view_if_needed()
    await ben.say(room, "Something new while Ana reads back")
    await expect(page.locator("#new-below")).to_have_text("1 new message below")
    await audit.check(page, "room, a new message below")

    await page.locator("#composer-body").fill("x" * 4001)
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#composer-error")).to_be_visible()
    await audit.check(page, "room, composer error")

    # Ben, a member who is not the owner, sees the owner's moderation hidden and a Leave button.
    page_ben = await session.page(ben)
    await page_ben.goto(f"/rooms/{room}")
    await expect(page_ben.get_by_role("button", name="Leave this room")).to_be_visible()
    await audit.check(page_ben, "room, as a member")

    # Someone who is not a member reads the public room and is offered the Join button.
    cleo = await session.user(unique("cleo"), "Cleo")
    page_cleo = await session.page(cleo)
    await page_cleo.goto(f"/rooms/{room}")
    await expect(page_cleo.get_by_role("button", name="Join Lobby")).to_be_visible()
    await audit.check(page_cleo, "room, read by a non-member")
    audit.verify()


async def test_room_closed_by_removal(session: Session):
    """The notice a reader gets when the owner removes them while they have the room open."""
    audit = Audit()
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Private talk", "private")
    await ana.post(f"/rooms/{room}/members", {"username": ben.username})
    await ana.say(room, "Hello Ben")
    page = await session.page(ben)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await ana.post(f"/rooms/{room}/members/{ben.username}/remove")
    await expect(page.locator("#stream-notice")).not_to_be_empty()
    await expect(page.locator("#composer")).to_be_hidden()
    await audit.check(page, "room, closed after removal")
    audit.verify()


async def test_other_signed_in_pages(session: Session):
    audit = Audit()
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Planning", "private")
    await ana.post(f"/rooms/{room}/members", {"username": ben.username})
    await seed(ana, ben, room, 60)
    ids = await message_ids(ana, room)
    page = await session.page(ana)

    await page.goto("/settings")
    await audit.check(page, "settings")
    await page.get_by_label("None").check()
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.locator("#flash")).not_to_be_empty()
    await audit.check(page, "settings, saved")

    await page.goto(f"/rooms/{room}/members")
    await audit.check(page, "members, as owner")
    await page.get_by_role("button", name="Add member").click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await audit.check(page, "members, with errors")

    author = await ana.page(f"/rooms/{room}")
    own = max(int(n) for n in re.findall(rf'<li id="m-(\d+)"[^>]*data-author="{ana.username}"', author.text))
    await page.goto(f"/rooms/{room}/messages/{own}/edit")
    await expect(page.locator("#edit-body")).to_be_visible()
    await audit.check(page, "edit page")
    await page.locator("#edit-body").fill("   ")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#error-summary, #edit-error").first).to_be_visible()
    await audit.check(page, "edit page, with errors")

    other = max(int(n) for n in re.findall(rf'<li id="m-(\d+)"[^>]*data-author="{ben.username}"', author.text))
    await page.goto(f"/rooms/{room}/messages/{other}/edit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Delete a message")
    await audit.check(page, "edit page of another's message, as owner")
    await page.goto(f"/rooms/{room}/messages/{other}/delete")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Delete this message?")
    await audit.check(page, "delete page (the question asked before deleting)")

    await page.goto("/people")
    await expect(page.get_by_role("heading", level=1)).to_have_text("People")
    await audit.check(page, "people")
    await page.goto(f"/people?q={ana.username}")
    await expect(page.locator(".people-list li")).to_have_count(1)
    await audit.check(page, "people, search results")
    await page.goto("/people?q=nobody-by-this-name")
    await expect(page.get_by_text("matches “nobody-by-this-name”")).to_be_visible()
    await audit.check(page, "people, no results")

    await page.goto(f"/rooms/{room}/messages?before={ids[0]}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Older messages")
    await audit.check(page, "history page")

    page_ben = await session.page(ben)
    await page_ben.goto(f"/rooms/{room}/members")
    await audit.check(page_ben, "members, as a member")
    audit.verify()


async def test_error_pages(session: Session, fresh_server):
    audit = Audit()
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    secret = await ana.create_room("Secret", "private")
    await ana.say(secret, "to be deleted")
    gone = (await message_ids(ana, secret))[-1]
    await ana.post(f"/rooms/{secret}/messages/{gone}/delete")

    page_ben = await session.page(ben)
    response = await page_ben.goto(f"/rooms/{secret}")
    assert response.status == 403
    await audit.check(page_ben, "403, private room")

    page = await session.page(ana)
    response = await page.goto("/rooms/987654321")
    assert response.status == 404
    await audit.check(page, "404, no such room")

    response = await page.goto(f"/rooms/{secret}/messages/{gone}/edit")
    assert response.status == 410
    await audit.check(page, "410, deleted message")

    # The form expired while signed in: the browser's CSRF cookie no longer matches the form.
    await page.goto("/settings")
    await page.context.add_cookies([{"name": "webchat_csrf", "value": "stale", "url": session.base_url}])
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    await audit.check(page, "403 form expired, signed in")

    # Too much text: a message body over 256 KiB, posted by a plain form (the edit page).
    page = await session.page(ana)
    room = await ana.create_room("Big", "public")
    await ana.say(room, "small")
    mine = (await message_ids(ana, room))[-1]
    await page.goto(f"/rooms/{room}/messages/{mine}/edit")
    await page.locator("#edit-body").fill("y" * (300 * 1024))
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Too much text")
    await audit.check(page, "413, too much text")

    # 429: a server with its rate limits on, after repeated failed sign-ins from this address.
    limited = fresh_server(WEBCHAT_RATE_LIMITS="on")
    own = Session(session.browser, limited.url)
    try:
        probe = LiveUser(limited.url, "probe")
        own.users.append(probe)
        for _ in range(10):
            await probe.post("/login", {"username": "probe", "password": "wrong password"})
        page = await own.page()
        await page.goto("/login")
        await page.get_by_label("Username").fill("probe")
        await page.get_by_label("Password").fill("wrong again")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Slow down")
        await audit.check(page, "429, slow down")
    finally:
        await own.close()
    audit.verify()
