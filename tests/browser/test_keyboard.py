"""Keyboard only: the whole journey with Tab, Shift+Tab, Enter and Space, and nothing else.

No clicks and no element.focus(): focus moves only by keys (and where the page's own script moves
it, which is part of what is tested). At every stop the focused element must show a focus
indicator (an outline of at least 2 px, or a box shadow) and have a size.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import (
    PASSWORD,
    Session,
    assert_focus_visible,
    focused,
    from_page_top,
    press,
    settled,
    tab_to,
    type_text,
)
from webchat import i18n

SKIP_LINK = "a.skip-link"


async def go(page: Page, key: str, url: str | re.Pattern, where: str) -> None:
    """Press a key that navigates (a link, a form submission) and wait for the new page."""
    async with page.expect_navigation(url=url):
        await page.keyboard.press(key)
    await page.wait_for_load_state("domcontentloaded")
    info = await focused(page)
    if info is not None and info["tag"] != "main":  # an error summary takes focus, visibly
        assert_focus_visible(info, where)


async def active(page: Page, selector: str) -> bool:
    return await page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def say(language: str, message: str, **variables) -> str:
    """What the page says in `language` (the catalog's translation of the English `message`)."""
    with i18n.speaking(language):
        return i18n.gettext(message, **variables)


@pytest.mark.parametrize("language", ["en", "th"])
async def test_keyboard_journey(session: Session, language: str):
    """The journey in English, and again in a browser whose language is Thai."""
    name = unique("kbd")
    page = await session.page(locale="th-TH" if language == "th" else "en-US")
    await page.goto("/")

    # The first Tab reaches the skip link, which shows itself; it takes you to the main content.
    info = await press(page, "Tab", "landing")
    assert info and "skip-link" in (await page.evaluate("document.activeElement.className")), info
    await settled(page)  # it slides in (unless reduced motion is asked for)
    assert (await page.locator(SKIP_LINK).bounding_box())["y"] >= 0, "the focused skip link is off screen"

    # Register.
    await tab_to(page, 'main a[href="/register"]', where="landing: Create an account")
    await go(page, "Enter", "**/register", "register page")
    await tab_to(page, "#username", where="register: username")
    await page.keyboard.type(name)
    await tab_to(page, "#display_name", where="register: display name")
    await page.keyboard.type("Kay Board")
    await tab_to(page, "#password", where="register: password")
    await page.keyboard.type(PASSWORD)
    await go(page, "Enter", "**/rooms", "after registering")  # Enter in a field submits its form

    # Create a room (Space on the button).
    await tab_to(page, "#room-name", where="rooms: room name")
    await page.keyboard.type("Keys only")
    await tab_to(page, 'form[action="/rooms"] button[type="submit"]', where="rooms: Create room")
    await go(page, "Space", re.compile(r"/rooms/\d+$"), "the new room")
    room = int(page.url.rsplit("/", 1)[1])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Keys only")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    # Opening a room puts focus in the composer.
    await expect(page.locator("#composer-body"), "a room opens with focus in the composer").to_be_focused()

    # Someone else fills the room with history (over HTTP): 60 messages arrive live.
    ben = await session.user(unique("ben"), "Ben Okafor")
    await ben.post(f"/rooms/{room}/join")
    for i in range(60):
        await ben.say(room, f"Backlog message {i}")
    await expect(page.locator("#messages > li")).to_have_count(60)

    # Send: Shift+Enter makes a new line, Enter sends, and focus stays in the composer.
    await expect(page.locator("#composer-body")).to_be_focused()
    await type_text(page, "First line\nsecond line")
    assert await page.locator("#composer-body").input_value() == "First line\nsecond line"
    await expect(page.locator("#messages > li")).to_have_count(60)  # Shift+Enter sent nothing
    await page.keyboard.press("Enter")
    mine = page.locator(f'#messages > li[data-author="{name}"]')
    await expect(mine).to_have_count(1)
    await expect(mine.locator(".body")).to_have_text(re.compile(r"First line\s*second line"))
    assert await mine.locator(".body br").count() == 1, "the line break was not kept"
    await expect(page.locator("#composer-body")).to_have_value("")
    await expect(page.locator("#composer-body"), "focus stays in the composer").to_be_focused()
    assert_focus_visible(await focused(page), "composer after sending")
    # A second message, with Enter alone, still from the composer.
    await page.keyboard.type("Another one")
    await page.keyboard.press("Enter")
    await expect(mine).to_have_count(2)
    await expect(page.locator("#composer-body"), "focus stays in the composer").to_be_focused()
    second_id = await mine.last.get_attribute("id")
    first_id = await mine.first.get_attribute("id")

    # Up arrow in the empty composer opens the reader's last message for editing; Escape puts it
    # back and focus back in the composer. With text in the composer, Up is the composer's.
    await press(page, "ArrowUp", "composer: edit the last message")
    await expect(page.locator(f"#{second_id} #edit-body")).to_be_focused()
    await expect(page.locator("#edit-body")).to_have_value("Another one")
    await press(page, "Escape", "cancel the edit")
    await expect(page.locator(f"#{second_id} .body")).to_have_text("Another one")
    await expect(page.locator("#composer-body"), "Escape returns to the composer").to_be_focused()
    await page.keyboard.type("x")
    await press(page, "ArrowUp", "composer with text")
    await expect(page.locator("#edit-body")).to_have_count(0)
    await expect(page.locator("#composer-body")).to_be_focused()
    await press(page, "End", "composer: after the x (Up moved the caret to the start)")
    await press(page, "Backspace", "composer emptied")
    await expect(page.locator("#composer-body")).to_have_value("")

    # The log is one stop: Shift+Tab from the composer reaches the newest message's one actions
    # button, then the message itself; the arrow keys move between messages.
    summary = page.locator(f"#{second_id} details.msg-actions > summary")
    await tab_to(page, f"#{second_id} details.msg-actions > summary", backwards=True, limit=1, where="room: Actions")
    assert await summary.get_attribute("aria-label") == say(language, "Actions for %(name)s's message", name="Kay Board")
    # Enter opens the menu on its first action; the arrow keys move inside it; Escape closes it
    # and puts focus back on its button.
    await press(page, "Enter", "open the actions menu")
    await expect(page.locator(f"#{second_id} a.act-reply")).to_be_focused()
    await press(page, "ArrowDown", "the first quick reaction")
    await expect(page.locator(f"#{second_id} button.react").first).to_be_focused()
    await press(page, "End", "the last action")
    await expect(page.locator(f"#{second_id} a.act-own")).to_be_focused()
    await press(page, "ArrowUp", "the one before")
    await expect(page.locator(f"#{second_id} a.act-link")).to_be_focused()
    await press(page, "Escape", "close the menu")
    await expect(summary).to_be_focused()
    await expect(page.locator(f"#{second_id} details.msg-actions[open]")).to_have_count(0)
    # Reply: the composer answers the message in place; Escape drops the reply, not the text.
    await press(page, "Enter", "open the actions menu again")
    await expect(page.locator(f"#{second_id} a.act-reply")).to_be_focused()
    await press(page, "Enter", "Reply")
    await expect(page.locator("#composer-body")).to_be_focused()
    await expect(page.locator("#composer-reply-label")).to_have_text(say(language, "Replying to %(name)s: %(text)s", name="Kay Board", text="Another one"))
    await expect(page.locator("#composer-body")).to_have_attribute("aria-describedby", re.compile("^composer-reply-label "))
    await press(page, "Escape", "drop the reply")
    await expect(page.locator("#composer-reply")).to_be_hidden()
    await expect(page.locator('#composer input[name="reply_to"]')).to_have_value("")
    await tab_to(page, f"#{second_id} details.msg-actions > summary", backwards=True, limit=1, where="room: Actions")
    await tab_to(page, f"#{second_id}", backwards=True, limit=2, where="room: the newest message")
    await expect(page.locator(f"#{second_id}"), "the newest message is the log's stop").to_be_focused()
    await press(page, "ArrowUp", "room: the message before")
    await expect(page.locator(f"#{first_id}")).to_be_focused()
    await press(page, "ArrowDown", "room: back to the newest")
    await expect(page.locator(f"#{second_id}")).to_be_focused()
    await press(page, "Home", "room: the first message")
    await expect(page.locator("#messages > li").first).to_be_focused()
    await press(page, "End", "room: the last message")
    await expect(page.locator(f"#{second_id}")).to_be_focused()

    async def open_edit():
        # Enter on the message opens its actions menu; End reaches its own action, Enter opens it.
        await page.keyboard.press("Enter")
        await expect(page.locator(f"#{second_id} a.act-reply")).to_be_focused()
        await page.keyboard.press("End")
        await expect(page.locator(f"#{second_id} a.act-own")).to_be_focused()
        await page.keyboard.press("Enter")

    # Edit the newest: from its actions menu the edit form opens in place, with focus in it;
    # Escape cancels and puts focus back on the message.
    await open_edit()
    await expect(page.locator(f"#{second_id} #edit-body")).to_be_visible()
    await expect(page.locator("#edit-body"), "the edit form takes focus").to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.locator(f"#{second_id} #edit-body")).to_have_count(0)
    await expect(page.locator(f"#{second_id}"), "after Escape, focus is back on the message").to_be_focused()
    # Cancel (a link in the form) does the same.
    await open_edit()
    await expect(page.locator("#edit-body"), "the edit form takes focus again").to_be_focused()
    await tab_to(page, f'#{second_id} a[href$="#{second_id}"]', limit=4, where="edit: Cancel")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#{second_id}"), "after Cancel, focus is back on the message").to_be_focused()
    await open_edit()
    await expect(page.locator("#edit-body"), "the edit form takes focus again").to_be_focused()
    assert_focus_visible(await focused(page), "edit form")
    # As in the composer: Shift+Enter starts a new line, Enter saves.
    await page.keyboard.press("ControlOrMeta+a")
    await type_text(page, "Another one,\nedited")
    await expect(page.locator(f"#{second_id} #edit-body")).to_have_value("Another one,\nedited")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#{second_id} .edited")).to_be_visible()
    await expect(page.locator(f"#{second_id} .body")).to_have_text(re.compile(r"Another one,\s*edited"))
    await expect(page.locator(f"#{second_id}"), "after saving, focus is back on the message").to_be_focused()
    assert_focus_visible(await focused(page), "after saving an edit")

    # Delete it: "Delete this message…" in the edit form asks once; the question's button has focus.
    await open_edit()
    await expect(page.locator(f"#{second_id} #edit-body")).to_be_focused()
    await tab_to(page, f"#{second_id} .delete-link a", limit=4, where="edit: Delete this message")
    await page.keyboard.press("Enter")
    confirm = page.locator(f"#{second_id} button.confirm-delete")
    await expect(confirm, "the question's button takes focus").to_be_focused()
    await expect(page.locator(f"#{second_id} .confirm-question")).to_contain_text(say(language, "Delete this message?"))
    # Escape leaves the message as it was.
    await page.keyboard.press("Escape")
    await expect(page.locator(f"#{second_id}")).to_be_focused()
    await expect(page.locator(f"#{second_id} .tombstone")).to_have_count(0)
    await open_edit()
    await expect(page.locator(f"#{second_id} #edit-body")).to_be_focused()
    await tab_to(page, f"#{second_id} .delete-link a", limit=4, where="edit: Delete this message")
    await page.keyboard.press("Enter")
    await expect(confirm).to_be_focused()
    await page.keyboard.press("Space")
    await expect(page.locator(f"#{second_id} .tombstone")).to_have_text(say(language, "Message deleted"))
    await expect(page.locator(f"#{second_id}"), "after deleting, focus is on the deleted message").to_be_focused()
    assert_focus_visible(await focused(page), "after deleting")
    # From there, Tab goes on to the composer: the place in the page was kept.
    await tab_to(page, "#composer-body", limit=3, where="after deleting: on to the composer")

    # Page back through history: go to the room list and back in, so the page shows the newest 50.
    await tab_to(page, 'header a[href="/rooms"]', backwards=True, limit=200, where="header: Rooms")
    await go(page, "Enter", "**/rooms", "room list")
    await tab_to(page, f'nav.room-nav a[href="/rooms/{room}"]', where="room list: the room")
    await go(page, "Enter", f"**/rooms/{room}", "the room again")
    await expect(page.locator("#messages > li")).to_have_count(50)
    await expect(page.locator("#composer-body")).to_be_focused()
    # "Show older messages" is part of the log's one stop: Up from its first message.
    await tab_to(page, "#messages > li", backwards=True, limit=4, where="room: the log")
    await press(page, "Home", "the first message shown")
    await press(page, "ArrowUp", "Show older messages")
    await expect(page.locator("#older a")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#messages > li")).to_have_count(62)
    await expect(page.locator("#older")).to_have_text(say(language, "This is the start of the conversation."))
    await expect(page.locator("#older"), "after loading older messages, focus is where the link was").to_be_focused()
    assert_focus_visible(await focused(page), "after loading older messages")
    # Tab goes into the log (one stop), Home to its oldest message, Tab to that message's action
    # (the owner may delete anyone's message).
    await press(page, "Tab", "into the log")
    await expect(page.locator("#messages > li:focus")).to_have_count(1)
    await press(page, "Home", "the oldest message")
    await expect(page.locator("#messages > li").first).to_be_focused()
    await tab_to(page, "#messages > li:first-child details.msg-actions > summary", limit=1, where="the oldest message's actions")
    await press(page, "Enter", "its actions menu")
    await expect(page.locator("#messages > li:first-child a.act-reply")).to_be_focused()
    await press(page, "End", "its last action: Report (someone else's message)")
    await expect(page.locator("#messages > li:first-child a.act-report")).to_be_focused()
    await press(page, "ArrowUp", "the owner's Delete")
    await expect(page.locator("#messages > li:first-child a.act-moderate")).to_be_focused()
    await press(page, "Escape", "closed again")

    # Open a direct room with Ben from the room list, by his username (the browser suite shares one
    # server, where other tests' "Ben Okafor"s would crowd his display name out of the list).
    await tab_to(page, 'header a[href="/rooms"]', backwards=True, limit=200, where="header: Rooms")
    await go(page, "Enter", "**/rooms", "room list")
    await tab_to(page, "#dm-username", where="room list: their name")
    await page.keyboard.type(ben.username)
    await expect(page.locator("#dm-username-options [role=option]").first).to_be_visible()
    # The suggestions: Down chooses the first, Enter takes it (the field gets "@username").
    option = page.locator(f"#dm-username-options [data-value='@{ben.username}']")
    while await option.get_attribute("aria-selected") != "true":
        await press(page, "ArrowDown", "suggestions")
    await page.keyboard.press("Enter")
    await expect(page.locator("#dm-username")).to_have_value(f"@{ben.username}")
    await go(page, "Enter", re.compile(r"/rooms/\d+$"), "the direct room")
    assert int(page.url.rsplit("/", 1)[1]) != room
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ben Okafor")
    await expect(page.locator("#composer-body")).to_be_focused()
    await page.keyboard.type("Hi Ben, just us")
    await page.keyboard.press("Enter")
    await expect(page.locator("#messages > li")).to_have_count(1)

    # Sign out.
    await tab_to(page, 'form[action="/logout"] button', backwards=True, limit=60, where="header: Sign out")
    await go(page, "Enter", "**/login", "signed out")
    assert await page.locator("body[data-user]").count() == 0


async def cycle(page: Page, key: str, where: str) -> list[str]:
    """Press `key` until focus comes back to where it started; every stop visibly focused."""
    count = await page.evaluate("""() => [...document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), textarea, select, [tabindex]:not([tabindex="-1"])')]
        .filter(e => !e.disabled && e.getClientRects().length).length""")
    here_js = ("document.activeElement && document.activeElement !== document.body"
               " ? document.activeElement.outerHTML.slice(0, 80) : null")
    start = await page.evaluate(here_js)
    stops: list[str] = []
    for _ in range(count + 4):
        info = await press(page, key, where)
        here = await page.evaluate(here_js)
        stops.append(here)
        if here == start:
            return stops
    raise AssertionError(f"{where}: focus did not come back round after {count + 4} presses of {key}: "
                         f"{stops[-6:]}")


async def test_nothing_traps_focus(session: Session):
    """Tab (and Shift+Tab) through the whole room page comes back round to the top."""
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Round trip", "public")
    await ben.post(f"/rooms/{room}/join")
    for i in range(12):
        await (ana if i % 2 else ben).say(room, f"Round {i} with https://example.org/{i}")
    page = await session.page(ana)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)

    await from_page_top(page)
    await press(page, "Tab", "room")
    assert await active(page, SKIP_LINK)
    forward = await cycle(page, "Tab", "Tab round the room page")
    assert any("composer-body" in stop for stop in forward), "Tab never reached the composer"
    assert any("Sign out" in stop or "logout" in stop for stop in forward)
    backward = await cycle(page, "Shift+Tab", "Shift+Tab round the room page")
    assert set(backward) - {None} == set(forward) - {None}, "Shift+Tab visits other stops than Tab"

    # From inside the composer, Tab leaves it (a textarea keeps no Tab for itself).
    await tab_to(page, "#composer-body", where="composer")
    await page.keyboard.type("draft")
    await press(page, "Tab", "out of the composer")
    assert not await active(page, "#composer-body")
    await press(page, "Shift+Tab", "back into the composer")
    assert await active(page, "#composer-body")

    # The skip link moves focus to the composer, in the main content.
    await tab_to(page, SKIP_LINK, backwards=True, where="skip link")
    await page.keyboard.press("Enter")
    assert await active(page, "#composer-body"), await focused(page)
    await press(page, "Tab", "after the skip link")
    assert await page.evaluate("!!document.activeElement.closest('main')"), await focused(page)
