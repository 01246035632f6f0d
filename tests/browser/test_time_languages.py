"""A Thai page in Chromium: the script's times and day headings (Intl.DateTimeFormat for "th",
whose calendar is the Buddhist era's) read exactly as the server wrote them for the page without
script (webchat/clock.py), and the script's own words (the composer's hint, the connection's
notices, said by the announcer) come from the Thai catalog through the page's JSON."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import Session, csp_problems

TIMES_JS = """() => ({
  times: [...document.querySelectorAll('#messages .meta time')].map(t => t.textContent.replace(/\\s+/g, ' ').trim()),
  said: [...document.querySelectorAll('#messages .said')].map(s => s.textContent.replace(/\\s+/g, ' ').trim()),
  days: [...document.querySelectorAll('#messages .day-heading')].map(h => h.textContent.trim()),
})"""


def _backdate(live, bodies: dict[str, datetime]) -> None:
    """Move messages (by body) to other moments, in the live server's own SQLite database, in the
    form it stores them."""
    with sqlite3.connect(live.workdir / "webchat.sqlite3", timeout=10) as db:
        for body, moment in bodies.items():
            (old,) = db.execute("SELECT created_at FROM messages WHERE body = ?", (body,)).fetchone()
            text = str(old)
            new = moment.astimezone(UTC).isoformat(sep=" " if " " in text[:19] else "T")
            if not re.search(r"[+-]\d\d:\d\d$", text):
                new = new.removesuffix("+00:00")
            db.execute("UPDATE messages SET created_at = ? WHERE body = ?", (new, body))


# The page's own module, asked directly (an import from our origin: the page's policy allows it).
PLURALS = """() => import('/static/js/i18n.js').then((m) => [
  m.nt('%(num)s unread', '%(num)s unread', 1), m.nt('%(num)s unread', '%(num)s unread', 3),
  m.t('Use %(zone)s', { zone: 'Asia/Bangkok' }), m.t('Today'),
])"""


async def _stream_open(page: Page) -> None:
    await expect(page.locator("html.stream-open")).to_have_count(1)


async def test_thai_times_and_days_are_the_same_with_and_without_script(session: Session, live):
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room("Thai clocks", "public")
    now = datetime.now(UTC)
    tag = unique("t")
    moments = {
        f"{tag} another year": now - timedelta(days=400),
        f"{tag} this year": now - timedelta(days=3),
        f"{tag} yesterday": now - timedelta(days=1),
        f"{tag} today": now,
    }
    for body in moments:
        await ana.say(room, body)
    _backdate(live, moments)
    assert (await ana.post("/settings", {"time_zone": "Asia/Bangkok", "clock": "auto", "language": "th",
                                         "announce": "all"})).status_code == 303
    for clock in ("auto", "12"):
        if clock != "auto":
            await ana.post("/settings", {"clock": clock})
        plain = await session.page(ana, java_script_enabled=False, timezone_id="America/New_York")
        await plain.goto(f"/rooms/{room}")
        server = await plain.evaluate(TIMES_JS)
        page = await session.page(ana, timezone_id="America/New_York", locale="en-US")
        await page.goto(f"/rooms/{room}")
        await _stream_open(page)
        scripted = await page.evaluate(TIMES_JS)
        assert server == scripted, (clock, server, scripted)
        assert server["days"][-2:] == ["เมื่อวาน", "วันนี้"], server
        # Another year: the Buddhist era's (Gregorian + 543), in the heading and the time.
        year = (now - timedelta(days=400)).astimezone(UTC).year + 543
        assert str(year) in server["days"][0] and str(year) in server["times"][0], server
        if clock == "auto":  # Thai's own clock: 24 hours
            assert re.fullmatch(r"\d{1,2}:\d\d", server["times"][-1]), server
        else:
            assert re.fullmatch(r"\d{1,2}:\d\d [AP]M", server["times"][-1]), server
        assert not csp_problems(page), csp_problems(page)
        await session.discard(plain, page)
    # A message from the stream (written in UTC, in Thai, for every Thai reader): in the
    # reader's time, in the header and in the sentence said for it.
    page = await session.page(ana, timezone_id="America/New_York")
    await page.goto(f"/rooms/{room}")
    await _stream_open(page)
    await ana.say(room, "from the stream")
    await expect(page.locator("#messages > li.message")).to_have_count(5)
    live_times = await page.evaluate(TIMES_JS)
    assert re.fullmatch(r"\d{1,2}:\d\d [AP]M", live_times["times"][-1]), live_times
    assert "UTC" not in live_times["said"][-1] and live_times["times"][-1] in live_times["said"][-1], live_times
    await session.discard(page)


async def test_the_scripts_words_are_thai_on_a_thai_page(session: Session):
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ben.create_room("Thai words", "public")
    assert (await ben.post("/settings", {"announce": "all", "language": "th"})).status_code == 303
    page = await session.page(ben)
    await page.goto(f"/rooms/{room}")
    await _stream_open(page)
    await expect(page.locator("#composer-hint")).to_have_text("กด Enter เพื่อส่ง กด Shift+Enter เพื่อขึ้นบรรทัดใหม่")
    # The connection drops for a while, then comes back: shown and said in Thai.
    await page.route(f"**/rooms/{room}/events*", lambda route: route.abort())
    await page.evaluate("""() => {
      const source = document.querySelector('[sse-connect]')['htmx-internal-data'].sseEventSource;
      source.close();
      source.onerror(new Event('error'));
    }""")
    lost = "การเชื่อมต่อขาดหาย กำลังพยายามเชื่อมต่อใหม่ โปรดรอก่อนส่งข้อความ"
    await expect(page.locator("#connection-status")).to_have_text(lost, timeout=15_000)
    await expect(page.locator("#announcer")).to_have_text(lost)
    await page.unroute(f"**/rooms/{room}/events*")
    back = "เชื่อมต่อได้อีกครั้งแล้ว ข้อความที่คุณพลาดไปอยู่ในประวัติการสนทนา"
    await expect(page.locator("#connection-status")).to_have_text(back, timeout=20_000)
    await expect(page.locator("#announcer")).to_have_text(back)
    # Counts: Thai has one form for every number; placeholders are filled after translation.
    assert await page.evaluate(PLURALS) == ["ยังไม่ได้อ่าน 1", "ยังไม่ได้อ่าน 3", "ใช้ Asia/Bangkok", "วันนี้"]
    assert not csp_problems(page), csp_problems(page)
    # The same page in English: the msgids themselves, English's two forms.
    await ben.post("/settings", {"announce": "all", "language": "en"})
    await page.reload()
    await expect(page.locator("#composer-hint")).to_have_text("Enter sends. Shift+Enter starts a new line.")
    assert await page.evaluate(PLURALS) == ["1 unread", "3 unread", "Use Asia/Bangkok", "Today"]
    assert await page.evaluate("""() => import('/static/js/i18n.js').then((m) => [1, 2].map(
      (n) => m.nt('%(num)s new message below', '%(num)s new messages below', n)))""") == [
        "1 new message below", "2 new messages below"]
    await session.discard(page)
