"""What a screen-reader user hears, recorded by Guidepup's virtual screen reader in real Chromium.

The virtual screen reader (tests/browser/package.json) walks the page's accessibility tree as a
screen reader's reading cursor does and logs every phrase it would speak; it also listens to the
page's live regions and logs what they say as "polite: …". Each test asserts the exact list of
phrases, in English, for one situation: reading a room in order, someone typing (with and without
the listener's setting), a single new message, a burst of ten, an edit and a delete, and errors
(a failed post, a rate limit, a lost connection and its recovery).

The listener reads in a time zone other than UTC (Asia/Kolkata, +05:30), so the times it hears
are its own local times, not the server's.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from tests.browser.conftest import SCREEN_READER_GLOBAL, unique
from tests.browser.support import Session, wait_until
from tests.helpers.live import LiveUser

ZONE = "Asia/Kolkata"
LISTENER = {"timezone_id": ZONE, "locale": "en-US"}
VIRTUAL = f"window.{SCREEN_READER_GLOBAL}.virtual"
QUIET = 1.5  # s: after the last expected phrase, long enough for the announcer to have said more
COMPOSER = "textbox, Your message, Enter sends. Shift+Enter starts a new line., autocomplete in list, 1 control"
NOT_SENT = ("polite: Your message was not sent. The server could not be reached. "
            "Check your connection, then press Enter to send it again.")


class Listener:
    """The virtual screen reader in one page: listening to live regions, or reading in order."""

    def __init__(self, page: Page, script: str) -> None:
        self.page = page
        self.script = script

    async def inject(self) -> None:
        await self.page.evaluate(self.script)
        assert await self.page.evaluate(f"typeof {VIRTUAL}.start === 'function'"), "not injected"

    async def listen(self) -> None:
        """Start on the whole page and forget what starting said: from now on, what it hears."""
        await self.inject()
        await self.page.evaluate(f"""async () => {{
          await {VIRTUAL}.start({{container: document.body}});
          await {VIRTUAL}.clearSpokenPhraseLog();
        }}""")

    async def heard(self) -> list[str]:
        return await self.page.evaluate(f"{VIRTUAL}.spokenPhraseLog()")

    async def hears(self, phrase: str, timeout: float = 10) -> None:
        await wait_until(lambda: self._has(phrase), timeout, f"the screen reader to say {phrase!r}")

    async def _has(self, phrase: str) -> bool:
        return phrase in await self.heard()

    async def read(self, selector: str) -> list[str]:
        """Read the element from its first item to its last with the reading cursor ("next"),
        as a screen-reader user reads a page in order."""
        await self.inject()
        return await self.page.evaluate(f"""async selector => {{
          const v = {VIRTUAL};
          await v.stop();
          await v.start({{container: document.querySelector(selector)}});
          const first = v.activeNode;
          const start = await v.lastSpokenPhrase();
          for (let i = 0; i < 2000; i++) {{
            await v.next();
            // Round to the start again (a container's "end of …" is the same node, said otherwise).
            if (v.activeNode === first && await v.lastSpokenPhrase() === start) break;
          }}
          const phrases = await v.spokenPhraseLog();
          await v.stop();
          return phrases.slice(0, -1);
        }}""", selector)


def local_time(iso: str) -> str:
    """A message's time as the listener's page shows and says it (en-US, in ZONE)."""
    zone = ZoneInfo(ZONE)
    when = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    now = datetime.now(zone)
    text = f"{when.hour % 12 or 12}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"
    if when.date() != now.date():
        day = f"{when:%b} {when.day}" + (f", {when.year}" if when.year != now.year else "")
        text = f"{day}, {text}"
    return text


def day_label(iso: str) -> str:
    """The day heading the listener's page shows over a message's day (en-US, in ZONE)."""
    zone = ZoneInfo(ZONE)
    when = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone).date()
    today = datetime.now(zone).date()
    if when == today:
        return "Today"
    if when == today - timedelta(days=1):
        return "Yesterday"
    return f"{when:%A}, {when:%B} {when.day}, {when.year}"


async def first_day(page: Page) -> str:
    return day_label(await page.locator("#messages > li time").first.get_attribute("datetime"))


async def times(page: Page) -> list[str]:
    """The local time of each message shown, in order, worked out here from its datetime."""
    return [local_time(iso) for iso in await page.locator("#messages > li time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))")]


async def open_room(session: Session, user: LiveUser, room: int, script: str, **options) -> tuple[Page, Listener]:
    page = await session.page(user, **LISTENER, **options)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    return page, Listener(page, script)


async def room_of(session: Session, *people: tuple[str, str]) -> tuple[int, list[LiveUser]]:
    users = [await session.user(unique(prefix), name) for prefix, name in people]
    room = await users[0].create_room("Speech", "public")
    for user in users[1:]:
        assert (await user.post(f"/rooms/{room}/join")).status_code == 303
    return room, users


async def message_ids(user: LiveUser, room: int) -> list[int]:
    return [int(n) for n in re.findall(r'<li id="m-(\d+)"', (await user.page(f"/rooms/{room}")).text)]


def item(position: int, size: int, *phrases: str) -> list[str]:
    where = f"level 1, position {position}, set size {size}"
    return [f"listitem, {where}", *phrases, f"end of listitem, {where}"]


def fold(heard: list[str]) -> list[str]:
    """Each message's actions menu (a <details>, which this virtual reader reads closed too) as
    its group and button only: what is in it is the template's, and the keyboard tests use it."""
    out: list[str] = []
    n = 0
    while n < len(heard):
        if heard[n] == "group" and n + 1 < len(heard) and "Actions for" in heard[n + 1]:
            out += heard[n:n + 2] + ["end of group"]
            depth, n = 1, n + 1
            while depth:
                n += 1
                depth += {"group": 1, "end of group": -1}.get(heard[n], 0)
            n += 1
            continue
        out.append(heard[n])
        n += 1
    return out


