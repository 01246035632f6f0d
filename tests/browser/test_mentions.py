"""Mentions in a real browser: the count of mentions in the list of rooms changes live in another
tab; the composer's @name suggestions by keyboard; browser notifications only while hidden, once
across two tabs; axe over the new regions; screenshots at phone and desktop widths (to /tmp)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Session, axe, focused, press, screenshot, tab_to, wait_until
from tests.browser.test_live_announcements import open_room

SHOTS = Path("/tmp/webchat-mentions-shots")

# Notifications are recorded instead of shown; the page's visibility is the test's to set
# (window.__hidden), so two tabs of one browser can both be "in the background".
CAPTURE = """
(() => {
  window.__notes = [];
  window.__shown = [];
  window.focus = () => sessionStorage.setItem('focused', 'yes');  // kept across the tab's navigation
  const Real = window.Notification;
  function Recorded(title, options) {
    window.__notes.push({ title, body: (options || {}).body || '', tag: (options || {}).tag || '' });
    this.close = () => {};
    window.__shown.push(this);
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real ? Real.permission : 'granted' });
  Recorded.requestPermission = () => Real ? Real.requestPermission() : Promise.resolve('granted');
  window.Notification = Recorded;
  window.__hidden = false;
  Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { get: () => window.__hidden });
})();
"""


# A browser that has not been asked yet: the permission is "default" until the page asks, and
# asking (counted in window.__asked) grants it.
NOT_ASKED_YET = """
(() => {
  window.__asked = 0;
  let permission = 'default';
  function Recorded() { this.close = () => {}; }
  Object.defineProperty(Recorded, 'permission', { get: () => permission });
  Recorded.requestPermission = () => { window.__asked += 1; permission = 'granted'; return Promise.resolve('granted'); };
  window.Notification = Recorded;
})();
"""


async def notes(*pages) -> list[dict]:
    found = []
    for page in pages:
        found += await page.evaluate("window.__notes")
    return found


async def test_the_mention_count_changes_live_in_another_tab(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Counting", "public")
    await ben.join(room)
    other = await ana.create_room("Elsewhere", "public")
    await ben.join(other)
    page = await open_room(session, ben, other)
    count = page.locator(f"#mentions-{room}")
    await expect(count).to_have_text("")
    await ana.say(room, f"@{ben.username} can you look?")
    await expect(count).to_have_text(", 1 mention")
    await expect(page.locator("#mentions-link")).to_contain_text("1 unread")
    # Its name says it in one breath, with the unread count.
    link = page.locator(f"#nav-room-{room} a")
    await expect(link).to_have_accessible_name(re.compile(r"^Counting, 1 unread ?, 1 mention$"))
    # Read in another tab: the count goes here too.
    reader = await open_room(session, ben, room)
    await expect(count).to_have_text("")
    await expect(page.locator("#mentions-link")).not_to_contain_text("unread")
    await session.discard(reader)
    # /mentions: the message, linked, and axe finds nothing wrong (narrow and wide).
    await ana.say(room, f"and again, @{ben.username}: **soon**")
    await expect(count).to_have_text(", 1 mention")
    for width, height in ((390, 844), (1280, 900)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto("/mentions")
        await expect(page.locator("h1")).to_have_text("Mentions and replies")
        await axe(page, f"/mentions at {width}")
        await screenshot(page, f"mentions-{width}", SHOTS)
    await expect(page.locator(".mention-item").first).to_contain_text("Ana Lima mentioned you in Counting")
    await page.locator(".mention-item a", has_text="Open in Counting").first.click()
    await expect(page.locator("#messages > li[aria-current='true']")).to_contain_text("soon")


async def test_the_composer_suggests_people_by_keyboard(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Suggesting", "public")
    await ben.join(room)
    page = await open_room(session, ana, room)
    field = page.locator("#composer-body")
    await field.focus()
    await field.press_sequentially("hello @" + ben.username[:4])
    options = page.locator("#mention-options [role='option']")
    await expect(page.locator("#mention-options")).to_be_visible()
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("Ben Okafor")
    await expect(field).to_have_attribute("aria-activedescendant", await options.first.get_attribute("id"))
    await axe(page, "composer suggestions open")
    for width, height in ((390, 844), (1280, 900)):
        await page.set_viewport_size({"width": width, "height": height})
        await screenshot(page, f"mention-suggestions-{width}", SHOTS)
    # Escape closes; nothing sent, the text kept.
    await field.press("Escape")
    await expect(page.locator("#mention-options")).to_be_hidden()
    # Typing on opens it again; Tab takes the option (Enter would too) and sends nothing.
    await field.press_sequentially(ben.username[4:5])
    await expect(page.locator("#mention-options")).to_be_visible()
    await field.press("ArrowDown")
    await field.press("Tab")
    await expect(field).to_have_value(f"hello @{ben.username} ")
    await expect(field).to_be_focused()
    await expect(page.locator("#mention-options")).to_be_hidden()
    # Closed: Enter sends as ever.
    await field.press_sequentially("there")
    await field.press("Enter")
    await expect(page.locator("#messages > li").last).to_contain_text(f"hello @{ben.username} there")
    mention = page.locator("#messages > li").last.locator("a.mention")
    await expect(mention).to_have_attribute("href", f"/users/{ben.username}")


async def _count_is(tabs, n: int) -> bool:
    return len(await notes(*tabs)) == n


async def test_a_notification_fires_only_while_hidden_and_once_across_two_tabs(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Notifying", "public")
    await ben.join(room)
    context = await session.context()
    await context.grant_permissions(["notifications"])
    await context.add_cookies([{"name": n, "value": v, "url": session.base_url} for n, v in ben.cookies.items()])
    await context.add_init_script(CAPTURE)
    tabs = []
    for path in (f"/rooms/{room}", "/rooms"):
        tab = await context.new_page()
        await tab.goto(path)
        await expect(tab.locator("html.stream-open")).to_have_count(1)
        await expect(tab.locator("#notify-optin")).to_contain_text("Browser notifications are on")
        tabs.append(tab)
    # Visible: nothing.
    await ana.say(room, f"@{ben.username} are you there?")
    # Arrived (the room's tab, visible, may read the mention at once: its count is no witness).
    await expect(tabs[0].locator("#messages > li").last).to_contain_text("are you there?")
    await tabs[0].wait_for_timeout(800)
    assert await notes(*tabs) == []
    # Both hidden: one notification, not two.
    for tab in tabs:
        await tab.evaluate("window.__hidden = true")
    await ana.say(room, f"@{ben.username} now?")
    await wait_until(lambda: notes(*tabs), what="a notification")
    await tabs[0].wait_for_timeout(800)  # the other tab had its chance to show one too
    shown = await notes(*tabs)
    assert len(shown) == 1, shown
    assert shown[0]["title"] == "Ana Lima mentioned you in Notifying" and shown[0]["body"].endswith("now?")
    # At level "mentions" (the default here) a message without a mention is quiet.
    await ana.say(room, "just chatting")
    await tabs[0].wait_for_timeout(800)
    assert len(await notes(*tabs)) == 1
    # Do not disturb, turned on elsewhere (another device), reaches the open tabs at once.
    assert (await ben.post("/settings", {"announce": "all", "do_not_disturb": "1"})).status_code == 303
    for tab in tabs:
        await expect(tab.locator("#do-not-disturb-state")).to_have_attribute("value", "on")
    await ana.say(room, f"@{ben.username} quiet please")
    await tabs[0].wait_for_timeout(800)
    assert len(await notes(*tabs)) == 1
    assert (await ben.post("/settings", {"announce": "all"})).status_code == 303
    for tab in tabs:
        await expect(tab.locator("#do-not-disturb-state")).to_have_attribute("value", "off")
    # The room set to every message on another device: these tabs notify of one at once.
    assert (await ben.post(f"/rooms/{room}/notifications", {"level": "all"})).status_code == 303
    for tab in tabs:
        await expect(tab.locator(f"#nav-room-{room}")).to_have_attribute("data-notify", "all")
    await ana.say(room, "lunch is ready")
    await wait_until(lambda: _count_is(tabs, 2), timeout=10, what="a notification of a plain message")
    assert [n["title"] for n in await notes(*tabs)].count("New message in Notifying") == 1
    assert (await ben.post(f"/rooms/{room}/notifications", {"level": "mentions"})).status_code == 303
    for tab in tabs:
        await expect(tab.locator(f"#nav-room-{room}")).to_have_attribute("data-notify", "mentions")
    # One tab visible again: nothing, though the other is hidden.
    await tabs[1].evaluate("window.__hidden = false")
    await ana.say(room, f"@{ben.username} once more")
    await tabs[0].wait_for_timeout(800)
    assert len(await notes(*tabs)) == 2
    # Clicking the notification focuses its tab and opens the room at that message.
    # (The tab that showed it: each notification is shown by whichever tab heard it first.)
    [(showing, index)] = [(tab, i) for tab in tabs
                          for i, note in enumerate(await tab.evaluate("window.__notes")) if note["body"].endswith("now?")]
    async with showing.expect_navigation(url=re.compile(rf"/rooms/{room}/messages/\d+$")):
        await showing.evaluate(f"sessionStorage.removeItem('focused'); window.__shown[{index}].onclick()")
    assert await showing.evaluate("sessionStorage.getItem('focused')") == "yes"
    current = showing.locator("#messages > li[aria-current='true']")
    await expect(current).to_contain_text("now?")
    assert await current.get_attribute("id") == "m-" + showing.url.rsplit("/", 1)[1]


async def test_keyboard_journey_over_levels_notifications_and_mentions(session: Session):
    """By keys alone: the room's notification level, the opt-in button (the browser is asked only
    then, never on opening the page), and the mentions link to /mentions and on to the message."""
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Keyed levels", "public")
    await ben.join(room)
    other = await ana.create_room("Keyed elsewhere", "public")
    await ben.join(other)
    page = await session.page(ben)
    await page.context.add_init_script(NOT_ASKED_YET)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await expect(page.locator("#composer-body")).to_be_focused()
    optin = page.locator("#notify-optin button")
    await expect(optin).to_have_text("Turn on browser notifications")
    assert await page.evaluate("window.__asked") == 0, "asked for notifications on opening the page"
    # The level: Tab reaches the checked choice (the default here), an arrow key picks another,
    # Tab on to Save, Enter saves; focus stays on Save, not at the top of the page.
    await tab_to(page, f"#notify-{room}-mentions", where="the room's notification level")
    await press(page, "ArrowUp", "level: all messages")
    await expect(page.locator(f"#notify-{room}-all")).to_be_checked()
    await tab_to(page, "#notify-form button[type=submit]", limit=3, where="Save notifications")
    await press(page, "Enter", "save the level")
    await expect(page.locator("#notify-form .notify-saved")).to_have_text("Saved: all messages.")
    await expect(page.locator("#notify-form button[type=submit]"), "focus stays on Save").to_be_focused()
    # On from Save to the opt-in button; Enter asks the browser, once.
    await tab_to(page, "#notify-optin button", limit=3, where="Turn on browser notifications")
    await press(page, "Enter", "turn notifications on")
    await expect(page.locator("#notify-optin")).to_contain_text("Browser notifications are on")
    assert await page.evaluate("window.__asked") == 1
    info = await focused(page)
    assert info is not None and info["tag"] != "body", "focus fell to the top of the page"
    # A mention elsewhere: the mentions link counts it; Enter opens /mentions, then the message.
    await ana.say(other, f"@{ben.username} over here, by keys")
    await expect(page.locator("#mentions-link")).to_contain_text("1 unread")
    await tab_to(page, "#mentions-link a", backwards=True, limit=200, where="Mentions and replies")
    async with page.expect_navigation(url="**/mentions"):
        await page.keyboard.press("Enter")
    await expect(page.locator(".mention-item.unseen")).to_have_count(1)
    await tab_to(page, ".mention-item a[href*='/messages/']", where="the mention's link")
    async with page.expect_navigation(url=f"**/rooms/{other}/messages/*"):
        await page.keyboard.press("Enter")
    current = page.locator("#messages > li[aria-current='true']")
    await expect(current).to_contain_text("over here, by keys")
    await expect(current).to_be_focused()
