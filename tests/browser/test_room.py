"""A room that behaves like a chat: where it opens, what stays in view, how far the composer is,
what happens while one reads back, drafts, touch screens, the live list of rooms, and the same
without JavaScript where it applies.

Measured as a person meets them, in Chromium at 1280x800 and at 320x640: positions are read from
the page's own layout (getBoundingClientRect), and the keyboard only moves by keys.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import (
    NARROW,
    WIDE,
    Session,
    assert_focus_visible,
    focused,
    from_page_top,
    press,
    wait_until,
)
from tests.helpers.live import LiveUser

PHONE = {"width": 320, "height": 640}

IN_VIEW_JS = """sel => {
  const el = document.querySelector(sel);
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5 && r.height > 0;
}"""

# Where an element is in the message log's visible part: its top, from the top of the log's box.
IN_LOG_JS = """sel => {
  const log = document.getElementById('history'), el = document.querySelector(sel);
  const l = log.getBoundingClientRect(), r = el.getBoundingClientRect();
  return {top: r.top - l.top, bottom: r.bottom - l.top, height: l.height,
          scrollTop: log.scrollTop, scrollHeight: log.scrollHeight, clientHeight: log.clientHeight};
}"""


async def room_with_history(session: Session, count: int, *, read_upto: int | None = None):
    """Ana (the owner) and Ben, Ben's `count` messages in a public room. Ana has read up to the
    `read_upto`th of them (None: all, as when she has been following)."""
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Long history", "public")
    await ben.post(f"/rooms/{room}/join")
    for i in range(count):
        await ben.say(room, f"History #{i + 1:03d}")
    ids = [int(n) for n in re.findall(r'<li id="m-(\d+)"', (await ben.page(f"/rooms/{room}")).text)]
    if ids:
        upto = ids[-1] if read_upto is None else await message_number(ben, room, read_upto)
        if upto:
            assert (await ana.post(f"/rooms/{room}/read", {"last_message_id": str(upto)})).status_code == 303
    return ana, ben, room


async def message_number(user: LiveUser, room: int, n: int) -> int:
    """The id of the message "History #n" (0 for n = 0)."""
    if n == 0:
        return 0
    page = (await user.page(f"/rooms/{room}")).text
    while True:
        found = re.search(rf'<li id="m-(\d+)"(?:(?!</li>).)*History #{n:03d}<', page, re.S)
        if found:
            return int(found.group(1))
        older = re.search(r'href="(/rooms/\d+/messages\?before=\d+)"', page)
        assert older, f"no message History #{n:03d}"
        page = (await user.page(older.group(1))).text


async def opened(session: Session, user: LiveUser, room: int, **options) -> Page:
    page = await session.page(user, **options)
    await page.goto(f"/rooms/{room}")
    if options.get("java_script_enabled", True):
        await expect(page.locator("html.stream-open")).to_have_count(1)
    return page


# ------------------------------------------------------------------------------------------------
# Where a room opens


@pytest.mark.parametrize("script", [True, False], ids=["script", "no script"])
async def test_a_room_opens_at_the_first_unread_message(session: Session, script: bool):
    """Ana read 40 of 120: the room opens with "New messages" at the top of the log, message 41
    under it; everything before 41 is above (read context and older history)."""
    ana, ben, room = await room_with_history(session, 120, read_upto=40)
    page = await opened(session, ana, room, java_script_enabled=script)
    divider = page.locator("#new-messages")
    await expect(divider).to_have_text("New messages")
    first_unread = page.locator("#messages > li", has=divider)
    await expect(first_unread).to_contain_text("History #041")
    where = await page.evaluate(IN_LOG_JS, "#new-messages")
    assert where["scrollTop"] > 0, where  # not at the top of the history: at the reader's place
    assert 0 <= where["top"] <= 100, f"the divider is not at the top of the log: {where}"
    assert await page.evaluate(IN_VIEW_JS, "#new-messages")
    # Messages 38 to 40 are there above it (read, for context), and older ones behind a link.
    await expect(page.locator("#messages > li", has_text="History #038")).to_have_count(1)
    await expect(page.get_by_role("link", name="Show older messages")).to_have_count(1)


@pytest.mark.parametrize("script", [True, False], ids=["script", "no script"])
async def test_a_room_with_nothing_unread_opens_at_the_newest_message(session: Session, script: bool):
    ana, ben, room = await room_with_history(session, 120)
    page = await opened(session, ana, room, java_script_enabled=script)
    await expect(page.locator("#new-messages")).to_have_count(0)
    where = await page.evaluate(IN_LOG_JS, "#messages > li:last-child")
    assert where["scrollHeight"] - where["scrollTop"] - where["clientHeight"] <= 2, where  # the end
    assert where["bottom"] <= where["height"] + 1, where
    await expect(page.locator("#messages > li:last-child")).to_contain_text("History #120")
    assert await page.evaluate(IN_VIEW_JS, "#messages > li:last-child")


# ------------------------------------------------------------------------------------------------
# What stays in view


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280x800", "320x640"])
@pytest.mark.parametrize("script", [True, False], ids=["script", "no script"])
async def test_the_composer_is_in_view_however_long_the_history(session: Session, viewport, script):
    ana, ben, room = await room_with_history(session, 120, read_upto=10)
    page = await opened(session, ana, room, viewport=viewport, java_script_enabled=script)
    for selector in ("#composer-body", "#composer button[type=submit]", "h1"):
        assert await page.evaluate(IN_VIEW_JS, selector), f"{selector} is not in view at {viewport}"
    # The page itself does not scroll: the log does.
    sizes = await page.evaluate("[document.scrollingElement.scrollHeight, innerHeight]")
    assert sizes[0] <= sizes[1] + 1, sizes
    if script:
        await expect(page.locator("#composer-body"), "a room opens with focus in the composer").to_be_focused()
    # Reading back through the log (it scrolls from the keyboard) leaves the composer where it is.
    before = await page.locator("#composer-body").bounding_box()
    await page.locator("#history").evaluate("log => log.scrollTop = 0")
    assert await page.locator("#composer-body").bounding_box() == before


async def test_a_short_screen_is_one_page_again(session: Session):
    """1280x800 at 400 % zoom is 320x200: no app shell there, the page scrolls as a whole and
    nothing is out of reach."""
    ana, ben, room = await room_with_history(session, 30)
    page = await opened(session, ana, room, viewport={"width": 320, "height": 200})
    assert await page.evaluate("getComputedStyle(document.getElementById('history')).overflowY") == "visible"
    sizes = await page.evaluate("[document.scrollingElement.scrollHeight, innerHeight, document.scrollingElement.scrollWidth, innerWidth]")
    assert sizes[0] > sizes[1] and sizes[2] <= sizes[3], sizes
    await page.locator("#composer-body").scroll_into_view_if_needed()
    assert await page.evaluate(IN_VIEW_JS, "#composer-body")


# ------------------------------------------------------------------------------------------------
# The keyboard


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280x800", "320x640"])
async def test_the_composer_is_a_few_tab_presses_from_the_top_with_200_messages(session: Session, viewport):
    ana, ben, room = await room_with_history(session, 200)
    for n in range(6):  # a reader in several rooms: the list of them is still one stop
        await ana.create_room(f"Another room {n}", "public")
    page = await opened(session, ana, room, viewport=viewport)
    await expect(page.locator("#messages > li")).to_have_count(50)
    await expect(page.locator("#room-list > li")).to_have_count(7)
    stops = []
    await from_page_top(page)
    for _ in range(30):
        info = await press(page, "Tab", "from the top of the room")
        stops.append(info)
        if info and info["id"] == "composer-body":
            break
    names = [f"{s['tag']}#{s['id']} {s['text'][:30]}" if s else None for s in stops]
    assert stops[-1] and stops[-1]["id"] == "composer-body", names
    # Skip link, the search box and its button, Rooms, People, Settings, Admin (the first account
    # administers the site), Sign out, [the list of rooms (one stop, however many rooms; the
    # arrow keys move in it) | the two panel links], the log (one stop, "Show older messages"
    # included) and its message's one actions button: at most 13, however many messages and
    # rooms. From the main content (the skip link's target) the composer is 2 stops on.
    assert len(stops) <= 13, f"{len(stops)} presses of Tab to the composer: {names}"
    in_list = [s for s in stops if s and (s["href"] or "").startswith(("/rooms/", "/mentions"))]
    assert len(in_list) <= 1, names
    assert sum(1 for s in stops if s and s["tag"] == "summary") == 1, names
    assert sum(1 for s in stops if s and s["tag"] == "li") == 1, names  # the log is one stop
    assert not any(s and s["text"] == "Show older messages" for s in stops), names
    # The first stop is the skip link, and it goes straight to the composer.
    await from_page_top(page)
    await press(page, "Tab", "skip link")
    await expect(page.locator(".skip-link")).to_be_focused()
    await expect(page.locator(".skip-link")).to_have_text("Skip to the message box")
    await page.keyboard.press("Enter")
    await expect(page.locator("#composer-body")).to_be_focused()


async def test_narrow_panels_fold_behind_controls(session: Session):
    ana, ben, room = await room_with_history(session, 10)
    page = await opened(session, ana, room, viewport=PHONE)
    nav, details = page.locator("#room-nav"), page.locator("#room-details")
    await expect(nav).to_be_hidden()
    await expect(details).to_be_hidden()
    rooms = page.get_by_role("button", name="Your rooms")
    await expect(rooms).to_have_attribute("aria-expanded", "false")
    await rooms.focus()
    await page.keyboard.press("Enter")
    await expect(nav).to_be_visible()
    await expect(rooms).to_have_attribute("aria-expanded", "true")
    await expect(page.locator("#your-rooms-title")).to_be_focused()
    info = await press(page, "Tab", "into the rooms")  # one stop: the room this page is
    assert info and info["href"] == f"/rooms/{room}", info
    info = await press(page, "ArrowUp", "up the list: the mentions first")
    assert info and info["href"] == "/mentions", info
    info = await press(page, "ArrowDown", "back to the room")
    assert info and info["href"] == f"/rooms/{room}", info
    await page.keyboard.press("Escape")
    await expect(nav).to_be_hidden()
    await expect(rooms).to_be_focused()
    # The details, opened with Space, closed with their own link.
    more = page.get_by_role("button", name="Details")
    await more.focus()
    await page.keyboard.press("Space")
    await expect(details).to_be_visible()
    await expect(page.get_by_role("heading", name="Members")).to_be_focused()
    await page.get_by_role("link", name="Back to the conversation").last.focus()
    await page.keyboard.press("Enter")
    await expect(details).to_be_hidden()
    await expect(more).to_be_focused()


async def test_narrow_panels_open_without_script_too(session: Session):
    ana, ben, room = await room_with_history(session, 10)
    page = await opened(session, ana, room, viewport=PHONE, java_script_enabled=False)
    await expect(page.locator("#room-nav")).to_be_hidden()
    await page.get_by_role("link", name="Your rooms").click()
    await expect(page.locator("#room-nav")).to_be_visible()
    await expect(page.locator(f'#room-nav a[href="/rooms/{room}"]')).to_be_visible()
    await page.locator("#room-nav").get_by_role("link", name="Back to the conversation").click()
    await expect(page.locator("#room-nav")).to_be_hidden()
    assert await page.evaluate(IN_VIEW_JS, "#composer-body")


# ------------------------------------------------------------------------------------------------
# Reading back while others write

RECORD_ANNOUNCER = """() => {
  window.__announced = [];
  new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes) {
      const text = (n.textContent || '').trim();
      if (text) window.__announced.push(text);
    }
  }).observe(document.getElementById('announcer'), {childList: true, subtree: true});
}"""


async def test_new_messages_below_never_move_what_one_reads(session: Session):
    ana, ben, room = await room_with_history(session, 60)
    page = await opened(session, ana, room)
    await page.evaluate(RECORD_ANNOUNCER)
    # Ana reads back: message #20 at the top of the log.
    await page.locator("#messages > li", has_text="History #020").evaluate("li => li.scrollIntoView({block: 'start'})")
    reading = page.locator("#messages > li", has_text="History #020")
    before = (await reading.bounding_box())["y"]
    button = page.locator("#new-below")
    await expect(button).to_be_hidden()
    for i in range(3):
        await ben.say(room, f"While Ana reads {i}")
    await expect(page.locator("#messages > li", has_text="While Ana reads 2")).to_have_count(1)
    await expect(button).to_be_visible()
    await expect(button).to_have_text("3 new messages below")
    assert (await reading.bounding_box())["y"] == before, "what Ana was reading moved"
    # Said once, politely (the messages themselves are said by the announcer as usual).
    announced = await page.evaluate("window.__announced")
    assert sum("new message" in t and "below" in t for t in announced) == 1, announced
    assert "1 new message below" in announced, announced
    # The control takes her to the first of them, with focus on it; then it goes.
    await button.focus()
    await page.keyboard.press("Enter")
    first = page.locator("#messages > li", has_text="While Ana reads 0")
    await expect(first).to_be_focused()
    assert_focus_visible(await focused(page), "the first new message")
    await expect(button).to_be_hidden()
    await wait_until(lambda: page.evaluate(IN_VIEW_JS, "#messages > li:focus"), 3, "the new message in view")
    # At the end again, new messages keep the end in view and no control appears.
    await page.locator("#history").evaluate("log => log.scrollTop = log.scrollHeight")
    await ben.say(room, "Back at the end")
    await expect(page.locator("#messages > li:last-child")).to_contain_text("Back at the end")
    await wait_until(lambda: page.evaluate(IN_VIEW_JS, "#messages > li:last-child"), 3, "the newest in view")
    await expect(button).to_be_hidden()


# ------------------------------------------------------------------------------------------------
# Drafts


async def test_drafts_survive_reloads_and_switching_rooms_until_sent(session: Session):
    ana, ben, room = await room_with_history(session, 3)
    other = await ana.create_room("Another room", "public")
    page = await opened(session, ana, room)
    composer = page.locator("#composer-body")
    await composer.press_sequentially("Half-written thought\nwith a second line".replace("\n", ""))
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("and more")
    draft = "Half-written thoughtwith a second line\nand more"
    await expect(composer).to_have_value(draft)
    await page.reload()
    await expect(page.locator("#composer-body")).to_have_value(draft)
    await expect(page.locator("#composer-body")).to_be_focused()
    # Another room has its own (empty) composer; coming back finds the draft.
    await page.goto(f"/rooms/{other}")
    await expect(page.locator("#composer-body")).to_have_value("")
    await page.keyboard.type("Other room's draft")
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("#composer-body")).to_have_value(draft)
    # Sent: gone from the composer and from storage.
    await page.locator("#composer-body").press("Enter")
    await expect(page.locator("#messages > li:last-child .body")).to_contain_text("and more")
    await expect(page.locator("#composer-body")).to_have_value("")
    await page.reload()
    await expect(page.locator("#composer-body")).to_have_value("")
    await page.goto(f"/rooms/{other}")
    await expect(page.locator("#composer-body")).to_have_value("Other room's draft")
    # Signing out forgets every draft (a shared computer).
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    assert await page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('webchat:draft:'))") == []


# ------------------------------------------------------------------------------------------------
# Touch screens, and no script


async def test_on_a_touch_screen_enter_adds_a_line_and_send_sends(session: Session):
    ana, ben, room = await room_with_history(session, 1)
    page = await opened(session, ana, room, viewport=PHONE, has_touch=True, is_mobile=True)
    assert await page.evaluate("matchMedia('(pointer: coarse)').matches")
    await expect(page.locator("#composer-hint")).to_have_text("Enter starts a new line. Use the Send button to send.")
    await expect(page.locator("#composer-body")).to_have_attribute("aria-describedby", re.compile("composer-hint"))
    composer = page.locator("#composer-body")
    await composer.press_sequentially("First line")
    await composer.press("Enter")
    await composer.press_sequentially("second line")
    await expect(composer).to_have_value("First line\nsecond line")
    await expect(page.locator("#messages > li")).to_have_count(1)  # Enter sent nothing
    await page.get_by_role("button", name="Send").tap()
    await expect(page.locator("#messages > li")).to_have_count(2)
    await expect(page.locator("#messages > li:last-child .body br")).to_have_count(1)
    # Editing in place: Enter adds a line there too.
    mine = page.locator("#messages > li:last-child")
    await mine.locator("details.msg-actions > summary").tap()
    await mine.locator(".act-own").tap()
    await expect(page.locator("#edit-hint")).to_have_text("Enter starts a new line. Use Save changes to save.")
    await page.locator("#edit-body").press("Enter")
    await expect(page.locator("#edit-body")).to_have_value("First line\nsecond line\n")


async def test_the_hints_on_a_keyboard_and_without_script(session: Session):
    ana, ben, room = await room_with_history(session, 1)
    page = await opened(session, ana, room)
    await expect(page.locator("#composer-hint")).to_have_text("Enter sends. Shift+Enter starts a new line.")
    plain = await opened(session, ana, room, java_script_enabled=False)
    hint = await plain.locator("#composer-hint").text_content()
    assert "Enter" not in (hint or ""), hint  # no script: nothing about a key that does nothing
    await expect(plain.locator("#composer-hint")).to_be_hidden()


# ------------------------------------------------------------------------------------------------
# The list of rooms, live


async def test_a_direct_message_appears_live_in_the_other_persons_list(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    lobby = await ben.create_room("Ben's lobby", "public")
    page = await opened(session, ben, lobby)
    rooms_list = await session.page(ben)
    await rooms_list.goto("/rooms")
    await expect(rooms_list.locator("html.stream-open")).to_have_count(1)
    response = await ana.post("/dm", {"username": f"@{ben.username}"})
    dm = int(response.headers["location"].rsplit("/", 1)[1])
    for tab in (page, rooms_list):
        link = tab.locator("#room-nav").get_by_role("link", name="Direct: Ana Lima", exact=True)
        await expect(link).to_be_visible()
        await expect(link).to_have_attribute("href", f"/rooms/{dm}")
    # In order: rooms by name first, then direct rooms.
    assert await page.locator("#room-list > li").evaluate_all("els => els.map(e => e.id)") == [
        f"nav-room-{lobby}", f"nav-room-{dm}"]
    # Its count follows, and is part of the link's name.
    await ana.say(room=dm, body="Are you there?")
    await ana.say(room=dm, body="Ben?")
    for tab in (page, rooms_list):
        await expect(tab.locator("#room-nav").get_by_role("link", name="Direct: Ana Lima, 2 unread", exact=True)).to_be_visible()
        await expect(tab.locator(f"#unread-{dm}")).to_have_text("2 unread")
    # Added to a private room, and removed from it: the list follows.
    secret = await ana.create_room("Secret plans", "private")
    await ana.post(f"/rooms/{secret}/members", {"username": f"@{ben.username}"})
    await expect(page.locator("#room-nav").get_by_role("link", name="Secret plans", exact=True)).to_be_visible()
    await ana.post(f"/rooms/{secret}/members/{ben.username}/remove")
    await expect(page.locator(f"#nav-room-{secret}")).to_have_count(0)
    await expect(rooms_list.locator(f"#nav-room-{secret}")).to_have_count(0)
