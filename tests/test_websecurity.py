"""The browser-facing defences: cross-site posts refused on every route, no framing, cookies that
scripts and other sites cannot use, passwords that never reach a log, and rate limits per user."""

from __future__ import annotations

import logging
import re

import pytest

from tests.helpers.browser import Browser
from tests.helpers.dbstate import snapshot
from tests.test_fuzz import FORM_ROUTES
from webchat.models import Message
from webchat.ratelimit import Limit


@pytest.fixture
async def setting(app):
    """Ana owns a public room with her message in it; Ben is a member; Cleo is signed out."""
    ana, ben, cleo = Browser(app), Browser(app), Browser(app)
    await ana.register("ana", "Ana")
    await ben.register("ben", "Ben")
    await cleo.get("/login")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "hello")
    msg = (await Message.get(body="hello")).id
    return ana, ben, cleo, room, msg


CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
]


# Posted by mail programs with no cookie and no token (RFC 8058 one-click unsubscribe): their
# signed link is all the proof there is (tests/test_email.py).
SIGNED_LINKS = {"/unsubscribe/{token}"}


@pytest.mark.parametrize("route", list(FORM_ROUTES))
async def test_cross_site_post_refused_on_every_route_even_with_a_valid_token(setting, route):
    """A page on another site can make the browser post with our cookies, and may even have
    stolen a token: the Origin or Sec-Fetch-Site the browser adds gives it away."""
    ana, ben, cleo, room, msg = setting
    browser = cleo if route in ("/register", "/login") else ana
    path = route.format(room=room, msg=msg, username="ben", token_id="1", hook_id="1", token="x", action="deactivate",
                        outcome="resolve", invite_id="1", report_id="1")
    form = {"username": "newcomer", "password": "long enough password", "name": "x",
            "visibility": "public", "body": "from evil", "last_message_id": str(msg), "announce": "none"}
    before = await snapshot()
    for headers in CROSS_SITE:
        for htmx in (False, True):
            page = await browser.post(path, form, htmx=htmx, headers=headers)
            if route in SIGNED_LINKS:  # the signature is the proof: a made-up one opens nothing
                assert page.status == 404, (path, headers, page.status)
                continue
            assert page.status == 403, (path, headers, page.status)
            if not htmx:
                assert "expired" in page.text and "another site" in page.text
    assert await snapshot() == before


async def test_token_of_another_browser_is_refused(setting):
    """The token is tied to the browser's own signed cookie: a token lifted from another browser
    (or another user) does not work with this browser's cookies."""
    ana, ben, cleo, room, msg = setting
    before = await snapshot()
    for header in (False, True):
        form = {"body": "forged"} if header else {"body": "forged", "csrf_token": ben.token}
        headers = {"X-CSRF-Token": ben.token} if header else {}
        page = await ana.post(f"/rooms/{room}/messages", form, csrf=False, headers=headers)
        assert page.status == 403
    assert await snapshot() == before


def frame_refused(headers) -> bool:
    csp = headers.get("Content-Security-Policy", "")
    return headers.get("X-Frame-Options") == "DENY" and "frame-ancestors 'none'" in csp


async def test_no_response_can_be_framed(setting, app):
    """Clickjacking: pages, fragments, error pages, redirects and streams all refuse framing."""
    ana, ben, cleo, room, msg = setting
    responses = [
        await cleo.get("/"), await cleo.get("/login"), await cleo.get("/register"),
        await cleo.get("/rooms"), await cleo.get("/rooms", htmx=True),
        await ana.get("/rooms"), await ana.get(f"/rooms/{room}"), await ana.get(f"/rooms/{room}/members"),
        await ana.get(f"/rooms/{room}/messages?before={msg + 1}", htmx=True),
        await ana.get(f"/rooms/{room}/messages/{msg}/edit"), await ana.get("/settings"),
        await ana.get("/rooms/999999"), await ana.get("/nowhere"),
        await ben.get(f"/rooms/{room}/messages/{msg}/edit"),
        await ana.post("/rooms", {"name": "", "visibility": "public"}),
        await ana.post("/rooms", {"name": "x", "visibility": "public"}, csrf=False),
    ]
    for page in responses:
        assert frame_refused(page.headers), (page.status, dict(page.headers))
    for path in (f"/rooms/{room}/events", "/events"):
        async with ana.client.request(path, method="GET") as connection:
            await connection.send_complete()
            await connection.receive()
            assert frame_refused(connection.headers), dict(connection.headers)
            await connection.disconnect()


