"""A message's replies page in a real browser: reached from the message's "N replies", one heading,
the original then its replies, each reply's "Show in conversation" opening the room around it (and
kept when the reply is edited in place), and
the page passing axe-core (WCAG 2.2 AA) in both colour schemes, with a message's actions open."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Audit, Session, open_actions


async def test_the_replies_page_reads_well_and_passes_axe(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Threads", "public")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Lunch at noon?")
    html = (await ana.page(f"/rooms/{room}")).text
    original = int(re.findall(r'<li id="m-(\d+)"', html)[-1])
    for person, body in ((ben, "Yes, see you there"), (ana, "Great, **noon** it is"), (ben, "Bringing a friend")):
        response = await person.post(f"/rooms/{room}/messages", {"body": body, "reply_to": str(original)}, htmx=True)
        assert response.status_code in (200, 204), response.text
    html = (await ana.page(f"/rooms/{room}")).text
    replies = [int(n) for n in re.findall(r'<li id="m-(\d+)"', html)][-3:]
    # Ben removes his last reply: its tombstone stays on the page.
    assert (await ben.post(f"/rooms/{room}/messages/{replies[-1]}/delete")).status_code == 303

    page = await session.page(ana)
    await page.goto(f"/rooms/{room}")
    await page.locator(f"#m-{original} .reply-count a").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}/messages/{original}/replies$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Replies to Ana Lima")
    await expect(page).to_have_title(re.compile(r"^Replies to Ana Lima · Threads"))
    await expect(page.get_by_role("heading", level=2, name="3 replies")).to_be_visible()
    listed = page.locator("#messages > li")
    await expect(listed).to_have_count(3)
    await expect(listed.nth(0)).to_contain_text("Yes, see you there")
    await expect(listed.nth(2)).to_contain_text("Message deleted")
    audit = Audit()
    await audit.check(page, "replies page")
    await open_actions(page.locator(f"#m-{original}"))
    await audit.check(page, "replies page, the original's actions open", schemes=("light",))
    audit.verify()

    # Editing a reply in place keeps its link to the conversation.
    await open_actions(listed.nth(1))
    await listed.nth(1).get_by_role("link", name="Edit or delete").click()
    await page.locator("#edit-body").fill("Great, **one o'clock** it is")
    await page.get_by_role("button", name="Save changes").click()
    await expect(listed.nth(1)).to_contain_text("Great, one o'clock it is")
    await expect(listed.nth(1).get_by_role("link", name="Show in conversation")).to_have_count(1)

    # "Show in conversation" opens the room around that reply, focused.
    await listed.nth(1).get_by_role("link", name="Show in conversation").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}/messages/{replies[1]}$"))
    current = page.locator(f"#m-{replies[1]}")
    await expect(current).to_have_attribute("aria-current", "true")
    await expect(current).to_be_focused()
