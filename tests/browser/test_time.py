"""Time and reading, in Chromium: the page's script shows times in the reader's chosen zone and
clock, the same as the server wrote them for a page without script (whatever the browser's own
zone); the browser's zone is offered once, by a form the keyboard reaches; a room opened in a
background tab stays unread until that tab is visible and focused; the document's title carries
the unread count."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import Session, axe, no_horizontal_scroll, screenshot, tab_to, watched
from webchat.clock import clock_for

SHOTS = Path("/tmp/webchat-time-screenshots")

# A page that starts hidden and unfocused, as a tab opened in the background, until __show().
BACKGROUND_TAB = """(() => {
  let state = 'hidden', focused = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => state, configurable: true });
  Object.defineProperty(Document.prototype, 'hidden', { get: () => state === 'hidden', configurable: true });
  Document.prototype.hasFocus = () => focused;
  window.__show = () => {
    state = 'visible'; focused = true;
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('focus'));
  };
})();"""

TIMES_JS = """() => ({
  times: [...document.querySelectorAll('#messages .meta time')].map(t => t.textContent.replace(/\\s+/g, ' ').trim()),
  said: [...document.querySelectorAll('#messages .said')].map(s => s.textContent.replace(/\\s+/g, ' ').trim()),
  days: [...document.querySelectorAll('#messages .day-heading')].map(h => h.textContent.trim()),
})"""


async def _stream_open(page: Page) -> None:
    await expect(page.locator("html.stream-open")).to_have_count(1)


async def test_the_script_shows_the_readers_zone_and_clock_as_the_server_does(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room("Clocks", "public")
    for n in range(3):
        await ana.say(room, f"note {n}")
    assert (await ana.post("/settings", {"time_zone": "Asia/Bangkok", "clock": "24"})).status_code == 303
    # The browser is in New York: the setting wins, with and without script.
    plain = await session.page(ana, java_script_enabled=False, timezone_id="America/New_York")
    await plain.goto(f"/rooms/{room}")
    server = await plain.evaluate(TIMES_JS)
    page = await session.page(ana, timezone_id="America/New_York")
    await page.goto(f"/rooms/{room}")
    await _stream_open(page)
    scripted = await page.evaluate(TIMES_JS)
    assert server == scripted and server["days"] == ["Today"], (server, scripted)
    now = clock_for("Asia/Bangkok", "24").time(datetime.now(UTC))
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in server["times"]) and server["times"][-1][:2] == now[:2]
    # A message from the stream (written in UTC for everyone) is shown in the reader's time too.
    await ana.say(room, "from the stream")
    await expect(page.locator("#messages > li.message")).to_have_count(4)
    live = await page.evaluate(TIMES_JS)
    assert re.fullmatch(r"\d\d:\d\d", live["times"][-1]) and "UTC" not in live["said"][-1], live
    assert live["said"][-1].startswith(f"Ana Lima @{ana.username}, {live['times'][-1]}: from the stream")
    await axe(page, "a room in the reader's time zone")
    # Screenshots of a room in Bangkok time, 12-hour clock, and of the settings.
    await ana.post("/settings", {"clock": "12"})
    for width, height in ((390, 844), (1280, 800)):
        shot = await session.page(ana, viewport={"width": width, "height": height}, timezone_id="America/New_York")
        await shot.goto(f"/rooms/{room}")
        await _stream_open(shot)
        await screenshot(shot, f"room-bangkok-{width}", SHOTS)
        await shot.goto("/settings#time")
        await screenshot(shot, f"settings-time-{width}", SHOTS)
        await session.discard(shot)
    await session.discard(plain, page)


async def test_the_browsers_zone_is_offered_once_and_taken_by_the_keyboard(session: Session):
    ben = await session.user(unique("ben"), "Bram Stone")
    page = await session.page(ben, timezone_id="Europe/Berlin")
    await page.goto("/rooms")
    offer = page.get_by_role("form", name="Your time zone looks like Europe/Berlin")
    await expect(offer).to_be_visible()
    await axe(page, "the time zone offer")
    await screenshot(page, "zone-offer-1280", SHOTS)
    await tab_to(page, "#zone-offer .zone-offer-use", where="the offer's button")
    await expect(page.locator(":focus")).to_have_text("Use Europe/Berlin")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/rooms$"))
    await expect(page.locator("#flash")).to_contain_text("Times are now shown in Europe/Berlin")
    await expect(page.locator("#zone-offer")).to_have_count(0)
    assert 'data-time-zone="Europe/Berlin"' in (await ben.page("/rooms")).text
    await session.discard(page)

    # "Not now": kept in this browser, nothing changed on the server.
    cleo = await session.user(unique("cleo"), "Cleo")
    page = await session.page(cleo, timezone_id="Asia/Tokyo", viewport={"width": 390, "height": 844})
    await page.goto("/rooms")
    await expect(page.locator("#zone-offer")).to_be_visible()
    await no_horizontal_scroll(page, "the time zone offer at 390 px")
    await screenshot(page, "zone-offer-390", SHOTS)
    await tab_to(page, "#zone-offer .zone-offer-dismiss", where="Not now")
    await page.keyboard.press("Enter")
    await expect(page.locator("#zone-offer")).to_be_hidden()
    await page.reload()
    await page.wait_for_load_state("load")
    await expect(page.locator("#zone-offer")).to_be_hidden()
    assert "data-time-zone" not in (await cleo.page("/rooms")).text
    # A browser in UTC is offered nothing (pages already show UTC).
    utc = await session.page(cleo, timezone_id="UTC")
    await utc.goto("/rooms")
    await utc.wait_for_load_state("load")
    await expect(utc.locator("#zone-offer")).to_be_hidden()
    await session.discard(page, utc)


async def test_a_room_opened_in_a_background_tab_stays_unread_until_seen(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Bram Stone")
    room = await ana.create_room("Background", "public")
    await ben.post(f"/rooms/{room}/join")
    other = await ana.create_room("Elsewhere", "public")
    await ben.post(f"/rooms/{other}/join")
    for n in range(3):
        await ana.say(room, f"unseen {n}")
    # Ben's first tab: another room, whose navigation counts the unread ones, and so does the title.
    first = await session.page(ben)
    await first.goto(f"/rooms/{other}")
    await _stream_open(first)
    badge = first.locator(f"#unread-{room}")
    await expect(badge).to_have_text("3 unread")
    await expect(first).to_have_title(re.compile(r"^\(3\) Elsewhere · "))
    # The second tab opens the room in the background (same browser: the script's cookie is there).
    await first.context.add_init_script(BACKGROUND_TAB)
    second = await watched(await first.context.new_page())
    await second.goto(f"/rooms/{room}")
    await _stream_open(second)
    assert await second.evaluate("document.visibilityState") == "hidden"
    # Fetched, connected, and not read: the server still counts three, and so does the first tab.
    assert re.search(rf'id="unread-{room}"[^>]*>3 unread<', (await ben.page("/rooms")).text)
    await expect(badge).to_have_text("3 unread")
    # Seen: visible and focused, the newest message on screen.
    async with second.expect_request(lambda r: r.url.endswith(f"/rooms/{room}/read")):
        await second.evaluate("window.__show()")
    await expect(badge).to_have_text("")
    await expect(first).not_to_have_title(re.compile(r"^\("))
    # A new message counts again in the first tab's title, live.
    await ana.say(room, "while the tab is elsewhere")
    await second.evaluate("""() => {
      Object.defineProperty(Document.prototype, 'visibilityState', { get: () => 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    await expect(badge).to_have_text("1 unread")
    await expect(first).to_have_title(re.compile(r"^\(1\) Elsewhere · "))
    await session.discard(first)


async def test_without_script_opening_the_room_reads_it(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Bram Stone")
    room = await ana.create_room("Plain", "public")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "hello")
    page = await session.page(ben, java_script_enabled=False)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("#messages > li.message")).to_have_count(1)
    assert re.search(rf'id="unread-{room}"[^>]*><', (await ben.page("/rooms")).text)
    await session.discard(page)
