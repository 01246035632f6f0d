"""Register, sign in, sign out, revocation, CSRF and rate limits."""

from __future__ import annotations

from tests.helpers.browser import PASSWORD
from webchat.models import User
from webchat.ratelimit import Limit


async def test_register_signs_in_and_hashes_the_password(browser_factory):
    browser = browser_factory()
    page = await browser.register("Ana_1", "Ana")
    assert page.location == "/rooms"
    rooms = await browser.get("/rooms")
    assert rooms.status == 200
    assert 'data-user="Ana_1"' in rooms.text
    user = await User.get(username_key="ana_1")
    assert user.display_name == "Ana"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_display_name_defaults_to_username(browser_factory):
    browser = browser_factory()
    await browser.register("plainname")
    assert (await User.get(username_key="plainname")).display_name == "plainname"


async def test_taken_name_in_other_case_is_refused_and_input_kept(ana, browser_factory):
    other = browser_factory()
    page = await other.post("/register", {"username": "ANA", "password": "another pass", "display_name": "Imposter"})
    assert page.status == 422
    assert "That username is taken" in page.text
    assert 'value="ANA"' in page.text and 'value="Imposter"' in page.text
    assert "another pass" not in page.text  # never the password
    assert 'href="#username"' in page.text  # the error summary links to the field
    assert await User.filter(username_key="ana").count() == 1


async def test_short_password_and_bad_username(browser_factory):
    browser = browser_factory()
    page = await browser.post("/register", {"username": "a!", "password": "short"})
    assert page.status == 422
    assert 'href="#username"' in page.text and 'href="#password"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert await User.all().count() == 0


async def test_overlong_fields_are_422(browser_factory):
    browser = browser_factory()
    page = await browser.post(
        "/register", {"username": "x" * 33, "password": "p" * 2000, "display_name": "d" * 65}
    )
    assert page.status == 422
    assert await User.all().count() == 0


async def test_sign_in_honours_local_next_and_refuses_others(ana, browser_factory):
    browser = browser_factory()
    page = await browser.login("ana", next="/rooms?x=1")
    assert page.status == 303 and page.location == "/rooms?x=1"
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                "/rooms\x00", "/rooms\r\nSet-Cookie: x=1", "/rooms/\u00e9", "/a b", "/\x7f"):
        other = browser_factory()
        page = await other.login("ana", next=bad)
        assert page.status == 303
        assert page.location == "/rooms", bad


async def test_wrong_password_is_401_with_the_form(ana, browser_factory):
    browser = browser_factory()
    page = await browser.login("ana", password="wrong password")
    assert page.status == 401
    assert "do not match" in page.text
    assert 'value="ana"' in page.text
    assert (await browser.get("/rooms")).status == 303


async def test_signed_out_pages_redirect_and_htmx_gets_401(browser_factory):
    browser = browser_factory()
    page = await browser.get("/rooms/5?x=1")
    assert page.status == 303
    assert page.location == "/login?next=/rooms/5%3Fx%3D1"
    assert (await browser.get("/rooms", htmx=True)).status == 401
    assert (await browser.get("/rooms/1/events")).status == 401
    assert (await browser.get("/events")).status == 401


async def test_logout_ends_the_session(ana):
    page = await ana.post("/logout")
    assert page.status == 303 and page.location == "/login"
    assert (await ana.get("/rooms")).status == 303


async def test_sign_out_everywhere_revokes_other_cookies(ana, browser_factory):
    laptop = browser_factory()
    await laptop.login("ana")
    assert (await laptop.get("/rooms")).status == 200
    page = await ana.post("/logout/everywhere")
    assert page.status == 303
    assert (await laptop.get("/rooms")).status == 303  # the old cookie no longer works
    again = browser_factory()
    await again.login("ana")
    assert (await again.get("/rooms")).status == 200


async def test_missing_or_foreign_csrf_is_403(ana):
    page = await ana.post("/rooms", {"name": "x", "visibility": "public"}, csrf=False)
    assert page.status == 403 and "expired" in page.text
    page = await ana.post("/rooms", {"name": "x", "visibility": "public", "csrf_token": "forged"}, csrf=False)
    assert page.status == 403
    page = await ana.post("/rooms", {"name": "x", "visibility": "public"},
                          headers={"Origin": "https://evil.example"})
    assert page.status == 403
    page = await ana.post("/rooms", {"name": "x", "visibility": "public"},
                          headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status == 403
    page = await ana.post("/rooms", {"name": "ok", "visibility": "public"},
                          headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"})
    assert page.status == 303


async def test_csrf_token_survives_sign_in_and_out(browser_factory):
    browser = browser_factory()
    await browser.get("/login")
    token = browser.token
    await browser.register("dora")
    await browser.post("/logout")
    page = await browser.post("/login", {"username": "dora", "password": PASSWORD, "csrf_token": token}, csrf=False)
    assert page.status == 303


async def test_login_rate_limit_keyed_on_client_not_forwarded_header(app, ana, browser_factory):
    app.config["RATE_LIMITS"]["login"] = Limit(3, 60)
    browser = browser_factory()
    for attempt in range(3):
        page = await browser.post("/login", {"username": "ana", "password": "nope nope"},
                                  headers={"X-Forwarded-For": f"10.0.0.{attempt}"})
        assert page.status == 401
    page = await browser.post("/login", {"username": "ana", "password": PASSWORD},
                              headers={"X-Forwarded-For": "10.9.9.9"})
    assert page.status == 429
    assert int(page.headers["Retry-After"]) >= 1


async def test_registration_rate_limit(app, browser_factory):
    app.config["RATE_LIMITS"]["register"] = Limit(2, 600)
    for n in range(2):
        await browser_factory().register(f"user{n}")
    page = await browser_factory().post("/register", {"username": "user9", "password": PASSWORD})
    assert page.status == 429 and "Retry-After" in page.headers


async def test_revoked_cookie_is_rejected(ana):
    user = await User.get(username_key="ana")
    user.session_version += 1
    await user.save()
    assert (await ana.get("/rooms")).status == 303


async def test_settings_choose_announcements(ana):
    page = await ana.post("/settings", {"announce": "mentions"})
    assert page.status == 303
    assert (await User.get(username_key="ana")).announce == "mentions"
    assert 'data-announce="mentions"' in (await ana.get("/rooms")).text
    assert (await ana.post("/settings", {"announce": "loud"})).status == 422


async def test_settings_announce_typing_is_off_until_ticked(ana):
    user = await User.get(username_key="ana")
    assert user.announce_typing is False
    page = await ana.get("/settings")
    assert 'name="announce_typing"' in page.text and 'id="announce-typing" name="announce_typing" value="1" aria-describedby="announce-typing-hint">' in page.text
    assert 'data-announce-typing="off"' in page.text
    assert (await ana.post("/settings", {"announce": "all", "announce_typing": "1"})).status == 303
    assert (await User.get(username_key="ana")).announce_typing is True
    page = await ana.get("/settings")
    assert 'data-announce-typing="on"' in page.text and 'value="1" aria-describedby="announce-typing-hint" checked>' in page.text
    # An unticked checkbox sends nothing: the setting goes off again.
    assert (await ana.post("/settings", {"announce": "all"})).status == 303
    assert (await User.get(username_key="ana")).announce_typing is False
