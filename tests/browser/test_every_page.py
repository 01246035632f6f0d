"""Every signed-in page lists the reader's rooms, live: on /settings (a page with no room of its
own) a message arriving in one of them changes its count and the tab's title at once, the list
sits after the page's content (beside it on a wide screen), and the page passes axe-core with it."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Session, axe, no_horizontal_scroll


async def test_settings_lists_the_rooms_with_live_counts_and_the_title_carries_them(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Everywhere", "public")
    await ben.join(room)
    await ana.say(room, "first")
    page = await session.page(ben)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/settings")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    entry = page.locator(f"#nav-room-{room} a")
    await expect(entry).to_have_accessible_name(re.compile(r"^Everywhere, 1 unread"))
    await expect(page).to_have_title(re.compile(r"^\(1\) Settings"))
    # Beside the settings on a wide screen, after them in reading order.
    nav, main = await page.locator("#room-nav").bounding_box(), await page.locator("main").bounding_box()
    assert nav["x"] + nav["width"] <= main["x"] + 1 and nav["y"] < main["y"] + main["height"], (nav, main)
    assert await page.evaluate(
        "document.querySelector('main').compareDocumentPosition(document.querySelector('#room-nav'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING")
    # A message arrives in the room: the count and the title follow, without a reload.
    await ana.say(room, f"@{ben.username} second")
    await expect(entry).to_have_accessible_name(re.compile(r"^Everywhere, 2 unread ?, 1 mention$"))
    await expect(page).to_have_title(re.compile(r"^\(2\) Settings"))
    await expect(page.locator("#mentions-link")).to_contain_text("1 unread")
    await axe(page, "/settings with the list of rooms")
    # A phone: the list goes under the settings, and nothing scrolls sideways.
    await page.set_viewport_size({"width": 320, "height": 640})
    nav, main = await page.locator("#room-nav").bounding_box(), await page.locator("main").bounding_box()
    assert nav["y"] >= main["y"] + main["height"] - 1, (nav, main)
    await no_horizontal_scroll(page, "/settings at 320 px")