def cookies_by_name(headers) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in headers.getlist("Set-Cookie")}


async def test_production_cookies_are_secure_httponly_and_samesite(sqlite_url, tmp_path):
    """Behind the router (one trusted hop saying https): every cookie we set, the session, the
    CSRF browser cookie and the flash session, is Secure, HttpOnly and SameSite."""
    from tests.conftest import make_settings
    from webchat.app import create_app

    app = create_app(make_settings(sqlite_url, tmp_path, WEBCHAT_ENV="production"))
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    token_pattern = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
    async with app.test_app():
        client = app.test_client()
        seen: dict[str, str] = {}

        async def call(method, path, form=None):
            response = await client.open(path, method=method, form=form, headers=proxy, scheme="https")
            seen.update(cookies_by_name(response.headers))
            return response

        page = await call("GET", "/login")
        token = token_pattern.search(await page.get_data(as_text=True)).group(1)
        response = await call("POST", "/register",
                              {"username": "ana", "password": "long enough password", "csrf_token": token})
        assert response.status_code == 303
        response = await call("POST", "/settings", {"announce": "none", "csrf_token": token})
        assert response.status_code == 303  # "Settings saved." is a flash, kept in the session cookie
        # Ours are __Host- cookies: only this origin over HTTPS can set them (no sibling
        # subdomain can plant a CSRF binding or a session before sign-in).
        assert {"__Host-webchat_session", "__Host-webchat_csrf", "__Host-webchat_device", "session"} <= set(seen), seen
        for name, cookie in seen.items():
            attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
            assert {"secure", "httponly", "samesite"} <= attributes, cookie
            assert re.search(r"SameSite=(Lax|Strict)", cookie), cookie
            if name.startswith("__Host-"):
                assert "Path=/" in cookie and "domain" not in attributes, cookie


async def test_development_cookies_are_httponly_and_samesite_but_not_secure(browser_factory):
    browser = browser_factory()
    page = await browser.get("/login")
    seen = cookies_by_name(page.headers)
    page = await browser.post("/register", {"username": "ana", "password": "long enough password"})
    seen.update(cookies_by_name(page.headers))
    for cookie in seen.values():
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie, cookie


PASSWORDS = ("Zebra-Quartz-7781-secret", "Wrong-Guess-5512-secret", "shortpw", "Tab\tand space secret")


async def exercise_passwords(post) -> None:
    """Register, fail to register, sign in, fail to sign in, in ways that reach every branch."""
    good, wrong, short, odd = PASSWORDS
    assert (await post("/register", {"username": "pat", "password": good})).status_code == 303
    assert (await post("/register", {"username": "p!", "password": short})).status_code == 422
    assert (await post("/register", {"username": "pat", "password": odd})).status_code == 422
    assert (await post("/login", {"username": "pat", "password": wrong})).status_code == 401
    assert (await post("/login", {"username": "nobody", "password": odd})).status_code == 401
    assert (await post("/login", {"username": "", "password": wrong})).status_code == 422
    assert (await post("/login", {"username": "pat", "password": good})).status_code == 303