def actions(name: str) -> list[str]:
    """A message's one actions button, as heard."""
    return ["group", f"Actions for {name}'s message", "end of group"]

COMPOSER_READ = [
    "form", "Your message", "paragraph", "Enter sends. Shift+Enter starts a new line.", "end of paragraph",
    COMPOSER, "button, Send", "group", "Attach files or images", "end of group", "group", "Formatting",
    "end of group", "end of form",
]


async def test_reading_a_room_in_order(session: Session, screen_reader_script: str):
    """Each message in one breath: name, @username, local time once, (edited,) text. Links in a
    body are read as links; the reader's own message has one short action; nothing else."""
    room, (ana, ben) = await room_of(session, ("ana", "Ana Lima"), ("ben", "Ben Okafor"))
    await ana.say(room, "Good morning")
    await ben.say(room, "Notes are here: https://example.org/notes")
    await ana.say(room, "Two things:\n1. contrast\n2. zoom")
    await ana.say(room, "Lunch at one?")
    await ben.say(room, "Wrong room, sorry")
    ids = await message_ids(ana, room)
    assert (await ana.post(f"/rooms/{room}/messages/{ids[3]}/edit", {"body": "Lunch at half past one?"})).status_code == 303
    assert (await ben.post(f"/rooms/{room}/messages/{ids[4]}/delete")).status_code == 303

    page, listener = await open_room(session, ben, room, screen_reader_script)
    await expect(page.locator("#presence")).to_contain_text("Ben Okafor")
    t = await times(page)
    a, b = f"Ana Lima @{ana.username}", f"Ben Okafor @{ben.username}"
    day = f"heading, {await first_day(page)}, level 3"  # the listener's own day
    heard = fold(await listener.read("main"))
    # The composer's Formatting help (a <details>; this virtual reader reads it closed too): its
    # summary is checked, its list is the template's.
    # So is the file field's (a <details> before it): each read as its summary alone.
    start = heard.index("group", heard.index("button, Send"))
    heard = heard[:start + 2] + heard[heard.index("end of group", start):]
    start = heard.index("group", start + 3)
    heard = heard[:start + 2] + heard[heard.index("end of group", start):]
    assert heard == [
        "main",
        "heading, Speech, level 1",
        "Here now:", "list", *item(1, 1, "Ben Okafor"), "end of list",
        "region, Messages", "heading, Messages, level 2",
        "paragraph", "This is the start of the conversation.", "end of paragraph",
        "list",
        *item(1, 5, day, f"{a}, {t[0]}: Good morning", *actions("Ana Lima")),
        *item(2, 5, f"{b}, {t[1]}:", "Notes are here:", "link, https://example.org/notes", *actions("Ben Okafor")),
        # A list is read as a list.
        *item(3, 5, f"{a}, {t[2]}:", "paragraph", "Two things:", "end of paragraph", "list",
              "listitem, level 2, position 1, set size 2", "contrast", "end of listitem, level 2, position 1, set size 2",
              "listitem, level 2, position 2, set size 2", "zoom", "end of listitem, level 2, position 2, set size 2",
              "end of list", *actions("Ana Lima")),
        *item(4, 5, f"{a}, {t[3]}, edited: Lunch at half past one?", *actions("Ana Lima")),
        *item(5, 5, f"{b}, {t[4]}: message deleted"),
        "end of list",
        "end of region, Messages",
        *COMPOSER_READ,
        "end of main",
    ]
    # The times said are the reader's own, as shown.
    assert await page.locator("#messages > li time").all_inner_texts() == t


