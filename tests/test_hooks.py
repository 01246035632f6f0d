"""Incoming webhooks: made by a room's member (the URL shown once), Slack-compatible JSON and
`payload=` forms posting as the hook's bot, plain text, rate-limited, revocable, listed."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from webchat.models import IncomingHook, Message, User
from webchat.ratelimit import Limit

URL = re.compile(r'id="hook-url" type="text" readonly value="http://localhost(/hooks/whk_[A-Za-z0-9_\-]+)"')


async def make_hook(browser, room: int, name: str = "CI") -> str:
    page = await browser.post(f"/rooms/{room}/hooks", {"name": name})
    assert page.status == 200, page.text
    return URL.search(page.text).group(1)


async def send(app, path: str, body: bytes, content_type: str):
    response = await app.test_client().post(path, data=body, headers={"Content-Type": content_type})
    return response.status_code, await response.get_data(as_text=True), response.headers


async def test_a_member_makes_a_hook_and_it_posts_as_a_labelled_bot(app, ana, ben):
    room = await ana.create_room("Builds")
    path = await make_hook(ana, room, "CI")
    hook = await IncomingHook.get(name="CI").select_related("bot")
    assert path.rsplit("/", 1)[1] not in repr(await IncomingHook.all().values())  # only its digest
    assert hook.bot.is_bot and hook.bot.display_name == "CI"
    status, text, _ = await send(app, path, json.dumps({"text": "Build <b>42</b> passed", "username": "x"}).encode(),
                                 "application/json")
    assert (status, text) == (200, "ok")
    form = urlencode({"payload": json.dumps({"text": "Deploy done"})}).encode()
    assert (await send(app, path, form, "application/x-www-form-urlencoded"))[0] == 200
    messages = await Message.filter(room_id=room).order_by("id").select_related("author")
    assert [(m.author.display_name, m.body) for m in messages] == [("CI", "Build <b>42</b> passed"), ("CI", "Deploy done")]
    await ben.post(f"/rooms/{room}/join")
    page = await ben.get(f"/rooms/{room}")
    assert "Build &lt;b&gt;42&lt;/b&gt; passed" in page.text  # plain text, escaped
    assert page.text.count('<span class="bot-label">bot</span>') >= 1
    listing = await ben.get(f"/rooms/{room}/hooks")
    assert "CI" in listing.text and hook.hint in listing.text and path not in listing.text


async def test_only_members_make_hooks_and_names_are_checked(app, ana, ben):
    room = await ana.create_room("Private", "private")
    assert (await ben.post(f"/rooms/{room}/hooks", {"name": "mine"})).status == 403
    assert (await ben.get(f"/rooms/{room}/hooks")).status == 403
    page = await ana.post(f"/rooms/{room}/hooks", {"name": "  "})
    assert page.status == 422 and '<a href="#hook-name">' in page.text
    assert await IncomingHook.all().count() == 0


async def test_bad_posts_are_problems_and_change_nothing(app, ana):
    room = await ana.create_room("Builds")
    path = await make_hook(ana, room)
    cases = [(b'{"text": ""}', "application/json", 422), (b'{"nope": 1}', "application/json", 422),
             (b"{not json", "application/json", 422), (b"\xff\xfe", "application/json", 422),
             (b"payload=%7Bbad", "application/x-www-form-urlencoded", 422),
             (b"text=hi", "application/x-www-form-urlencoded", 422), (b"hi", "text/plain", 415),
             (json.dumps({"text": "x" * 4001}).encode(), "application/json", 422)]
    for body, content_type, expected in cases:
        status, text, headers = await send(app, path, body, content_type)
        assert status == expected, (body, status, text)
        assert headers["Content-Type"] == "application/problem+json"
    assert (await send(app, "/hooks/whk_nothing", b'{"text": "x"}', "application/json"))[0] == 404
    assert await Message.filter(room_id=room).count() == 0


async def test_hooks_are_rate_limited_and_revocable(app, ana, ben):
    room = await ana.create_room("Builds")
    await ben.post(f"/rooms/{room}/join")
    path = await make_hook(ana, room)
    hook = await IncomingHook.get(name="CI")
    app.config["RATE_LIMITS"]["post"] = Limit(2, 60)
    statuses = [(await send(app, path, b'{"text": "x"}', "application/json")) for _ in range(3)]
    assert [s[0] for s in statuses] == [200, 200, 429] and int(statuses[2][2]["Retry-After"]) >= 1
    assert (await ben.post(f"/rooms/{room}/hooks/{hook.id}/revoke")).status == 403  # not his, not his room
    assert (await ana.post(f"/rooms/{room}/hooks/{hook.id}/revoke")).status == 303
    app.config["RATE_LIMITS"]["post"] = Limit(100, 60)
    status, _, headers = await send(app, path, b'{"text": "after"}', "application/json")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert "(revoked)" in (await ana.get(f"/rooms/{room}/hooks")).text
    assert await User.filter(bot_owner_id__not_isnull=True).count() == 1