async def test_passwords_never_logged_even_at_debug(app, caplog):
    """Every logger at DEBUG (SQL statements and their parameters included)."""
    browser = Browser(app)
    caplog.set_level(logging.DEBUG)

    async def post(path, form):
        page = await browser.post(path, form)
        for password in PASSWORDS:
            assert password not in page.text, (path, password)  # nor shown back
        return type("R", (), {"status_code": page.status})

    await exercise_passwords(post)
    assert len(caplog.records) > 10  # the queries were logged: the check below means something
    for password in PASSWORDS:
        assert password not in caplog.text


async def test_passwords_never_in_the_server_log(sqlite_url, free_port, workdir):
    """The real process, with its real logging (Hypercorn's too)."""
    from tests.helpers.live import LiveServer, LiveUser

    with LiveServer(free_port, workdir, sqlite_url) as server:
        user = LiveUser(server.url, "pat")
        try:
            await exercise_passwords(user.post)
        finally:
            await user.aclose()
        log = server.log()
    assert "serving on" in log
    for password in PASSWORDS:
        assert password not in log


async def test_posting_is_limited_per_user_not_per_room_or_address(app, setting):
    """Messages and edits share one per-user limit; another user in the same room, from the
    same address, is not slowed by it; a refused post saves nothing."""
    ana, ben, cleo, room, msg = setting
    app.config["RATE_LIMITS"]["post"] = Limit(3, 60)
    statuses = [(await ana.say(room, f"burst {n}")).status for n in range(2)]
    assert statuses == [303, 303]  # with "hello" from the setting: three in the window
    before = await snapshot()
    page = await ana.say(room, "one too many")
    assert page.status == 429 and int(page.headers["Retry-After"]) >= 1
    htmx = await ana.post(f"/rooms/{room}/messages", {"body": "again"}, htmx=True)
    assert htmx.status == 429
    edit = await ana.post(f"/rooms/{room}/messages/{msg}/edit", {"body": "edited"})
    assert edit.status == 429
    assert await snapshot() == before
    assert (await ben.say(room, "ben is not limited")).status == 303


async def test_typing_is_limited_per_user(app, setting):
    ana, ben, cleo, room, msg = setting
    app.config["RATE_LIMITS"]["typing"] = Limit(5, 60)
    statuses = [(await ana.post(f"/rooms/{room}/typing", htmx=True)).status for _ in range(8)]
    assert statuses[:5] == [204] * 5 and statuses[5:] == [429] * 3
    assert (await ben.post(f"/rooms/{room}/typing", htmx=True)).status == 204


async def test_sign_in_limit_counts_failures_per_address_and_holds_for_the_right_password(app, setting):
    ana, ben, cleo, room, msg = setting
    app.config["RATE_LIMITS"]["login"] = Limit(4, 300)
    for _ in range(4):
        assert (await cleo.login("ana", password="not her password")).status == 401
    assert (await cleo.login("ana")).status == 429  # even the right password, until it expires
    assert (await cleo.login("ben")).status == 429  # every account from this address


def _fill(rule: str, room: int, msg: int) -> str:
    return (rule.replace("<room_id>", str(room)).replace("<message_id>", str(msg))
            .replace("<username>", "ben").replace("<token_id>", "1").replace("<hook_id>", "1"))


async def test_every_post_route_is_rate_limited(app, setting, browser_factory):
    """Walks the URL map: every route that takes a POST answers 429 once its limit is spent, so a
    route added without a limit fails here. Every attempt counts, valid or not."""
    from webchat.ratelimit import LocalRateLimiter

    ana, ben, cleo, room, msg = setting
    runtime = app.extensions["webchat"]
    for name in app.config["RATE_LIMITS"]:
        app.config["RATE_LIMITS"][name] = Limit(2, 600)
    # The API and webhooks take a bearer token or a secret URL, not this browser's cookie: their
    # limits are checked with tokens (tests/test_api.py, tests/test_hooks.py).
    rules = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if "POST" in rule.methods and not rule.rule.startswith(("/api/", "/hooks/"))})
    assert len(rules) >= 16
    unlimited = []
    for rule in rules:
        runtime.limiter = LocalRateLimiter()  # each route from a full allowance
        if (await ana.get("/settings")).status != 200:  # signed out everywhere by the route before
            assert (await ana.login("ana")).status == 303
        path = _fill(rule, room, msg)
        form = {"username": "ben", "password": "not the password", "name": "Room", "visibility": "public",
                "body": "hello", "last_message_id": str(msg), "announce": "none"}
        statuses = []
        for _ in range(3):
            if rule in ("/logout", "/logout/everywhere"):  # signs the browser out: a fresh one each time
                browser = browser_factory()
                await browser.login("ana")
            else:
                browser = cleo if rule in ("/login", "/register") else ana
            statuses.append((await browser.post(path, form)).status)
        if statuses[-1] != 429:
            unlimited.append((rule, statuses))
    assert unlimited == []


