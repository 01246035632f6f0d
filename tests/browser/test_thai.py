"""webchat in Thai, in a real browser whose language is Thai (`Accept-Language: th-TH`).

- Every main page, signed out and in, says `<html lang="th">`, shows Thai words and none of the
  English ones it would show otherwise, passes axe-core in both colour schemes, and needs no
  horizontal scrolling at 320 CSS px, where Thai labels are longer than English ones. Screenshots
  of them go to a temporary folder (docs/screenshots/ with `WEBCHAT_SCREENSHOTS=1`).
- Thai has no spaces between words: Chromium must break a long Thai line between words (its
  dictionary), never inside one. Every line break of a long Thai message at 320 px falls on a word
  boundary as `Intl.Segmenter('th')` finds them.
- A form's errors are in Thai, and a new message is announced once in Thai.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import NARROW, WIDE, Audit, Session, no_horizontal_scroll, screenshot
from tests.browser.test_live_announcements import RECORD_ANNOUNCER, announced
from webchat import i18n

THAI = {"locale": "th-TH"}
THAI_LETTER = re.compile("[\u0e01-\u0e5b]")

# Long Thai, as people write it: no spaces between words, spaces between phrases.
LONG_THAI = (
    "วันนี้ทีมของเราประชุมเรื่องการปรับปรุงหน้าตั้งค่าให้ใช้งานกับโปรแกรมอ่านหน้าจอได้ง่ายขึ้น "
    "ทุกคนเห็นตรงกันว่าควรทดสอบกับผู้ใช้จริงก่อนเปิดตัวเวอร์ชันใหม่ในสัปดาห์หน้า "
    "ส่วนเอกสารประกอบการประชุมอยู่ในห้องนี้แล้วกรุณาอ่านก่อนวันพฤหัสบดี"
)


def th(message: str, **variables) -> str:
    with i18n.speaking("th"):
        return i18n.gettext(message, **variables)


async def thai_world(session: Session) -> dict:
    """Two Thai speakers in a room with a conversation: a reply, a reaction, a mention, a long
    Thai paragraph and an edited message."""
    ana = await session.user(unique("ana"), "อนงค์ ศรีสุวรรณ")
    ben = await session.user(unique("ben"), "บุญชัย ใจดี")
    room = await ana.create_room("ห้องทีมออกแบบการเข้าถึงสำหรับทุกคน", "public")
    await ben.post(f"/rooms/{room}/join")
    for i in range(8):
        await (ana if i % 2 else ben).say(room, f"ข้อความที่ {i}: สวัสดีตอนเช้า ทุกคนสบายดีไหม")
    await ben.say(room, LONG_THAI)
    await ben.say(room, f"@{ana.username} ช่วยตรวจหน้าตั้งค่าด้วยโหมดสีตัดกันสูงได้ไหม")
    page = await ana.page(f"/rooms/{room}")
    ids = [int(n) for n in re.findall(r'<li id="m-(\d+)"', page.text)]
    newest = max(ids)
    await ana.post(f"/rooms/{room}/messages", {"body": "ได้เลย เดี๋ยวตรวจหลังพักเที่ยง", "reply_to": str(newest)},
                   htmx=True)
    await ben.post(f"/rooms/{room}/messages/{newest}/reactions", {"emoji": "👍"}, htmx=True)
    await ana.post(f"/rooms/{room}/messages/{newest}/reactions", {"emoji": "👍"}, htmx=True)
    page = await ana.page(f"/rooms/{room}")
    own = max(int(n) for n in re.findall(rf'<li id="m-(\d+)"[^>]*data-author="{ana.username}"', page.text))
    return {"ana": ana, "ben": ben, "room": room, "own": own, "first": min(ids), "newest": newest}


def signed_in_pages(w: dict) -> list[tuple[str, str]]:
    room = w["room"]
    return [
        ("room list", "/rooms"),
        ("room", f"/rooms/{room}"),
        ("message link", f"/rooms/{room}/messages/{w['newest']}"),
        ("edit page", f"/rooms/{room}/messages/{w['own']}/edit"),
        ("history page", f"/rooms/{room}/messages?before={w['newest']}"),
        ("reactions page", f"/rooms/{room}/messages/{w['newest']}/reactions"),
        ("members", f"/rooms/{room}/members"),
        ("room settings", f"/rooms/{room}/settings"),
        ("mentions", "/mentions"),
        ("search", "/search?q=" + "ประชุม"),
        ("people", "/dm"),
        ("profile", f"/users/{w['ben'].username}"),
        ("settings", "/settings"),
        ("tokens", "/settings/tokens"),
        ("not found", "/rooms/999999999"),
    ]


SIGNED_OUT = [("landing", "/"), ("register", "/register"), ("sign in", "/login")]

# English a page must not show when it is in Thai (its landmarks' and controls' words).
ENGLISH = re.compile(r"\b(Sign out|Settings|Rooms|Send|Skip to|Search|Members|Mentions|Create|Reply|"
                     r"Sign in|Password|Username|There is a problem|Show older messages|Language)\b")


async def is_thai(page: Page, where: str) -> None:
    assert await page.get_attribute("html", "lang") == "th", f"{where}: <html lang> is not th"
    shown = await page.evaluate("() => document.body.innerText")
    labels = await page.evaluate("""() => [...document.querySelectorAll('[aria-label], [title], [placeholder]')]
      .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')].join(' '))
      .join(' ')""")
    assert THAI_LETTER.search(shown), f"{where}: no Thai on the page"
    # The footer's language switch names English in English, as every language menu does.
    english = [w for w in ENGLISH.findall(shown + " " + labels) if w != "English"]
    assert not english, f"{where}: English left on a Thai page: {sorted(set(english))}"


async def test_thai_pages_pass_axe_and_reflow_at_320_px(session: Session, fresh_server, screenshot_folder: Path):
    # A server of its own: the shared one lists other tests' public rooms ("Mentions", "Lobby") on
    # the room list, and their English names are not the page's words.
    own = Session(session.browser, fresh_server().url)
    try:
        await thai_pages(own, screenshot_folder)
    finally:
        await own.close()


async def thai_pages(session: Session, screenshot_folder: Path) -> None:
    w = await thai_world(session)
    audit = Audit()
    signed_out = await session.page(viewport=NARROW, **THAI)
    for name, path in SIGNED_OUT:
        await signed_out.goto(path)
        await is_thai(signed_out, name)
        await no_horizontal_scroll(signed_out, f"{name} in Thai at 320 px")
        await audit.check(signed_out, f"{name} in Thai at 320 px")
        await screenshot(signed_out, f"th-{name.replace(' ', '-')}-narrow", screenshot_folder)
        if path != "/":
            await signed_out.locator("main form button[type=submit]").click()
            await expect(signed_out.locator("#error-summary")).to_be_visible()
            await is_thai(signed_out, f"{name} with errors")
            await no_horizontal_scroll(signed_out, f"{name} with errors in Thai at 320 px")
            await audit.check(signed_out, f"{name} with errors in Thai at 320 px")

    page = await session.page(w["ana"], viewport=NARROW, **THAI)
    for name, path in signed_in_pages(w):
        await page.goto(path)
        await is_thai(page, name)
        await no_horizontal_scroll(page, f"{name} in Thai at 320 px")
        await audit.check(page, f"{name} in Thai at 320 px")
        await screenshot(page, f"th-{name.replace(' ', '-')}-narrow", screenshot_folder)
    # The room with a message's actions open, at 320 px.
    await page.goto(f"/rooms/{w['room']}")
    await page.locator(f"#m-{w['own']} .msg-actions summary").click()
    await expect(page.locator(f"#m-{w['own']} .msg-actions .menu")).to_be_visible()
    await no_horizontal_scroll(page, "room with a message's actions open, in Thai at 320 px")
    await audit.check(page, "room with a message's actions open, in Thai at 320 px", schemes=("light",))

    wide = await session.page(w["ana"], viewport=WIDE, **THAI)
    await wide.goto(f"/rooms/{w['room']}")
    await is_thai(wide, "room, wide")
    await audit.check(wide, "room in Thai at 1280 px")
    shot = await screenshot(wide, "th-room-wide", screenshot_folder)
    assert shot.stat().st_size > 10_000
    audit.verify()


LINE_BREAKS_JS = """el => {
  // Where the text's lines start, from the rendered line boxes of each character.
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let text = '', starts = [], lastTop = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect && node.data[i].trim()) {
        if (lastTop !== null && rect.top > lastTop + 2) starts.push(text.length);
        lastTop = rect.top;
      }
      text += node.data[i];
    }
  }
  const boundaries = new Set([0, text.length]);
  for (const s of new Intl.Segmenter('th', {granularity: 'word'}).segment(text)) {
    boundaries.add(s.index); boundaries.add(s.index + s.segment.length);
  }
  return {text, starts, inside: starts.filter(i => !boundaries.has(i) && text[i - 1] !== ' ')
    .map(i => text.slice(Math.max(0, i - 8), i) + '|' + text.slice(i, i + 8))};
}"""


async def test_long_thai_lines_break_between_words(session: Session):
    w = await thai_world(session)
    page = await session.page(w["ana"], viewport=NARROW, **THAI)
    await page.goto(f"/rooms/{w['room']}")
    body = page.locator("#messages > li", has_text=LONG_THAI[:30]).locator(".body")
    lines = await body.evaluate(LINE_BREAKS_JS)
    assert lines["text"].strip().startswith(LONG_THAI[:30])
    assert len(lines["starts"]) >= 4, f"a long Thai message at 320 px should wrap onto several lines: {lines}"
    assert not lines["inside"], f"Thai lines broken inside a word: {lines['inside']}"

    # A room's name in the list of rooms, beside its (long, in Thai) count of mentions: the count
    # goes under the name rather than squeezing it to a letter a line.
    other = await w["ben"].create_room("ห้องประชุมทีมออกแบบ", "public")
    await w["ana"].post(f"/rooms/{other}/join")
    for _ in range(2):
        await w["ben"].say(other, f"@{w['ana'].username} ช่วยดูหน่อย")
    wide = await session.page(w["ana"], viewport=WIDE, **THAI)
    await wide.goto(f"/rooms/{w['room']}")
    name = wide.locator(f'nav.room-nav a[href="/rooms/{other}"] .room-name')
    await expect(wide.locator(f"#mentions-{other}")).not_to_be_empty()
    lines = await name.evaluate(LINE_BREAKS_JS)
    assert not lines["inside"], f"a room's name broken inside a word in the list of rooms: {lines['inside']}"
    assert len(lines["starts"]) <= 2, f"the room's name squeezed into many lines: {lines}"


async def test_form_errors_and_a_new_message_are_in_thai(session: Session):
    # A sign-in that fails: the summary and the field's message, in Thai, focus on the summary.
    visitor = await session.page(**THAI)
    await visitor.goto("/login")
    await visitor.locator("main form button[type=submit]").click()
    summary = visitor.locator("#error-summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_be_focused()
    await expect(summary.locator("h2")).to_have_text(th("There is a problem"))
    assert THAI_LETTER.search(await summary.inner_text())
    assert await visitor.title() == th("Error: %(title)s", title=th("Sign in")) + " · webchat"

    # A message Ben sends reaches Ana's Thai page, announced once, in Thai order.
    ana = await session.user(unique("ana"), "อนงค์ ศรีสุวรรณ")
    ben = await session.user(unique("ben"), "บุญชัย ใจดี")
    room = await ana.create_room("ห้องประกาศ", "public")
    await ben.post(f"/rooms/{room}/join")
    page = await session.page(ana, **THAI)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await is_thai(page, "room")
    await page.evaluate(RECORD_ANNOUNCER)
    await ben.say(room, "สวัสดีครับ ประชุมบ่ายสองโมงนะครับ")
    await expect(page.locator("#messages > li").last).to_contain_text("ประชุมบ่ายสองโมง")
    said = f"บุญชัย ใจดี @{ben.username}: สวัสดีครับ ประชุมบ่ายสองโมงนะครับ"
    await expect(page.locator("#announcer")).to_have_text(said)
    assert [t for t in await announced(page) if "ประชุม" in t] == [said]
    # The message as a screen reader reads it in the history: its time in Thai (24-hour clock).
    sentence = await page.locator("#messages > li").last.locator(".said").inner_text()
    assert sentence.startswith(f"บุญชัย ใจดี @{ben.username}, ") and re.search(r"\d{2}:\d{2}", sentence), sentence
