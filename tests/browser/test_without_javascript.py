"""Without JavaScript: the keyboard test's journey, done with links and form posts only.

JavaScript is off in the browser context, so htmx, the event stream and webchat.js never run:
every step is a full page load (post, redirect, get). Enter-to-send and keeping focus in the
composer are script features and do not apply (DESIGN.md, "Clarifications of the issues").
"""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import PASSWORD, Session


async def test_journey_with_form_posts_only(session: Session):
    name = unique("nojs")
    page = await session.page(java_script_enabled=False)

    # Register.
    await page.goto("/")
    await page.locator("main").get_by_role("link", name="Create an account").click()
    await expect(page).to_have_url(re.compile(r"/register$"))
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Display name (optional)").fill("No Script")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/rooms$"))
    assert await page.locator(f'body[data-user="{name}"]').count() == 1

    # Create a room.
    await page.get_by_label("Room name").fill("Plain forms")
    await page.get_by_role("button", name="Create room").click()
    await expect(page).to_have_url(re.compile(r"/rooms/\d+$"))
    room = int(page.url.rsplit("/", 1)[1])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Plain forms")
    assert await page.locator("html.stream-open").count() == 0  # no script, no stream

    # An empty message is refused with the form shown again and an error summary linking to it.
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await expect(page.locator('#error-summary a[href="#composer-body"]')).to_be_visible()
    await expect(page.locator("#composer-body")).to_have_attribute("aria-invalid", "true")

    # Someone else fills the room with history.
    ben = await session.user(unique("ben"), "Ben Okafor")
    await ben.post(f"/rooms/{room}/join")
    for i in range(60):
        await ben.say(room, f"Backlog message {i}")

    # Send, with a line break.
    await page.get_by_label("Your message").fill("First line\nsecond line")
    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}#m-\d+$"))
    mine = page.locator(f'#messages > li[data-author="{name}"]')
    await expect(mine).to_have_count(1)
    await expect(mine.locator(".body br")).to_have_count(1)
    message = await mine.get_attribute("id")
    # The newest of Ben's backlog is there too: the page shows what happened meanwhile.
    await expect(page.locator("#messages > li", has_text="Backlog message 59")).to_have_count(1)

    # "Check for new messages" (shown only without a live stream) brings in what others said.
    await ben.say(room, "Ben says something new")
    await page.get_by_role("link", name="Check for new messages").click()
    await expect(page.locator("#messages > li", has_text="Ben says something new")).to_have_count(1)

    # Edit: the link leads to the edit page; saving comes back to the room.
    await page.locator(f"#{message} details.msg-actions > summary").click()  # a <details>: no script needed
    await page.locator(f"#{message}").get_by_role("link", name=re.compile("Edit or delete")).click()
    await expect(page).to_have_url(re.compile(r"/messages/\d+/edit$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Edit or delete your message")
    await page.get_by_label("Edit your message").fill("First line, edited")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}#{message}$"))
    await expect(page.locator(f"#{message} .body")).to_have_text("First line, edited")
    await expect(page.locator(f"#{message} .edited")).to_be_visible()

    # An empty edit is refused on the edit page, which keeps the form.
    await page.locator(f"#{message} details.msg-actions > summary").click()  # a <details>: no script needed
    await page.locator(f"#{message}").get_by_role("link", name=re.compile("Edit or delete")).click()
    await page.get_by_label("Edit your message").fill("  ")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await expect(page.get_by_label("Edit your message")).to_have_attribute("aria-invalid", "true")

    # Delete, from the same page: a link to the question, asked once on a page of its own.
    await page.get_by_role("link", name="Delete this message…").click()
    await expect(page).to_have_url(re.compile(r"/messages/\d+/delete$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Delete this message?")
    # "Cancel" goes back to the room with the message as it was.
    await page.get_by_role("link", name="Cancel and go back to the room").click()
    await expect(page.locator(f"#{message} .body")).to_have_text("First line, edited")
    await page.locator(f"#{message} details.msg-actions > summary").click()  # a <details>: no script needed
    await page.locator(f"#{message}").get_by_role("link", name=re.compile("Edit or delete")).click()
    await page.get_by_role("link", name="Delete this message…").click()
    await page.get_by_role("button", name="Delete message").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}#{message}$"))
    await expect(page.locator(f"#{message} .tombstone")).to_have_text("Message deleted")

    # Page back through history: a page of older messages, then back to the room.
    await page.get_by_role("link", name="Show older messages").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}/messages\?before=\d+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Older messages in Plain forms")
    await expect(page.locator("#messages > li").first).to_contain_text("Backlog message 0")
    await expect(page.locator("#older")).to_have_text("This is the start of the conversation.")
    await page.get_by_role("link", name="Back to the room").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}$"))

    # Open a direct room by a display name that two people have: the form comes back with each
    # of them to choose from, by @username. (A name of this test's own: the session's server has
    # many a "Ben Okafor".)
    twin_name = f"Tess {unique('twin')}"
    tess = await session.user(unique("tess"), twin_name)
    await session.user(unique("tess"), twin_name)
    await page.locator("header").get_by_role("link", name="Rooms").click()
    await page.get_by_label("Their name or username").fill(twin_name)
    await page.get_by_role("button", name="Open direct messages").click()
    await expect(page.locator("#error-summary")).to_contain_text("choose from the list below")
    await expect(page.locator(".candidates li")).to_have_count(2)
    await expect(page.get_by_label("Their name or username")).to_have_value(twin_name)
    await page.get_by_role("button", name=f"Message {twin_name} @{tess.username}").click()
    await expect(page).to_have_url(re.compile(r"/rooms/\d+$"))
    assert int(page.url.rsplit("/", 1)[1]) != room
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Direct: {twin_name}")
    # And by a display name only one person has (Ben's username, written as "@name", too).
    await page.locator("header").get_by_role("link", name="Rooms").click()
    await page.get_by_label("Their name or username").fill(f"@{ben.username}")
    await page.get_by_role("button", name="Open direct messages").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ben Okafor")
    await page.get_by_label("Your message").fill("Hi Ben, no script here")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#messages > li")).to_have_count(1)

    # Sign out.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    assert await page.locator("body[data-user]").count() == 0
