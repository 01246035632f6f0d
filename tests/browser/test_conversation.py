"""Reactions and permanent links in a real browser, with two people: a reaction by one appears
live for the other, pressed and named "… and you" for its giver only, and is never announced as a
new message; a permanent link opens with its message focused and marked."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Session
from tests.browser.test_live_announcements import announced, open_room


async def test_a_reaction_appears_live_for_the_other_and_is_not_announced(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Reacting", "public")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Lunch at noon?")
    page_ana = await open_room(session, ana, room)
    page_ben = await open_room(session, ben, room)
    message = page_ben.locator("#messages > li").last
    await message.focus()
    await message.hover()
    await message.get_by_role("button", name="thumbs up", exact=True).click()
    own = page_ben.locator("#messages > li").last.locator("button.reaction")
    await expect(own).to_have_attribute("aria-pressed", "true")
    await expect(own).to_have_attribute("aria-label", "thumbs up: you")
    theirs = page_ana.locator("#messages > li").last.locator("button.reaction")
    await expect(theirs).to_have_attribute("aria-pressed", "false")
    await expect(theirs).to_have_attribute("aria-label", "thumbs up: Ben Okafor")
    await page_ana.wait_for_timeout(1500)  # the announcer speaks within a second
    assert not any("Lunch" in text or "thumbs" in text for text in await announced(page_ana))
    # Ana presses the same reaction: Ben sees both names, his own last as "you".
    await theirs.click()
    await expect(own).to_have_attribute("aria-label", "thumbs up: Ana Lima and you")


async def test_a_permanent_link_opens_with_its_message_focused(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room("Linking", "public")
    for i in range(80):
        await ana.say(room, f"Numbered message {i}")
    html = (await ana.page(f"/rooms/{room}")).text
    ids = [int(n) for n in re.findall(r'<li id="m-(\d+)"', html)]
    target = ids[10]
    page = await session.page(ana)
    await page.goto(f"/rooms/{room}/messages/{target}")
    current = page.locator(f"#m-{target}")
    await expect(current).to_have_attribute("aria-current", "true")
    await expect(current).to_be_focused()
    await expect(current).to_be_in_viewport()
