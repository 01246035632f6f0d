"""API tokens and bot accounts: made on /settings/tokens (shown once, stored as a digest only),
listed, revoked; made by `python -m webchat token create`; bots never sign in and are labelled."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

from tortoise import connections

from webchat.messages import service
from webchat.models import ApiToken, Room, User

ROOT = Path(__file__).resolve().parent.parent
async def post_form(browser, path: str, fields: dict):
    """A form post with repeated fields (scope=read&scope=post), as a browser sends checkboxes."""
    token = await browser.ensure_token()
    body = urlencode({**fields, "csrf_token": token}, doseq=True)
    response = await browser.client.post(path, data=body.encode(),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    return await browser._page(response)


SECRET = re.compile(r'id="token-secret" type="text" readonly value="(wct_[A-Za-z0-9_\-]+)"')


async def test_a_token_is_shown_once_and_stored_only_as_its_digest(app, ana):
    page = await post_form(ana, "/settings/tokens", {"name": "CI results", "scope": ["read", "post"]})
    assert page.status == 200, page.text
    secret = SECRET.search(page.text).group(1)
    token = await ApiToken.get(name="CI results")
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.scopes == "read post" and token.expires_at is None
    rows = await connections.get("default").execute_query_dict("SELECT * FROM api_tokens")
    assert secret not in repr(rows)  # only the digest (and a short hint) is kept
    listing = await ana.get("/settings/tokens")
    assert "CI results" in listing.text and secret not in listing.text and token.hint in listing.text
    assert 'aria-label="Revoke the token CI results"' in listing.text


async def test_a_token_form_with_mistakes_says_which_fields(app, ana):
    page = await post_form(ana, "/settings/tokens", {"name": "", "expires": "soon"})
    assert page.status == 422
    assert '<a href="#token-name">' in page.text and '<a href="#token-scope-read">' in page.text
    assert '<a href="#token-expires">' in page.text
    assert await ApiToken.all().count() == 0


async def test_the_token_page_needs_sign_in_and_its_form_needs_csrf(app, ana, browser_factory):
    stranger = browser_factory()
    assert (await stranger.get("/settings/tokens")).status == 303
    page = await ana.post("/settings/tokens", {"name": "x", "scope": "read"}, csrf=False)
    assert page.status == 403
    assert await ApiToken.all().count() == 0


async def test_only_its_maker_revokes_a_token(app, ana, ben):
    page = await post_form(ana, "/settings/tokens", {"name": "mine", "scope": "read", "expires": "30"})
    token = await ApiToken.get(name="mine")
    assert token.expires_at is not None
    assert (await ben.post(f"/settings/tokens/{token.id}/revoke")).status == 404
    assert (await ApiToken.get(id=token.id)).revoked_at is None
    page = await ana.post(f"/settings/tokens/{token.id}/revoke")
    assert page.status == 303
    assert (await ApiToken.get(id=token.id)).revoked_at is not None
    listing = await ana.get("/settings/tokens")
    assert "revoked" in listing.text
    assert (await ana.post("/settings/tokens/abc/revoke")).status == 404


async def test_a_bot_token_makes_a_bot_that_cannot_sign_in(app, ana, browser_factory):
    page = await post_form(ana, "/settings/tokens", {"name": "deploys", "scope": "post", "bot": "deploybot"})
    assert page.status == 200, page.text
    bot = await User.get(username_key="deploybot")
    owner = await User.get(username_key="ana")
    assert bot.bot_owner_id == owner.id and bot.is_bot
    assert (await ApiToken.get(name="deploys")).user_id == bot.id
    # Someone else's bot name is not theirs to use.
    page = await post_form(ana, "/settings/tokens", {"name": "again", "scope": "post", "bot": "ana"})
    assert page.status == 422 and '<a href="#token-bot">' in page.text
    visitor = browser_factory()
    for password in ("", "!bot-accounts-cannot-sign-in", "correct horse battery"):
        answer = await visitor.login("deploybot", password)
        assert answer.status in (401, 422), answer.status


async def test_a_bot_is_labelled_in_its_messages_also_for_screen_readers(app, ana):
    room_id = await ana.create_room("General")
    page = await post_form(ana, "/settings/tokens", {"name": "b", "scope": "post", "bot": "buildbot"})
    assert page.status == 200
    bot = await User.get(username_key="buildbot")
    room = await Room.get(id=room_id)
    await service.post(room, bot, "build passed", None)
    await service.post(room, await User.get(username_key="ana"), "thanks", None)
    page = await ana.get(f"/rooms/{room_id}")
    bot_li = re.search(r'<li id="m-\d+"[^>]*data-author="buildbot".*?</li>', page.text, re.S).group(0)
    assert '<span class="bot-label">bot</span>' in bot_li
    assert "buildbot (bot) @buildbot," in bot_li  # the sentence a screen reader says
    ana_li = re.search(r'<li id="m-\d+"[^>]*data-author="ana".*?</li>', page.text, re.S).group(0)
    assert "bot-label" not in ana_li and "(bot)" not in ana_li


def test_the_command_line_prints_a_working_token(sqlite_url, tmp_path):
    import asyncio

    from webchat import db

    async def make_person():
        await db.open_database(sqlite_url)
        await User.create(username="ana", username_key="ana", display_name="Ana", password_hash="x")
        await db.close_database()

    asyncio.run(make_person())
    env = {**os.environ, "DATABASE_URL": sqlite_url, "WEBCHAT_INSTANCE": str(tmp_path / "i"),
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "webchat", "token", "create", "ana", "--bot", "pingbot",
               "--scope", "read", "--scope", "post"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    assert secret.startswith("wct_") and len(secret) > 40

    async def check():
        await db.open_database(sqlite_url)
        try:
            token = await ApiToken.get(digest=hashlib.sha256(secret.encode()).hexdigest()).select_related("user")
            return token.user.username, token.user.is_bot, token.scopes
        finally:
            await db.close_database()

    assert asyncio.run(check()) == ("pingbot", True, "read post")
    nobody = subprocess.run([sys.executable, "-m", "webchat", "token", "create", "nobody"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert nobody.returncode == 1 and "no person" in nobody.stderr


async def test_a_deactivated_account_and_its_bots_act_through_no_token(app, ana):
    from webchat.api import tokens

    own = await tokens.create(await User.get(username_key="ana"), "mine", ["read"])
    bot = await tokens.create_bot(await User.get(username_key="ana"), "ci-bot")
    bots = await tokens.create(await User.get(username_key="ana"), "ci", ["post"], None, bot)
    assert await tokens.authenticate(own.secret) is not None
    assert await tokens.authenticate(bots.secret) is not None
    await User.filter(username_key="ana").update(is_active=False)
    assert await tokens.authenticate(own.secret) is None
    assert await tokens.authenticate(bots.secret) is None  # the bot's owner is gone
    assert not await tokens.still_usable((await ApiToken.get(name="ci")).id)