@pytest.mark.parametrize("origin", ["https://localhost", "http://localhost:8080", "ws://localhost",
                                    "http://localhost:80.evil", "http://localhost@evil.example"])
async def test_origin_must_match_scheme_host_and_port(setting, origin):
    ana, ben, cleo, room, msg = setting
    before = await snapshot()
    page = await ana.post(f"/rooms/{room}/messages", {"body": "from elsewhere"}, headers={"Origin": origin})
    assert page.status == 403, origin
    assert await snapshot() == before


@pytest.mark.parametrize("origin", ["http://localhost", "http://LOCALHOST", "http://localhost:80"])
async def test_our_own_origin_is_accepted(setting, origin):
    ana, ben, cleo, room, msg = setting
    page = await ana.post(f"/rooms/{room}/messages", {"body": "from here"}, headers={"Origin": origin})
    assert page.status == 303


async def test_production_trusts_the_forwarded_address_and_scheme_but_never_the_host(sqlite_url, tmp_path):
    """Behind the router only X-Forwarded-For and -Proto are believed; an X-Forwarded-Host the
    client chose must not become the host our same-origin check compares against."""
    from tests.conftest import make_settings
    from webchat.app import create_app

    app = create_app(make_settings(sqlite_url, tmp_path, WEBCHAT_ENV="production"))
    async with app.test_app():
        browser = Browser(app)
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
        page = await browser.get("/login", headers=proxy)
        assert page.status == 200
        forged = {**proxy, "X-Forwarded-Host": "evil.example", "Origin": "https://evil.example"}
        page = await browser.post("/register", {"username": "ana", "password": "long enough password"},
                                  headers=forged)
        assert page.status == 403
        page = await browser.post("/register", {"username": "ana", "password": "long enough password"},
                                  headers={**proxy, "Origin": "https://localhost"})
        assert page.status == 303


async def test_nothing_shown_to_a_signed_in_user_may_be_stored(setting):
    """A shared computer's cache must not keep a private room after sign-out: every response to a
    signed-in user says no-store, fragments, errors, redirects and streams included."""
    ana, ben, cleo, room, msg = setting
    responses = [
        await ana.get("/rooms"), await ana.get(f"/rooms/{room}"), await ana.get("/settings"),
        await ana.get(f"/rooms/{room}/messages?before={msg + 1}", htmx=True),
        await ana.get(f"/rooms/{room}/messages/{msg}/edit", htmx=True),
        await ana.get("/rooms/999999"), await ana.post(f"/rooms/{room}/messages", {"body": ""}),
        await ana.post(f"/rooms/{room}/messages", {"body": "hi"}), await ana.get("/"),
    ]
    for page in responses:
        assert "no-store" in page.headers.get("Cache-Control", ""), (page.status, page.headers)
    async with ana.client.request(f"/rooms/{room}/events", method="GET") as connection:
        await connection.send_complete()
        await connection.receive()
        assert "no-store" in connection.headers["Cache-Control"]
        await connection.disconnect()
    landing = await cleo.get("/login")  # nobody signed in: nothing private
    assert "no-store" not in landing.headers.get("Cache-Control", "")
