"""Languages: which one a page is in (account setting, the footer's switch, Accept-Language), the
catalogs, and shared fragments rendered per language."""

from __future__ import annotations

import re

from webchat import catalogs, i18n
from webchat.models import User

THAI_FOOTER = "แชตแบบเรียลไทม์"


def html_lang(text: str) -> str:
    return re.search(r'<html lang="([^"]+)"', text).group(1)


async def test_english_by_default_and_thai_from_accept_language(browser_factory):
    browser = browser_factory()
    page = await browser.get("/login")
    assert html_lang(page.text) == "en" and THAI_FOOTER not in page.text
    for header in ("th", "th-TH,th;q=0.9,en;q=0.5", "fr-FR, th;q=0.8"):
        page = await browser.get("/login", headers={"Accept-Language": header})
        assert html_lang(page.text) == "th", header
        assert THAI_FOOTER in page.text
    page = await browser.get("/login", headers={"Accept-Language": "fr-FR, de;q=0.8"})
    assert html_lang(page.text) == "en"


async def test_footer_switch_works_signed_out_and_returns_to_the_page(browser_factory):
    browser = browser_factory()
    page = await browser.post("/language", {"language": "th", "next": "/register?x=1"})
    assert page.status == 303 and page.location == "/register?x=1"
    page = await browser.get("/register", headers={"Accept-Language": "en"})
    assert html_lang(page.text) == "th"  # the switch outranks the browser's language
    # The current language is marked for assistive technology, each name in its own language.
    assert re.search(r'<button type="submit" name="language" value="th" lang="th" aria-current="true">', page.text)


async def test_footer_switch_refuses_other_sites_and_unknown_languages(browser_factory):
    browser = browser_factory()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "rooms"):
        page = await browser.post("/language", {"language": "th", "next": target})
        assert page.status == 303 and page.location == "/", target
    page = await browser.post("/language", {"language": "xx", "next": "/login"})
    assert page.status == 303
    assert html_lang((await browser.get("/login")).text) == "th"  # the earlier choice stands


async def test_footer_switch_needs_the_csrf_token(browser_factory):
    browser = browser_factory()
    page = await browser.post("/language", {"language": "th", "next": "/"}, csrf=False)
    assert page.status == 403
    assert html_lang((await browser.get("/login")).text) == "en"


async def test_account_setting_wins_and_follows_the_account(ana, browser_factory):
    page = await ana.post("/settings", {"announce": "all", "language": "th"})
    assert page.status == 303
    assert (await User.get(username_key="ana")).language == "th"
    page = await ana.get("/rooms", headers={"Accept-Language": "en"})
    assert html_lang(page.text) == "th"
    # Another browser, signed in as the same person, gets Thai too.
    other = browser_factory()
    await other.login("ana")
    assert html_lang((await other.get("/settings")).text) == "th"
    # Automatic again: the browser decides.
    await ana.post("/settings", {"announce": "all", "language": ""})
    assert html_lang((await other.get("/settings", headers={"Accept-Language": "en-GB"})).text) == "en"


async def test_signed_in_switch_saves_the_setting(ana):
    await ana.post("/language", {"language": "th", "next": "/settings"})
    assert (await User.get(username_key="ana")).language == "th"


async def test_settings_refuse_an_unknown_language(ana):
    page = await ana.post("/settings", {"announce": "all", "language": "klingon"})
    assert page.status == 422 and "Choose a language" in page.text
    assert (await User.get(username_key="ana")).language == ""


def test_catalog_reads_and_falls_back():
    with i18n.speaking("th"):
        assert i18n.gettext("Language") == "ภาษา"
        assert i18n.gettext("a string nobody translated") == "a string nobody translated"
    with i18n.speaking("en"):
        assert i18n.gettext("Language") == "Language"
    assert i18n.choose(None, None, ["th-TH"]) == "th"
    assert i18n.choose("en", "th", ["th"]) == "en"
    assert i18n.choose(None, None, []) == "en"


def test_every_extracted_string_is_in_the_thai_catalog(tmp_path):
    """Extract afresh and compare: a string added to a template or the code without a Thai
    translation fails here (run `python -m webchat translations`, then translate)."""
    from babel.messages.pofile import read_po

    template = catalogs.extract(tmp_path / "messages.pot")
    with template.open("rb") as pot:
        wanted = {message.id for message in read_po(pot) if message.id}
    with (i18n.CATALOGS / "th" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        thai = {message.id: message for message in read_po(po) if message.id}
    missing = sorted(str(key) for key in wanted if key not in thai or not thai[key].string or thai[key].fuzzy)
    assert not missing, f"{len(missing)} strings without a Thai translation, e.g. {missing[:5]}"


async def test_one_event_reaches_each_stream_in_its_own_language(app, browser_factory):
    """A shared fragment is rendered once per language and each stream gets its own: Ana reads
    Thai, Ben English, and Cy arriving changes "Here now" for both."""
    from tests.helpers.tab import Tab

    ana, ben, cy = browser_factory(), browser_factory(), browser_factory()
    await ana.register("ana")
    await ben.register("ben")
    await cy.register("cyrus", "Cy")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await cy.post(f"/rooms/{room}/join")
    await ana.post("/settings", {"announce": "all", "language": "th"})
    async with Tab(ana, f"/rooms/{room}/events") as thai, Tab(ben, f"/rooms/{room}/events") as english:
        async with Tab(cy, f"/rooms/{room}/events"):
            await thai.read_until("อยู่ที่นี่ตอนนี้:".encode())
            await english.read_until(b"Cy")
        assert b"Here now:" not in thai.data
        assert "อยู่ที่นี่ตอนนี้".encode() not in english.data


def test_stream_language_from_raw_headers():
    assert i18n.from_headers(None, None, "th-TH,th;q=0.9,en;q=0.8") == "th"
    assert i18n.from_headers(None, None, "en;q=0.5, th;q=0.9") == "th"
    assert i18n.from_headers(None, None, "th;q=0, en") == "en"
    assert i18n.from_headers(None, "a=b; webchat_language=th", "en") == "th"
    assert i18n.from_headers("en", "webchat_language=th", "th") == "en"
    assert i18n.from_headers(None, None, "garbage;;q=x, , *") == "en"
