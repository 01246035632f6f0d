"""The pages of running a community (administration, room settings and moderation, reports,
invitations, profiles and account settings): no axe violation in either colour scheme, with and
without errors shown; and the administrator's and the moderator's work done with the keyboard
alone. A server of its own, so that the first account is the administrator."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Audit, Session, press, tab_to


async def _world(session: Session):
    admin = await session.user("root-" + unique("a"), "Ada Admin")  # the first account: the administrator
    ben = await session.user(unique("ben"), "Ben Okafor")
    cleo = await session.user(unique("cleo"), "Cleo Moreau")
    room = await admin.create_room("Harbour", "public")
    for person in (ben, cleo):
        await person.post(f"/rooms/{room}/join")
    await cleo.say(room, "a message worth reporting")
    await ben.post(f"/rooms/{room}/messages/{await _last_message(ben, room)}/report", {"reason": "rude"})
    return admin, ben, cleo, room


async def _last_message(user, room: int) -> int:
    page = await user.page(f"/rooms/{room}")
    return int(re.findall(r'<li id="m-(\d+)"', page.text)[-1])


async def test_every_new_page_passes_axe(session: Session, fresh_server):
    server = fresh_server()
    own = Session(session.browser, server.url)
    try:
        audit = Audit()
        admin, ben, cleo, room = await _world(own)
        page = await own.page(admin)
        for path, state in (("/admin", "admin overview"), ("/admin/users", "admin users"),
                            ("/admin/rooms", "admin rooms"), ("/admin/invites", "admin invitations"),
                            ("/admin/reports", "admin reports"), ("/admin/audit", "admin audit log"),
                            (f"/admin/rooms/{room}/delete", "admin delete room"),
                            (f"/rooms/{room}/delete", "delete room (owner)"),
                            (f"/rooms/{room}/settings", "room settings (owner)"),
                            (f"/users/{ben.username}", "profile of someone else"),
                            (f"/users/{admin.username}", "own profile"), ("/settings", "settings"),
                            ("/settings/profile", "edit profile"), ("/settings/password", "change password"),
                            ("/settings/delete", "delete account")):
            response = await page.goto(path)
            assert response.status == 200, path
            await audit.check(page, state)

        # Forms with their errors shown.
        await page.goto("/admin")
        await page.get_by_label("Site name").fill("")
        await page.get_by_role("button", name="Save site settings").click()
        await expect(page.locator("#error-summary")).to_be_visible()
        await audit.check(page, "admin overview, with errors")
        await page.goto("/admin/invites")
        await page.get_by_label("Valid for how many days").fill("0")
        await page.get_by_role("button", name="Make link").click()
        await expect(page.locator("#error-summary")).to_be_visible()
        await audit.check(page, "admin invitations, with errors")
        await page.get_by_label("Valid for how many days").fill("7")
        await page.get_by_role("button", name="Make link").click()
        await expect(page.get_by_label("Invitation link", exact=True)).to_have_value(re.compile(r"/join/"))
        await audit.check(page, "admin invitations, a new link shown once")
        await page.goto(f"/admin/users?q={ben.username}")
        await page.get_by_role("button", name=f"Password-reset link for @{ben.username}").click()
        await expect(page.get_by_label("Reset link", exact=True)).to_have_value(re.compile(r"/reset/"))
        await audit.check(page, "admin users, a reset link shown once")
        await page.goto("/settings/password")
        await page.get_by_role("button", name="Change password").click()
        await expect(page.locator("#error-summary")).to_be_visible()
        await audit.check(page, "change password, with errors")

        # The member's side: reporting, a room they moderate, a profile they block.
        member = await own.page(ben)
        await member.goto(f"/rooms/{room}/messages/{await _last_message(ben, room)}/report")
        await member.get_by_role("button", name="Send the report").click()
        await expect(member.locator("#error-summary")).to_be_visible()
        await audit.check(member, "report a message, with errors")
        await admin.post(f"/rooms/{room}/moderators", {"username": ben.username})
        await member.goto(f"/rooms/{room}/settings")
        await audit.check(member, "room settings (moderator)")
        await member.goto(f"/users/{cleo.username}")
        await member.get_by_role("button", name="Block Cleo Moreau").click()
        await expect(member.get_by_role("button", name="Unblock Cleo Moreau")).to_be_visible()
        await member.goto(f"/rooms/{room}")
        # Folded by the page itself (a <details>, which works without script).
        fold = member.locator("#messages summary", has_text="Show message from blocked user")
        await expect(fold).to_be_visible()
        await audit.check(member, "room with a message from a blocked user, folded")
        await fold.click()
        await expect(member.get_by_text("a message worth reporting").first).to_be_visible()

        # A group conversation, opened from /dm by several usernames.
        opened = await ben.post("/dm", {"usernames": f"{admin.username} {cleo.username}"})
        assert opened.status_code == 303, opened.text
        await member.goto(opened.headers["location"])
        await expect(member.locator("#room-title")).to_contain_text("Group:")
        await audit.check(member, "group conversation")

        # Invitations made by members; registration by invitation only; the links as the
        # people they are sent to see them (signed out).
        saved = await admin.post("/admin/site", {"name": "webchat", "welcome": "Welcome aboard.",
                                                 "registration": "invite", "member_invites": "1"})
        assert saved.status_code == 303, saved.text
        await member.goto("/invites")
        await member.get_by_role("button", name="Make link").click()
        invitation = member.get_by_label("Invitation link", exact=True)
        await expect(invitation).to_have_value(re.compile(r"/join/"))
        await audit.check(member, "a member's invitations, a new link shown once")
        join = (await invitation.input_value()).split("/join/", 1)[1]
        assert (await admin.post(f"/admin/users/{cleo.username}/reset")).status_code == 303
        shown = await admin.page(f"/admin/users?q={cleo.username}")
        reset = re.search(r"/reset/([A-Za-z0-9_-]+)", shown.text).group(1)
        visitor = await own.page()
        await visitor.goto("/register")
        await audit.check(visitor, "registration by invitation only")
        await visitor.goto(f"/join/{join}")
        await audit.check(visitor, "an invitation link")
        await visitor.get_by_role("button", name="Create account").click()
        await expect(visitor.locator("#error-summary")).to_be_visible()
        await audit.check(visitor, "an invitation link, with errors")
        await visitor.goto(f"/reset/{reset}")
        await audit.check(visitor, "a password-reset link")
        audit.verify()
    finally:
        await own.close()


async def test_the_administrator_and_a_moderator_work_by_keyboard(session: Session, fresh_server):
    server = fresh_server()
    own = Session(session.browser, server.url)
    try:
        admin, ben, cleo, room = await _world(own)
        page = await own.page(admin)
        # Deactivate Cleo from the users page, by keyboard alone.
        await page.goto(f"/admin/users?q={cleo.username}")
        await tab_to(page, 'form[action$="/deactivate"] button', where="admin users: deactivate")
        await page.keyboard.press("Enter")  # submits: the page navigates
        await expect(page.get_by_role("button", name=f"Reactivate @{cleo.username}")).to_be_visible()
        assert (await cleo.page("/rooms")).status_code == 303  # signed out at once

        # Resolve the report.
        await page.goto("/admin/reports")
        await tab_to(page, 'form[action$="/resolve"] button', where="admin reports: resolve")
        await page.keyboard.press("Enter")  # submits: the page navigates
        await expect(page.get_by_text("No open reports.")).to_be_visible()

        # A moderator mutes someone: choose the time with the arrow keys, then the button.
        await admin.post(f"/rooms/{room}/moderators", {"username": ben.username})
        dora = await own.user(unique("dora"), "Dora Explorer")
        await dora.post(f"/rooms/{room}/join")
        moderator = await own.page(ben)
        await moderator.goto(f"/rooms/{room}/settings")
        await tab_to(moderator, f"#mute-{dora.username}", where="room settings: mute length")
        await press(moderator, "ArrowDown")
        await press(moderator, "Tab")
        await moderator.keyboard.press("Enter")  # submits: the page navigates
        await expect(moderator.locator(f"#member-{dora.username}")).to_contain_text("muted until")
        refused = await dora.say(room, "may I?", check=False)
        assert refused.status_code == 403 and "muted" in refused.text
    finally:
        await own.close()


async def test_a_member_reports_blocks_and_opens_a_group_by_keyboard(session: Session, fresh_server):
    server = fresh_server()
    own = Session(session.browser, server.url)
    try:
        admin, ben, cleo, room = await _world(own)
        page = await own.page(ben)
        # Report Cleo's message: from the composer back into the log, its actions menu, Report.
        await page.goto(f"/rooms/{room}")
        await expect(page.locator("#composer-body")).to_be_focused()
        await tab_to(page, "#messages > li", backwards=True, limit=4, where="room: the log")
        await press(page, "End", "the newest message")
        await tab_to(page, "#messages > li:last-child details.msg-actions > summary", limit=1,
                     where="the message's actions")
        await press(page, "Enter", "its actions menu")
        await press(page, "End", "its last action: Report")
        await expect(page.locator("#messages > li:last-child a.act-report")).to_be_focused()
        await page.keyboard.press("Enter")  # follows the link: the page navigates
        await expect(page).to_have_url(re.compile(r"/report$"))
        await tab_to(page, "#report-reason", where="report: the reason")
        await page.keyboard.type("unkind")
        await tab_to(page, "main button[type=submit]", where="report: send")
        await page.keyboard.press("Enter")
        await expect(page.locator("#flash")).to_contain_text("the message was reported")

        # Block Cleo on her profile.
        await page.goto(f"/users/{cleo.username}")
        await tab_to(page, 'form[action$="/block"] button', where="profile: block")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("button", name="Unblock Cleo Moreau")).to_be_visible()

        # A group conversation from the list of rooms, by usernames.
        await page.goto("/rooms")
        await tab_to(page, "#group-usernames", where="rooms: the group's usernames")
        await page.keyboard.type(f"{admin.username}, {cleo.username}")
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/rooms/\d+$"))
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Group:")
        await expect(page.locator("#composer-body")).to_be_focused()
    finally:
        await own.close()
