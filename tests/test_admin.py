"""Site administration: the first account runs the site, /admin is for administrators only, and
each thing done there (users, password-reset links, rooms, site settings) works and is in the
audit log. On SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.helpers.browser import PASSWORD
from tests.test_operations import run_webchat
from webchat.models import AuditEntry, Message, PasswordReset, Room, User

LINK = re.compile(r'value="(https?://[^"]+/(?:reset|join)/[^"]+)"')


async def made_link(admin, action: str) -> str:
    """Post the form that makes a link; the page it redirects to shows the link, once."""
    made = await admin.post(action, {"days": "7", "uses": "1"} if action.endswith("invites") else None)
    assert made.status == 303, made.text
    page = await admin.get(made.location)
    link = LINK.search(page.text).group(1)
    assert LINK.search((await admin.get(made.location)).text) is None  # shown once
    return "/" + link.split("//", 1)[1].split("/", 1)[1]


async def actions() -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in await AuditEntry.all().order_by("id")]


async def test_the_first_account_runs_the_site_and_only_administrators_see_admin(ana, ben, browser_factory):
    assert (await User.get(username="ana")).is_admin
    assert not (await User.get(username="ben")).is_admin
    page = await ana.get("/admin")
    assert page.status == 200 and "<h1>Administration</h1>" in page.text
    assert 'href="/admin"' in (await ana.get("/rooms")).text  # the header links to it
    assert 'href="/admin"' not in (await ben.get("/rooms")).text
    for path in ("/admin", "/admin/users", "/admin/rooms", "/admin/audit", "/admin/invites", "/admin/reports"):
        assert (await ben.get(path)).status == 403, path
        assert (await ana.get(path)).status == 200, path
    stranger = browser_factory()
    assert (await stranger.get("/admin")).location.startswith("/login?next=/admin")
    assert ("admin.grant", "@ana") in await actions()


async def test_promote_and_demote_but_never_the_last_administrator(ana, ben):
    assert (await ana.post("/admin/users/ben/promote")).status == 303
    assert (await User.get(username="ben")).is_admin
    assert (await ben.get("/admin")).status == 200
    assert (await ben.post("/admin/users/ana/demote")).status == 303
    refused = await ben.post("/admin/users/ben/demote")  # the last one left
    assert refused.status == 409 and "last administrator" in refused.text
    assert (await User.get(username="ben")).is_admin
    assert ("admin.grant", "@ben") in await actions() and ("admin.revoke", "@ana") in await actions()
    assert (await ana.get("/admin")).status == 403  # no longer


def test_command_line_grants_and_revokes(sqlite_url, tmp_path):
    import asyncio

    from webchat import db

    async def make(*names):
        await db.open_database(sqlite_url)
        for name in names:
            await User.create(username=name, username_key=name, display_name=name, password_hash="x")
        await db.close_database()

    async def admins():
        await db.open_database(sqlite_url)
        try:
            return sorted(await User.filter(is_admin=True).values_list("username", flat=True)), \
                [(e.actor_name, e.action, e.target) for e in await AuditEntry.all().order_by("id")]
        finally:
            await db.close_database()

    asyncio.run(make("ana", "ben"))
    env = {"DATABASE_URL": sqlite_url, "WEBCHAT_INSTANCE": str(tmp_path)}
    result = run_webchat(["admin", "grant", "Ben"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "@ben is an administrator" in result.stdout
    assert asyncio.run(admins()) == (["ben"], [("command line", "admin.grant", "@ben")])
    assert run_webchat(["admin", "revoke", "ben"], env, tmp_path).returncode == 1  # the last one
    assert run_webchat(["admin", "grant", "ana"], env, tmp_path).returncode == 0
    assert run_webchat(["admin", "revoke", "ben"], env, tmp_path).returncode == 0
    assert asyncio.run(admins())[0] == ["ana"]
    missing = run_webchat(["admin", "grant", "nobody"], env, tmp_path)
    assert missing.returncode == 1 and "no account" in missing.stderr
    assert run_webchat(["admin", "promote", "ana"], env, tmp_path).returncode == 2


async def test_deactivation_ends_sessions_keeps_messages_and_hides_the_person(ana, ben, cleo, browser_factory):
    room = await ana.create_room("Lobby")
    assert (await ben.post(f"/rooms/{room}/join")).status == 303
    await ben.say(room, "ben was here")
    other_browser = browser_factory()
    assert (await other_browser.login("ben")).status == 303
    assert (await cleo.post(f"/rooms/{room}/join")).status == 303
    mention = f"/rooms/{room}/members/suggest?q=be"
    assert "@ben" in (await cleo.get(mention, htmx=True)).text

    page = await ana.post("/admin/users/ben/deactivate")
    assert page.status == 303
    for browser in (ben, other_browser):  # every session, at its next request
        assert (await browser.get("/rooms")).location.startswith("/login")
    again = await browser_factory().login("ben")
    assert again.status == 403 and "deactivated" in again.text
    wrong = await browser_factory().login("ben", password="not the password")
    assert wrong.status == 401 and "deactivated" not in wrong.text  # tells a stranger nothing
    # Messages stay, under the person's name.
    assert "ben was here" in (await cleo.get(f"/rooms/{room}")).text
    # Nobody finds them to message or add.
    assert "@ben" not in (await cleo.get("/people/suggest?q=be", htmx=True)).text
    assert "@ben" not in (await cleo.get(mention, htmx=True)).text  # nor to mention in a room
    assert (await cleo.post("/dm", {"username": "ben"})).status == 422
    assert ("user.deactivate", "@ben") in await actions()
    listed = await ana.get("/admin/users?state=deactivated")
    assert "@ben" in listed.text and "Reactivate" in listed.text

    assert (await ana.post("/admin/users/ben/reactivate")).status == 303
    assert (await browser_factory().login("ben")).status == 303
    assert ("user.reactivate", "@ben") in await actions()
    assert (await ana.post("/admin/users/ana/deactivate")).status == 409  # not yourself


async def test_user_search_finds_by_name_and_pages(ana, browser_factory):
    for n in range(55):
        await User.create(username=f"user{n:02d}", username_key=f"user{n:02d}", display_name=f"Person {n}",
                          password_hash="x")
    first = await ana.get("/admin/users?q=user")
    assert first.text.count("<tr>") == 51  # header + 50
    assert "Next page" in first.text
    second = await ana.get("/admin/users?q=user&page=2")
    assert second.text.count("<tr>") == 6 and "Previous page" in second.text
    named = await ana.get("/admin/users?q=Person+7")
    assert "@user07" in named.text and "@user08" not in named.text
    for odd in ("/admin/users?page=0", "/admin/users?page=abc", "/admin/users?page=99999999999",
                "/admin/users?q=%00", "/admin/users?state=nonsense"):
        assert (await ana.get(odd)).status == 200, odd


async def test_password_reset_link_works_once_and_signs_out_everywhere(ana, ben, browser_factory):
    path = await made_link(ana, "/admin/users/ben/reset")
    assert ("user.reset_link", "@ben") in await actions()
    # The token is not stored, only its hash.
    token = path.rsplit("/", 1)[1]
    assert token not in str([r.token_hash for r in await PasswordReset.all()])

    visitor = browser_factory()  # not signed in
    form = await visitor.get(path)
    assert form.status == 200 and "@ben" in form.text
    short = await visitor.post(path, {"password": "short"})
    assert short.status == 422 and 'href="#new-password"' in short.text
    done = await visitor.post(path, {"password": "a brand new secret"})
    assert done.status == 303 and done.location == "/login"
    assert (await ben.get("/rooms")).location.startswith("/login")  # the old session is over
    assert (await browser_factory().login("ben", "a brand new secret")).status == 303
    assert (await browser_factory().login("ben", PASSWORD)).status == 401
    assert (await visitor.get(path)).status == 404  # once only
    assert (await visitor.post(path, {"password": "another new secret"})).status == 404


async def test_password_reset_link_expires_and_a_new_one_replaces_it(ana, ben, browser_factory):
    first = await made_link(ana, "/admin/users/ben/reset")
    second = await made_link(ana, "/admin/users/ben/reset")
    visitor = browser_factory()
    assert (await visitor.get("/reset/" + first.rsplit("/", 1)[1])).status == 404
    assert (await visitor.get("/reset/" + second.rsplit("/", 1)[1])).status == 200
    await PasswordReset.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert (await visitor.get("/reset/" + second.rsplit("/", 1)[1])).status == 404
    assert (await visitor.get("/reset/" + "x" * 500)).status == 404


async def test_site_name_and_welcome_message(ana, browser_factory):
    page = await ana.post("/admin/site", {"name": "Harbour Club", "welcome": "Be kind.\nSay hello in Lobby.",
                                          "registration": "open"})
    assert page.status == 303
    newcomer = browser_factory()
    await newcomer.register("nina", "Nina")
    rooms = await newcomer.get("/rooms")
    assert '<p class="brand">Harbour Club</p>' in rooms.text
    assert "Be kind.\nSay hello in Lobby." in rooms.text
    assert "Harbour Club" in (await browser_factory().get("/login")).text
    # A member of long standing is not greeted again.
    await User.filter(username="nina").update(created_at=datetime.now(UTC) - timedelta(days=30))
    assert "Be kind." not in (await newcomer.get("/rooms")).text
    bad = await ana.post("/admin/site", {"name": "", "welcome": "x" * 2001, "registration": "sometimes"})
    assert bad.status == 422
    for field in ("site-name", "site-welcome", "registration-open"):
        assert f'href="#{field}"' in bad.text
    assert ("site.update", "site settings") in await actions()


async def test_rooms_overview_archive_and_delete(ana, ben):
    busy = await ana.create_room("Busy room")
    quiet = await ana.create_room("Quiet room", "private")
    assert (await ben.post(f"/rooms/{busy}/join")).status == 303
    for n in range(3):
        await ana.say(busy, f"message {n}")
    overview = await ana.get("/admin/rooms")
    assert overview.text.index("Busy room") < overview.text.index("Quiet room")  # busiest first
    row = overview.text[overview.text.index("Busy room"):].split("</tr>")[0]
    assert "<td>2</td>" in row and "<td>3</td>" in row  # members, messages

    assert (await ana.post(f"/admin/rooms/{busy}/archive")).status == 303
    refused = await ben.say(busy, "still here?")
    assert refused.status == 403 and "archived" in refused.text
    assert (await ben.get(f"/rooms/{busy}")).status == 200  # still readable
    assert (await ana.post(f"/admin/rooms/{busy}/unarchive")).status == 303
    assert (await ben.say(busy, "back again")).status == 303

    wrong = await ana.post(f"/admin/rooms/{quiet}/delete", {"confirm": "quiet room"})
    assert wrong.status == 422 and 'href="#confirm-name"' in wrong.text
    assert await Room.exists(id=quiet)
    assert (await ana.post(f"/admin/rooms/{quiet}/delete", {"confirm": "Quiet room"})).status == 303
    assert not await Room.exists(id=quiet)
    assert (await ana.get(f"/rooms/{quiet}")).status == 404
    assert [a for a, _ in await actions() if a.startswith("room.")] == ["room.archive", "room.unarchive",
                                                                        "room.delete"]
    assert (await ana.post("/admin/rooms/999999/archive")).status == 404


async def test_audit_log_is_paged_and_filtered(ana, ben):
    for n in range(30):
        await ana.post("/admin/users/ben/promote")
        await ana.post("/admin/users/ben/demote")
    page = await ana.get("/admin/audit")
    assert page.text.count("<tr>") == 51 and "Older" in page.text
    older = await ana.get("/admin/audit?page=2")
    assert "Newer" in older.text
    only = await ana.get("/admin/audit?action=admin.revoke")
    assert "admin.grant</td>" not in only.text and only.text.count("admin.revoke</td>") == 30
    by = await ana.get("/admin/audit?who=nobody-like-this")
    assert "Nothing matches" in by.text
    on = await ana.get("/admin/audit?target=%40ben&action=admin.grant")
    assert on.text.count("admin.grant</td>") == 30
    assert (await ana.get("/admin/audit?action=%00&who=%00&page=-1")).status == 200


async def test_admin_forms_need_csrf_and_are_rate_limited(app, ana, ben):
    from webchat.ratelimit import Limit

    refused = await ana.post("/admin/users/ben/promote", csrf=False)
    assert refused.status == 403
    assert not (await User.get(username="ben")).is_admin
    app.config["RATE_LIMITS"]["action"] = Limit(3, 60)
    statuses = [(await ana.post("/admin/users/ben/promote")).status for _ in range(4)]
    assert statuses[-1] == 429


async def test_messages_stay_when_their_author_is_deactivated(ana, ben):
    room = await ana.create_room("Lobby")
    await ben.post(f"/rooms/{room}/join")
    await ben.say(room, "kept")
    await ana.post("/admin/users/ben/deactivate")
    message = await Message.get(body="kept").select_related("author")
    assert message.author.username == "ben" and not message.deleted


async def test_registration_by_invitation_only(ana, browser_factory):
    assert (await ana.post("/admin/site", {"name": "webchat", "registration": "invite"})).status == 303
    stranger = browser_factory()
    page = await stranger.get("/register")
    assert page.status == 200 and "by invitation" in page.text and 'action="/register"' not in page.text
    refused = await stranger.post("/register", {"username": "sam", "password": "a long secret"})
    assert refused.status == 403
    assert not await User.exists(username="sam")

    link = await made_link(ana, "/admin/invites")
    assert ("invite.create", "invite #1") in await actions()
    form = await stranger.get(link)
    assert form.status == 200 and f'action="{link}"' in form.text
    bad = await stranger.post(link, {"username": "s", "password": "short"})
    assert bad.status == 422 and f'action="{link}"' in bad.text  # the form again, at the link
    assert (await stranger.post(link, {"username": "sam", "password": "a long secret"})).status == 303
    assert (await stranger.get("/rooms")).status == 200
    assert ("invite.use", "invite #1") in await actions()
    # One use only.
    late = browser_factory()
    assert (await late.get(link)).status == 404
    assert (await late.post(link, {"username": "tim", "password": "a long secret"})).status == 404
    # A signed-in person is sent on.
    assert (await stranger.get(link)).location == "/rooms"


async def test_invitations_expire_are_revoked_and_count_their_uses(ana, browser_factory):
    from webchat.models import Invite

    await ana.post("/admin/site", {"name": "webchat", "registration": "invite"})
    made = await ana.post("/admin/invites", {"days": "3", "uses": "2"})
    link = "/" + LINK.search((await ana.get(made.location)).text).group(1).split("//", 1)[1].split("/", 1)[1]
    for name in ("uma", "vic"):
        assert (await browser_factory().post(link, {"username": name, "password": "a long secret"})).status == 303
    assert (await browser_factory().get(link)).status == 404
    listed = await ana.get("/admin/invites")
    assert "2 of 2" in listed.text and "Used up" in listed.text

    second = await made_link(ana, "/admin/invites")
    invite = await Invite.all().order_by("-id").first()
    assert (await ana.post(f"/admin/invites/{invite.id}/revoke")).status == 303
    assert (await browser_factory().get(second)).status == 404
    third = await made_link(ana, "/admin/invites")
    await Invite.filter(revoked=False, uses=0).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert (await browser_factory().get(third)).status == 404
    bad = await ana.post("/admin/invites", {"days": "0", "uses": "100000"})
    assert bad.status == 422 and 'href="#invite-days"' in bad.text and 'href="#invite-uses"' in bad.text
    assert ("invite.revoke", f"invite #{invite.id}") in await actions()


async def test_closed_registration_and_members_making_invitations(ana, ben, browser_factory):
    await ana.post("/admin/site", {"name": "webchat", "registration": "closed"})
    assert (await browser_factory().post("/register", {"username": "sam", "password": "a long secret"})).status == 403
    assert (await ben.get("/invites")).status == 403
    await ana.post("/admin/site", {"name": "webchat", "registration": "invite", "member_invites": "1"})
    link = await made_link(ben, "/invites")
    assert (await browser_factory().post(link, {"username": "sam", "password": "a long secret"})).status == 303
    # A member sees and revokes only their own.
    await made_link(ana, "/admin/invites")
    mine = await ben.get("/invites")
    assert "@ana" not in mine.text and "@ben" in mine.text


async def test_the_environment_sets_the_default_and_an_empty_site_is_always_open(database_url, tmp_path):
    from tests.conftest import make_settings
    from tests.helpers.browser import Browser
    from webchat.app import create_app

    app = create_app(make_settings(database_url, tmp_path, WEBCHAT_REGISTRATION="closed"))
    async with app.test_app():
        first = Browser(app)
        await first.register("founder")  # nobody could ever invite the first one
        assert (await User.get(username="founder")).is_admin
        later = await Browser(app).post("/register", {"username": "later", "password": "a long secret"})
        assert later.status == 403
        await first.post("/admin/site", {"name": "webchat", "registration": "open"})
        assert (await Browser(app).post("/register", {"username": "later", "password": "a long secret"})).status == 303


def test_registration_setting_is_checked_at_start(tmp_path):
    import pytest

    from webchat.config import ConfigError, load_settings

    base = {"WEBCHAT_INSTANCE": str(tmp_path), "SECRET_KEY": "k"}
    assert load_settings(base).registration == "open"
    assert load_settings({**base, "WEBCHAT_REGISTRATION": "Invite"}).registration == "invite"
    with pytest.raises(ConfigError, match="WEBCHAT_REGISTRATION"):
        load_settings({**base, "WEBCHAT_REGISTRATION": "sometimes"})


async def test_a_first_account_with_the_longest_names_is_logged_whole(browser_factory):
    """The audit log's actor is "display name (@username)": with a 64-character display name and
    a 32-character username the name is shortened, never the account refused (it was a 500)."""
    first = browser_factory()
    page = await first.post("/register", {"username": "u" * 32, "password": PASSWORD, "display_name": "W" * 64})
    assert page.status == 303
    [entry] = await AuditEntry.filter(action="admin.grant")
    assert entry.actor_name.endswith(f" (@{'u' * 32})") and len(entry.actor_name) <= 64
    assert entry.actor_name.startswith("WWW") and "…" in entry.actor_name
