"""Reactions, replies and permanent links in a real browser, with two people: a reaction by one
appears live for the other, pressed and named "… and you" for its giver only, and is never
announced as a new message; a reply appears live with its quote and is announced once, while its
original's "N replies" changes silently (and leads to the replies' page); a permanent link opens with
its message focused and marked."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Session, open_actions
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
    await open_actions(message)
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


async def test_a_reply_appears_live_for_the_other_announced_once_and_counted(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Replying", "public")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Lunch at noon?")
    page_ana = await open_room(session, ana, room)
    page_ben = await open_room(session, ben, room)
    original = page_ben.locator("#messages > li").last
    original_id = await original.get_attribute("id")
    # Ben replies from the message's actions: the composer answers it in place, focus in it.
    await open_actions(original)
    await original.get_by_role("link", name="Reply").click()
    composer = page_ben.locator("#composer-body")
    await expect(composer).to_be_focused()
    await expect(page_ben.locator("#composer-reply-label")).to_have_text("Replying to Ana Lima: Lunch at noon?")
    await composer.press_sequentially("Yes, see you there")
    await composer.press("Enter")
    await expect(page_ben.locator("#messages > li")).to_have_count(2)
    await expect(page_ben.locator("#composer-reply")).to_be_hidden()
    # Ana sees the reply with its quote, and her message's count, live.
    reply = page_ana.locator("#messages > li").last
    await expect(reply.locator(".reply-quote a")).to_have_text("In reply to Ana Lima: Lunch at noon?")
    await expect(reply.locator(".reply-quote a")).to_have_attribute("href", f"/rooms/{room}/messages/{original_id[2:]}")
    await expect(page_ana.locator(f"#{original_id} .reply-count a")).to_have_text("1 reply")
    await page_ana.wait_for_timeout(1500)  # the announcer speaks within a second
    said = await announced(page_ana)
    assert sum("Yes, see you there" in text for text in said) == 1, said
    assert not any("Lunch" in text or "reply" in text for text in said), said
    # "1 reply" leads to the replies' page; from there, the reply in context: its permanent link, focused.
    await page_ana.locator(f"#{original_id} .reply-count a").click()
    await expect(page_ana.get_by_role("heading", level=1)).to_have_text("Replies to Ana Lima")
    await page_ana.locator("#messages > li").last.get_by_role("link", name="Show in conversation").click()
    await expect(page_ana.locator("#messages > li[aria-current='true']")).to_contain_text("Yes, see you there")


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
