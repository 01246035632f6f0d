"""Screenshots of the main pages, light and dark, wide (1280x800) and narrow (320x640).

Every run takes them (so the test proves every page renders in every scheme and size), into a
temporary folder: a test run leaves the working tree as it was. `WEBCHAT_SCREENSHOTS=1` writes
them to docs/screenshots/ instead (named in the README), so anyone can look at the product without
running it: `WEBCHAT_SCREENSHOTS=1 scripts/test tests/browser/test_screenshots.py`. Each is a PNG
of the viewport (what a person sees first), not the full page. The data is made on a server of its
own, so the names in the pictures are plain ("Ana Lima").
"""

from __future__ import annotations

import re
from pathlib import Path


from playwright.async_api import Page, expect

from tests.browser.support import NARROW, ROOT, SCREENSHOTS, WIDE, Session, open_actions, screenshot

SIZES = {"wide": WIDE, "narrow": {"width": NARROW["width"], "height": 640}}
SCHEMES = ("light", "dark")

GUILD_NEWS = [
    "New this week: the forced colours checklist is ready for review.",
    "Two volunteers for the screen reader test session on Thursday, please.",
    "Welcome to everyone who joined this week! Start with the reading list in the topic.",
]

CONVERSATION = [
    ("ben", "Morning! Did everyone see the new design for the settings page?"),
    ("ana", "Yes, it reads much better with a screen reader now."),
    ("cleo", "The error summary links straight to each field, which saves a lot of hunting."),
    ("ben", "Notes are here: https://example.org/design/settings-review"),
    ("ana", "Two things from me:\n1. the focus outline is clearer in dark mode\n2. it works at 400 % zoom"),
    ("cleo", "@ana could you check it with forced colours too?"),
    ("ana", "Will do after lunch."),
]


async def to_bottom(page: Page) -> None:
    """Scroll so that the newest messages, the typing line and the composer are in view (the
    room opens so; this makes sure, after the typing line appeared)."""
    await page.evaluate("""() => {
      const log = document.getElementById('history');
      log.scrollTop = log.scrollHeight;
      document.getElementById('composer').scrollIntoView({block: 'end'});
    }""")


