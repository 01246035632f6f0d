"""Email in the browser: the email settings and "Forgot password?" by keyboard alone, checked by
axe-core; the digest's HTML as a mail program shows it (checked by axe too, and photographed to
/tmp/webchat-email for a person to look at)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader
from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Audit, Session, screenshot, tab_to
from tests.helpers.mail import Inbox
from webchat.mail import digest
from webchat.render import init_jinja

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


async def test_email_settings_and_forgot_password_by_keyboard(session: Session, fresh_server):
    inbox = Inbox()
    inbox.start()
    server = fresh_server(SMTP_URL=inbox.url)
    own = Session(session.browser, server.url)
    try:
        audit = Audit()
        name = unique("mail")
        user = await own.user(name, "Mail Reader")
        page = await own.page(user)
        await page.goto("/settings")
        await tab_to(page, "a[href='/settings/email']")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="Email", exact=True)).to_be_visible()
        await audit.check(page, "email settings, no address")
        await tab_to(page, "#email")
        await page.keyboard.type("not an address")
        await page.keyboard.press("Enter")
        await expect(page.locator(".error-summary")).to_be_visible()
        await audit.check(page, "email settings, error")
        await page.get_by_label("Your email address").fill(f"{name}@example.org")
        await page.get_by_label("Your email address").press("Enter")
        await expect(page.get_by_text("not confirmed yet")).to_be_visible()
        await audit.check(page, "email settings, address waiting for confirmation")
        await inbox.wait_for(1)

        visitor = await own.page()
        await visitor.goto("/login")
        await tab_to(visitor, "a[href='/forgot']")
        await visitor.keyboard.press("Enter")
        await expect(visitor.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        await audit.check(visitor, "forgot password")
        await tab_to(visitor, "#account")
        await visitor.keyboard.type(name)
        await visitor.keyboard.press("Enter")
        await expect(visitor.get_by_role("heading", name="Check your email")).to_be_visible()
        await audit.check(visitor, "forgot password, sent")
        audit.verify()
    finally:
        await own.close()
        inbox.stop()


async def test_digest_html_reads_well(session: Session):
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    init_jinja(env)  # the app's: translations and filters
    person = SimpleNamespace(display_name="Ana", username="ana", language="", time_zone="UTC", time_zone_set=False,
                             clock="auto")
    ben = SimpleNamespace(display_name="<b>Ben</b> & co", username="ben", deleted=False)
    room = SimpleNamespace(id=3, name="General")
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    items = [digest.Item(SimpleNamespace(id=10 + n, room=room, author=ben, body=body, created_at=when), why)
             for n, (body, why) in enumerate([
                 ("@ana could you look at the <script>release</script> notes?\nThey are long.", "mention"),
                 ("Yes, that works for me.", "reply"),
                 ("Lunch tomorrow?", "direct")])]
    _, _, html = digest.render(env, person=person, items=items, base_url="https://chat.example.org",
                               unsubscribe="https://chat.example.org/unsubscribe/TOKEN")
    page = await session.page(viewport={"width": 360, "height": 740})
    await page.set_content(html)
    await expect(page.get_by_role("link", name="Open the message from <b>Ben</b> & co")).to_have_count(3)
    assert await page.locator("script").count() == 0
    audit = Audit()
    await audit.check(page, "digest email", schemes=("light",))
    audit.verify()
    await screenshot(page, "digest-phone", Path("/tmp/webchat-email"))
    await page.set_viewport_size({"width": 1280, "height": 800})
    await screenshot(page, "digest-desktop", Path("/tmp/webchat-email"))
