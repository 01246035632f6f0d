"""Search in the browser: axe finds nothing on the search page in any state, the header's search
box is reached and used with the keyboard alone, a result opens its message, and with htmx the
count is put in the status region once."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Audit, Session, tab_to


async def _world(session: Session):
    word = unique("kiwi")
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room(f"Orchard {word}", "public")
    for i in range(25):
        await ana.say(room, f"Note {i}: the {word} harvest <b>is</b> ready, ประชุมงบประมาณ {i}")
    return ana, room, word


async def test_search_page_passes_axe_in_every_state(session: Session):
    audit = Audit()
    ana, _, word = await _world(session)
    page = await session.page(ana)
    await page.goto("/search")
    await audit.check(page, "search, empty")
    await page.goto(f"/search?q={word}")
    await expect(page.locator("main").get_by_role("heading", level=2)).to_have_text(f"25 results for “{word}”")
    await audit.check(page, "search, results with pages")
    await page.goto("/search?q=ประชุม&sort=best")
    await audit.check(page, "search, Thai, best first")
    await page.goto("/search?q=a&after=not-a-date")
    await expect(page.locator("#error-summary")).to_be_visible()
    await audit.check(page, "search, with errors")
    await page.goto("/search?q=nothing-like-this-anywhere")
    await audit.check(page, "search, no results")
    audit.verify()


async def test_keyboard_path_to_search_and_to_a_result(session: Session):
    ana, room, word = await _world(session)
    page = await session.page(ana)
    await page.goto("/rooms")
    # The search box is in the header's search landmark, labelled, a few Tabs from the top.
    landmark = page.get_by_role("search", name="Messages")
    await expect(landmark).to_have_count(1)
    await tab_to(page, "#site-search-q", limit=10, where="header: search box")
    await page.keyboard.type(word)
    async with page.expect_navigation(url=re.compile(r"/search\?q=")):
        await page.keyboard.press("Enter")
    await expect(page.locator("main").get_by_role("heading", level=2)).to_have_text(f"25 results for “{word}”")
    await expect(page.locator(".result")).to_have_count(20)
    await expect(page.locator("mark").first).to_have_text(word)
    # Tab on to the first result: Enter opens the message's own address.
    await tab_to(page, ".result-link", limit=40, where="the first result")
    href = await page.evaluate("document.activeElement.getAttribute('href')")
    assert re.fullmatch(rf"/rooms/{room}/messages/\d+", href), href
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert f"/rooms/{room}" in page.url


async def test_htmx_search_updates_results_and_says_the_count_once(session: Session):
    ana, _, word = await _world(session)
    page = await session.page(ana)
    await page.goto("/search")
    status = page.locator("#search-status")
    await expect(status).to_have_attribute("role", "status")
    await expect(status).to_have_text("")
    await page.get_by_label("Words to find").fill(f"{word} harvest")
    await page.locator("form.search-form button[type=submit]").click()
    await expect(status).to_have_text(f"25 results for “{word} harvest”")
    await expect(page.locator("main").get_by_role("heading", level=2)).to_have_text(f"25 results for “{word} harvest”")
    assert "/search?q=" in page.url  # the address follows, so reload and back work
    # The status is one region that stays: the page has exactly one.
    await expect(page.locator("[role=status]#search-status")).to_have_count(1)
