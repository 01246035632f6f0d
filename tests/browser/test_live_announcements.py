"""Live behaviour for assistive technology, with two people in two browser contexts.

A new message from one appears in the other's history and is announced exactly once through the
one polite live region (#announcer), as the page's DOM and Chromium's accessibility tree both
show; loading older history and catching up after a reconnect announce nothing; who is typing is
shown, but is not itself a live region (it is spoken through the announcer, and only on request:
tests/browser/test_speech.py listens to all of it with a virtual screen reader).
"""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import Session, ax_node, wait_until

# Every text the announcer is given, as it is given (the region clears itself after a while).
RECORD_ANNOUNCER = """() => {
  window.__announced = [];
  const region = document.getElementById('announcer');
  new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes) {
      const text = (n.textContent || '').trim();
      if (text) window.__announced.push(text);
    }
  }).observe(region, {childList: true, subtree: true, characterData: false});
}"""


async def announced(page: Page) -> list[str]:
    return await page.evaluate("window.__announced.slice()")


async def open_room(session: Session, user, room: int) -> Page:
    page = await session.page(user)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await page.evaluate(RECORD_ANNOUNCER)
    return page


async def break_stream(page: Page) -> None:
    """End the page's open event stream as a dropped connection would: the SSE extension sees
    an error on a closed source and reconnects by itself (through webchat.js's resume)."""
    await page.evaluate("""() => {
      const el = document.querySelector('[sse-connect]');
      const source = el['htmx-internal-data'].sseEventSource;
      source.close();
      source.onerror(new Event('error'));
    }""")


async def test_messages_are_announced_once_and_history_is_silent(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Live together", "public")
    await ben.post(f"/rooms/{room}/join")
    for i in range(55):  # enough for a "Show older messages" page
        await ana.say(room, f"Earlier message {i}")
    # Ben has read them (a room opens at the first unread message, with every unread one shown).
    newest = max(int(n) for n in re.findall(r'<li id="m-(\d+)"', (await ana.page(f"/rooms/{room}")).text))
    assert (await ben.post(f"/rooms/{room}/read", {"last_message_id": str(newest)})).status_code == 303

    page_ana = await open_room(session, ana, room)
    page_ben = await open_room(session, ben, room)
    await expect(page_ben.locator("#messages > li")).to_have_count(50)

    # Ana types: Ben sees it under the messages (and Ana does not see herself typing). It is
    # shown, not a live region: Ben has not asked for typing to be announced, so nothing is said.
    token = uuid.uuid4().hex[:8]
    text = f"Hello Ben, this is {token}"
    await page_ana.locator("#composer-body").press_sequentially(text)
    typing = page_ben.locator("#typing")
    await expect(typing).to_have_text("Ana Lima is typing…")
    await expect(page_ben.get_by_role("status").filter(has_text="Ana Lima is typing")).to_have_count(0)
    node = await ax_node(page_ben, "#typing")
    assert node["role"] != "status" and "live" not in node["props"], node
    assert "".join(node["texts"]) == "Ana Lima is typing…", node
    assert await announced(page_ben) == []
    await expect(page_ana.locator("#typing")).not_to_contain_text("Ana Lima")

    # Ana sends: the message reaches Ben's history, and his announcer says it once, with her
    # @username beside her name (a display name alone could be anyone's).
    said = f"Ana Lima @{ana.username}: {text}"
    await page_ana.locator("#composer-body").press("Enter")
    arrived = page_ben.locator("#messages > li").last
    await expect(arrived).to_contain_text(text)
    await expect(page_ben.locator("#announcer")).to_have_text(said)
    assert [t for t in await announced(page_ben) if token in t] == [said]
    # ...as the accessibility tree has it: a polite, non-atomic live region holding the text once.
    node = await ax_node(page_ben, "#announcer")
    assert node["props"].get("live") == "polite", node
    assert node["props"].get("atomic") is False, node
    assert sum(token in t for t in node["texts"]) == 1, node
    assert (await page_ben.locator("#announcer").aria_snapshot()).count(token) == 1
    # The history is not itself a live region (so nothing in it is read out as it changes).
    history = await ax_node(page_ben, "#messages")
    assert "live" not in history["props"], history
    # Ana's own message is not announced to Ana.
    await expect(page_ana.locator("#messages > li").last).to_contain_text(text)
    assert await announced(page_ana) == []

    # Loading older history announces nothing.
    before = await announced(page_ben)
    await page_ben.get_by_role("link", name="Show older messages").click()
    await expect(page_ben.locator("#messages > li")).to_have_count(56)
    await expect(page_ben.locator("#older")).to_have_text("This is the start of the conversation.")
    await page_ben.wait_for_timeout(300)
    assert await announced(page_ben) == before

    # A reconnect: the stream drops; while it is down (reconnects refused) Ana says two things;
    # then the stream comes back, catches up, and the catch-up is shown but not announced.
    refused = []

    async def refuse(route):
        refused.append(route.request.url)
        await route.abort()

    await page_ben.route(f"**/rooms/{room}/events*", refuse)
    await break_stream(page_ben)
    missed = [f"While you were away {token} #{i}" for i in (1, 2)]
    for body in missed:
        await ana.say(room, body)
    await wait_until(lambda: refused, 5, "a refused reconnect")
    await page_ben.unroute(f"**/rooms/{room}/events*")
    for body in missed:
        caught_up = page_ben.locator("#messages > li", has_text=body)
        await expect(caught_up).to_have_count(1, timeout=10_000)
        await expect(caught_up).to_have_attribute("data-replayed", "true")
    assert "last_event_id=" in refused[0], refused  # the reconnect says where it was
    await page_ben.wait_for_timeout(300)
    assert await announced(page_ben) == before, "catching up after a reconnect was announced"

    # After the reconnect, a new message is announced again, once.
    await ana.say(room, f"Back to live {token}")
    await expect(page_ben.locator("#messages > li").last).to_contain_text(f"Back to live {token}")
    await expect(page_ben.locator("#announcer")).to_contain_text(f"Back to live {token}")
    assert [t for t in await announced(page_ben) if token in t] == [
        said, f"Ana Lima @{ana.username}: Back to live {token}"
    ]
    # Nothing was shown twice.
    bodies = await page_ben.locator("#messages > li .body").all_inner_texts()
    assert len(bodies) == len(set(bodies)), "a message is shown twice"


async def test_announce_setting_mentions_only(session: Session):
    """The reader's setting: with "mentions only", other messages are shown but not announced."""
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Mentions", "public")
    await ben.post(f"/rooms/{room}/join")
    await ben.post("/settings", {"announce": "mentions"})
    page_ben = await open_room(session, ben, room)
    await ana.say(room, "Not for anyone in particular")
    await ana.say(room, f"A question for @{ben.username}")
    await expect(page_ben.locator("#messages > li")).to_have_count(2)
    await expect(page_ben.locator("#announcer")).to_contain_text("A question for")
    assert await announced(page_ben) == [f"Ana Lima @{ana.username}: A question for @{ben.username}"]