async def test_screenshots(session: Session, fresh_server, screenshot_folder: Path):
    server = fresh_server()
    own = Session(session.browser, server.url)
    try:
        # Dora is new in the guild, which opens for her at "New messages" (once per picture: opening
        # a room reads it, so there is one Dora for each).
        doras = [await own.user(f"dora{n}", "Dora Reyes") for n in range(len(SIZES) * len(SCHEMES))]
        ana = await own.user("ana", "Ana Lima")
        ben = await own.user("ben", "Ben Okafor")
        cleo = await own.user("cleo", "Cleo Martin")
        people = {"ana": ana, "ben": ben, "cleo": cleo}
        room = await ana.create_room("Design review", "public")
        for who in (ben, cleo):
            await who.post(f"/rooms/{room}/join")
        for who, body in CONVERSATION:
            await people[who].say(room, body)
        standup = await ben.create_room("Stand-up", "public")
        await ana.post(f"/rooms/{standup}/join")
        for i in range(3):
            await ben.say(standup, f"Update {i + 1}")
        guild = await cleo.create_room("Accessibility guild", "public")
        for i in range(30):
            await cleo.say(guild, f"Earlier in the guild, note {i + 1}")
        for dora in doras:
            await dora.post(f"/rooms/{guild}/join")
        for body in GUILD_NEWS:
            await cleo.say(guild, body)
        eli = await own.user("eli", "Eli Novak")  # just registered, in no room yet
        await ben.post("/dm", {"username": "ana"})
        page_html = (await ana.page(f"/rooms/{room}")).text
        own_message = max(int(n) for n in re.findall(r'<li id="m-(\d+)"[^>]*data-author="ana"', page_html))

        # Ben has the room open, so he is "here now"; before each picture of the room he signals
        # typing again (it lasts 6 s), so Ana's page says "Ben Okafor is typing…".
        ben_page = await own.page(ben)
        await ben_page.goto(f"/rooms/{room}")
        await expect(ben_page.locator("html.stream-open")).to_have_count(1)

        written = []
        for size_name, viewport in SIZES.items():
            for scheme in SCHEMES:
                suffix = f"{scheme}-{size_name}"
                opts = {"viewport": viewport, "color_scheme": scheme, "timezone_id": "UTC", "locale": "en-GB"}
                anon = await own.page(**opts)
                await anon.goto("/")
                written.append(await screenshot(anon, f"landing-{suffix}", screenshot_folder))
                await anon.goto("/login")
                await anon.get_by_label("Username").fill("ana")
                await anon.get_by_label("Password").fill("not the password")
                await anon.get_by_role("button", name="Sign in", exact=True).click()
                await expect(anon.locator("#error-summary")).to_be_visible()
                written.append(await screenshot(anon, f"sign-in-errors-{suffix}", screenshot_folder))

                page = await own.page(ana, **opts)
                await page.goto("/rooms")
                await expect(page.locator(f"#unread-{standup}")).to_have_text("3 unread")
                written.append(await screenshot(page, f"room-list-{suffix}", screenshot_folder))

                await page.goto(f"/rooms/{room}")
                await expect(page.locator("html.stream-open")).to_have_count(1)
                await ben.post(f"/rooms/{room}/typing", htmx=True)
                await expect(page.locator("#typing")).to_have_text("Ben Okafor is typing…")
                await expect(page.locator("#presence")).to_contain_text("Ben Okafor")
                await to_bottom(page)
                written.append(await screenshot(page, f"room-{suffix}", screenshot_folder))

                await page.goto(f"/rooms/{room}/messages/{own_message}/edit")
                await expect(page.locator(".message-source time[data-local]")).not_to_contain_text("UTC")
                written.append(await screenshot(page, f"edit-{suffix}", screenshot_folder))

                # Deleting asks first, in place.
                await page.goto(f"/rooms/{room}")
                await expect(page.locator("html.stream-open")).to_have_count(1)
                await open_actions(page.locator(f"#m-{own_message}"))
                await page.locator(f"#m-{own_message} .act-own").click()
                await page.get_by_role("link", name="Delete this message…").click()
                await expect(page.locator("button.confirm-delete")).to_be_focused()
                await page.locator(f"#m-{own_message}").scroll_into_view_if_needed()
                written.append(await screenshot(page, f"delete-question-{suffix}", screenshot_folder))

                if size_name == "narrow":  # the rooms, folded behind "Your rooms"
                    await page.goto(f"/rooms/{room}")
                    await page.get_by_role("button", name="Your rooms").click()
                    await expect(page.locator("#room-nav")).to_be_visible()
                    written.append(await screenshot(page, f"room-rooms-open-{suffix}", screenshot_folder))

                await page.goto("/people")
                written.append(await screenshot(page, f"people-{suffix}", screenshot_folder))

                # Dora, new here, opens the guild at what she has not read yet.
                newcomer = await own.page(doras.pop(), **opts)
                await newcomer.goto(f"/rooms/{guild}")
                await expect(newcomer.locator("#new-messages")).to_be_visible()
                written.append(await screenshot(newcomer, f"room-unread-{suffix}", screenshot_folder))
                welcome = await own.page(eli, **opts)
                await welcome.goto("/rooms")
                await expect(welcome.get_by_role("heading", name="Welcome to webchat, Eli Novak")).to_be_visible()
                written.append(await screenshot(welcome, f"welcome-{suffix}", screenshot_folder))
                await own.discard(page, anon, newcomer, welcome)
    finally:
        await own.close()

    assert len(written) == 38
    if screenshot_folder != SCREENSHOTS:  # not asked for: nothing in the checkout was touched
        assert all(ROOT not in path.parents for path in written), written
    for path in written:
        assert path.parent == screenshot_folder and path.stat().st_size > 2000, path
        assert path.stat().st_size < 400_000, f"{path.name} is too big for the repository"