async def typing_burst(session: Session, script: str, announce_typing: bool) -> tuple[list[str], list[str], LiveUser]:
    """Ana types a short message in her browser while Cleo starts typing too, then Ana sends it.
    Returns what Ben's screen reader heard, and what Ana's heard."""
    room, (ana, ben, cleo) = await room_of(session, ("ana", "Ana Lima"), ("ben", "Ben Okafor"), ("cleo", "Cleo Martin"))
    if announce_typing:
        await ben.post("/settings", {"announce": "all", "announce_typing": "1"})
    page_ben, ben_listens = await open_room(session, ben, room, script)
    assert await page_ben.locator("body").get_attribute("data-announce-typing") == ("on" if announce_typing else "off")
    page_ana, ana_listens = await open_room(session, ana, room, script)
    await ben_listens.listen()
    # The room opened with focus in Ana's composer (its field was said then): she leaves it
    # before listening, so that coming back to it is heard.
    await page_ana.evaluate("document.activeElement.blur()")
    await ana_listens.listen()

    typing = page_ben.locator("#typing")
    composer = page_ana.locator("#composer-body")
    await composer.press_sequentially("Fresh news", delay=60)
    await expect(typing).to_have_text("Ana Lima is typing…")
    assert (await cleo.post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
    await expect(typing).to_have_text("Ana Lima and Cleo Martin are typing…")
    if announce_typing:
        await ben_listens.hears("polite: Cleo Martin is typing")
    # Ana keeps typing, past the page's 2.5 s between typing signals: she is still typing.
    await composer.press_sequentially(" for Ben", delay=350)
    await expect(typing).to_have_text("Ana Lima and Cleo Martin are typing…")
    await composer.press("Enter")
    await expect(typing).to_have_text("Cleo Martin is typing…")  # Ana is no longer typing
    said = f"polite: Ana Lima @{ana.username}: Fresh news for Ben"
    await ben_listens.hears(said)
    await expect(typing).to_have_text("", timeout=10_000)  # Cleo's typing runs out: shown, not said
    await asyncio.sleep(QUIET)
    return await ben_listens.heard(), await ana_listens.heard(), ana


async def test_typing_is_not_said_unless_asked_for(session: Session, screen_reader_script: str):
    heard, ana_heard, ana = await typing_burst(session, screen_reader_script, announce_typing=False)
    assert heard == [f"polite: Ana Lima @{ana.username}: Fresh news for Ben"]
    # Ana hears the field she types in, once: not her own message, nor the field again after it
    # is sent (it stays the same field), nor Cleo typing (she did not ask for typing).
    assert ana_heard == [COMPOSER]


async def test_typing_is_said_once_per_person_when_asked_for(session: Session, screen_reader_script: str):
    heard, ana_heard, ana = await typing_burst(session, screen_reader_script, announce_typing=True)
    assert heard == [
        "polite: Ana Lima is typing",
        "polite: Cleo Martin is typing",
        f"polite: Ana Lima @{ana.username}: Fresh news for Ben",
    ]
    assert ana_heard == [COMPOSER]  # Ana has not asked for typing to be announced


async def test_a_single_new_message(session: Session, screen_reader_script: str):
    room, (ana, ben) = await room_of(session, ("ana", "Ana Lima"), ("ben", "Ben Okafor"))
    page_ben, ben_listens = await open_room(session, ben, room, screen_reader_script)
    page_ana, ana_listens = await open_room(session, ana, room, screen_reader_script)
    await ben_listens.listen()
    await ana_listens.listen()
    await ana.say(room, "Good morning, Ben")
    said = f"polite: Ana Lima @{ana.username}: Good morning, Ben"
    await ben_listens.hears(said)
    await expect(page_ana.locator("#messages > li")).to_have_count(1)
    await asyncio.sleep(QUIET)
    assert await ben_listens.heard() == [said]
    assert await ana_listens.heard() == []  # her own message
    # Reading it afterwards: the same message, in one breath, with the time.
    t = await times(page_ben)
    assert fold(await ben_listens.read("#messages")) == [
        "list",
        *item(1, 1, f"heading, {await first_day(page_ben)}, level 3", f"Ana Lima @{ana.username}, {t[0]}: Good morning, Ben", *actions("Ana Lima")),
        "end of list",
    ]


async def test_a_burst_of_ten_is_summed_up(session: Session, screen_reader_script: str):
    """Ten messages in the same moment: one sentence for them all; after it, the announcer waits
    a second before it says anything else, and says the next messages one by one."""
    room, (ana, ben, cleo) = await room_of(session, ("ana", "Ana Lima"), ("ben", "Ben Okafor"), ("cleo", "Cleo Martin"))
    page = await session.page(ben, **LISTENER)
    await page.clock.install()  # the page's timers, under the test's control from pause_at on
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    listener = Listener(page, screen_reader_script)
    await listener.listen()

    await page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    for i in range(10):
        await (ana if i % 2 == 0 else cleo).say(room, f"Burst {i + 1}")
    await expect(page.locator("#messages > li")).to_have_count(10)
    assert await listener.heard() == []  # nothing said yet: the page's clock stands still
    await page.clock.run_for(10)
    summary = "polite: 10 new messages from Ana Lima and Cleo Martin"
    assert await listener.heard() == [summary]

    # Two more arrive at once, just after: at most one utterance a second, each said in turn.
    await ana.say(room, "After the burst")
    await cleo.say(room, "And one more")
    await expect(page.locator("#messages > li")).to_have_count(12)
    # (The summary was said at the start of the first 10 ms; it is now 10 ms later.)
    await page.clock.run_for(985)
    assert await listener.heard() == [summary]
    await page.clock.run_for(10)
    after = f"polite: Ana Lima @{ana.username}: After the burst"
    assert await listener.heard() == [summary, after]
    await page.clock.run_for(990)
    assert await listener.heard() == [summary, after]
    await page.clock.run_for(10)
    assert await listener.heard() == [summary, after, f"polite: Cleo Martin @{cleo.username}: And one more"]
    await page.clock.run_for(5000)
    assert len(await listener.heard()) == 3


async def test_an_edit_and_a_delete(session: Session, screen_reader_script: str):
    """Someone else's edit and delete are shown in place, silently; reading the message then
    says what it is now. (Ben had not read them: the first is under "New messages", which stays
    where it was when the message it sits in is edited.)"""
    room, (ana, ben) = await room_of(session, ("ana", "Ana Lima"), ("ben", "Ben Okafor"))
    await ana.say(room, "Lunch at one?")
    await ana.say(room, "Posted in the wrong room")
    first, second = await message_ids(ana, room)
    page, listener = await open_room(session, ben, room, screen_reader_script)
    await listener.listen()
    assert (await ana.post(f"/rooms/{room}/messages/{first}/edit", {"body": "Lunch at half past one?"})).status_code == 303
    assert (await ana.post(f"/rooms/{room}/messages/{second}/delete")).status_code == 303
    await expect(page.locator(f"#m-{first} .body")).to_have_text("Lunch at half past one?")
    await expect(page.locator(f"#m-{second}.deleted")).to_have_count(1)
    await asyncio.sleep(QUIET)
    assert await listener.heard() == []
    t = await times(page)
    a = f"Ana Lima @{ana.username}"
    assert fold(await listener.read("#messages")) == [
        "list",
        *item(1, 2, f"heading, {await first_day(page)}, level 3", "paragraph", "New messages", "end of paragraph",
               f"{a}, {t[0]}, edited: Lunch at half past one?", *actions("Ana Lima")),
        *item(2, 2, f"{a}, {t[1]}: message deleted"),
        "end of list",
    ]


async def test_errors_are_said_once_with_what_to_do(session: Session, screen_reader_script: str, fresh_server):
    """A post that fails (no connection, then a rate limit) and a lost connection and its
    recovery: each said once, politely, saying what to do; the text stays in the composer."""
    server = fresh_server(WEBCHAT_RATE_LIMITS="on")
    own = Session(session.browser, server.url)
    try:
        ana = await own.user(unique("ana"), "Ana Lima")
        ben = await own.user(unique("ben"), "Ben Okafor")
        room = await ana.create_room("Errors", "public")
        await ben.post(f"/rooms/{room}/join")
        page, listener = await open_room(own, ben, room, screen_reader_script)
        await page.evaluate("document.activeElement.blur()")  # (the room opened with focus in it)
        await listener.listen()
        composer = page.locator("#composer-body")
        await composer.focus()  # a screen reader says the field it lands on
        await composer.fill("Are you there?")

        # 1. The server cannot be reached: nothing was sent, the text is kept, and it is said.
        await page.route(f"**/rooms/{room}/messages", lambda route: route.abort())
        await composer.press("Enter")
        await listener.hears(NOT_SENT)
        await expect(page.locator("#composer-notice")).to_contain_text("Your message was not sent")
        await expect(composer).to_have_value("Are you there?")
        await expect(composer).to_be_focused()
        await page.unroute(f"**/rooms/{room}/messages")
        # Sent again: shown, not said (it is the reader's own); the notice goes; the field stays
        # the same field, so it is not read out again.
        await composer.press("Enter")
        await expect(page.locator("#messages > li")).to_have_count(1)
        await expect(composer).to_have_value("")
        await expect(page.locator("#composer-notice")).to_be_empty()
        await asyncio.sleep(QUIET)
        assert await listener.heard() == [COMPOSER, NOT_SENT]

        # 2. Too many messages: the server's answer, beside the composer and said once.
        for i in range(40):
            if (await ben.post(f"/rooms/{room}/messages", {"body": f"quick {i}"}, htmx=True)).status_code == 429:
                break
        else:
            raise AssertionError("the rate limit never answered 429")
        await composer.fill("One more")
        await composer.press("Enter")
        notice = page.locator("#composer-notice")
        await expect(notice).to_contain_text("Try again in")
        shown = " ".join((await notice.inner_text()).split())
        match = re.fullmatch(r"Slow down Too many messages in a short time\. Try again in (\d+) seconds\.", shown)
        assert match, shown
        limited = ("polite: Your message was not sent. Slow down. Too many messages in a short time. "
                   f"Try again in {match.group(1)} seconds.")
        await listener.hears(limited)
        await expect(composer).to_have_value("One more")

        # 3. The connection drops and stays down for a while; then it comes back.
        refused = []

        async def refuse(route):
            refused.append(route.request.url)
            await route.abort()

        await page.route(f"**/rooms/{room}/events*", refuse)
        await page.evaluate("""() => {
          const source = document.querySelector('[sse-connect]')['htmx-internal-data'].sseEventSource;
          source.close();
          source.onerror(new Event('error'));
        }""")
        lost = "polite: Connection lost. Trying to reconnect; wait before sending."
        await listener.hears(lost, timeout=15)
        await expect(page.locator("#connection-status")).to_have_text(lost.removeprefix("polite: "))
        await page.unroute(f"**/rooms/{room}/events*")
        back = "polite: Connected again. Messages you missed are in the history."
        await listener.hears(back, timeout=20)
        assert refused
        await asyncio.sleep(QUIET)
        assert await listener.heard() == [COMPOSER, NOT_SENT, limited, lost, back]
    finally:
        await own.close()
