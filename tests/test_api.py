"""The JSON API under /api/v1 and POST /api/notify: bearer tokens only, the same operations as
the browser's (one service call each, the same validation, the same events), and every refusal a
problem detail (RFC 9457) with the right status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.helpers.api import ApiClient, token_for
from webchat.models import ApiToken, Membership, Message, User
from webchat.ratelimit import Limit

PROBLEM = "application/problem+json"


def assert_problem(answer, status: int, field: str | None = None) -> dict:
    assert answer.status == status, (answer.status, answer.text)
    assert answer.headers["Content-Type"] == PROBLEM
    body = answer.json
    assert body["status"] == status and body["title"] and body["detail"] and body["type"] == "about:blank"
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


async def test_no_token_or_a_bad_one_is_401_with_www_authenticate(app, ana):
    for headers in ({}, {"Authorization": "Basic YW5hOng="}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer wct_nonsense"}, {"Authorization": "Bearer \x00é"}):
        answer = await ApiClient(app, None).get("/api/v1/me", headers=headers)
        assert_problem(answer, 401)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


async def test_the_session_cookie_is_never_accepted(app, ana):
    response = await ana.client.get("/api/v1/me")  # signed in, with the cookie
    assert response.status_code == 401
    token = await ana.ensure_token()
    response = await ana.client.post("/api/v1/rooms/1/messages", headers={"X-CSRF-Token": token},
                                     json={"body": "via cookie"})
    assert response.status_code == 401
    assert await Message.all().count() == 0


async def test_a_program_reads_and_posts_like_a_person(app, ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    api = ApiClient(app, await token_for("ana"))
    me = await api.get("/api/v1/me")
    assert me.status == 200 and me.json["username"] == "ana" and me.json["scopes"] == ["post", "read"]
    posted = await api.post(f"/api/v1/rooms/{room}/messages", {"body": "  hello <b>world</b> ", "nonce": "n-1"})
    assert posted.status == 201, posted.text
    message = posted.json
    assert message["body"] == "hello <b>world</b>" and "&lt;b&gt;" in message["html"]
    assert message["room"] == room and message["seq"] == 1 and message["event_id"] == 1
    assert message["author"] == {"id": me.json["id"], "username": "ana", "display_name": "Ana Lima", "bot": False}
    datetime.fromisoformat(message["created_at"])
    again = await api.post(f"/api/v1/rooms/{room}/messages", {"body": "hello <b>world</b>", "nonce": "n-1"})
    assert again.status == 201 and again.json["id"] == message["id"] and again.json["event_id"] == 1
    assert await Message.all().count() == 1
    rooms = await ApiClient(app, await token_for("ben")).get("/api/v1/rooms")
    assert [(r["id"], r["unread"]) for r in rooms.json["rooms"]] == [(room, 1)]
    page = await ben.get(f"/rooms/{room}")  # the browser shows it, from the one fragment
    assert f'<li id="m-{message["id"]}"' in page.text


async def test_history_pages_by_cursor(app, ana):
    room = await ana.create_room("General")
    api = ApiClient(app, await token_for("ana"))
    ids = [(await api.post(f"/api/v1/rooms/{room}/messages", {"body": f"m{n}"})).json["id"] for n in range(7)]
    latest = await api.get(f"/api/v1/rooms/{room}/messages?limit=3")
    assert [m["id"] for m in latest.json["messages"]] == ids[-3:] and latest.json["more"]
    older = await api.get(f"/api/v1/rooms/{room}/messages?limit=3&before={ids[-3]}")
    assert [m["id"] for m in older.json["messages"]] == ids[1:4]
    newer = await api.get(f"/api/v1/rooms/{room}/messages?limit=5&after={ids[1]}")
    assert [m["id"] for m in newer.json["messages"]] == ids[2:7] and not newer.json["more"]
    for query, field in (("limit=0", "limit"), ("limit=101", "limit"), ("before=x", "before"),
                         ("before=1&after=1", "after"), ("after=%C2%B2", "after")):
        assert_problem(await api.get(f"/api/v1/rooms/{room}/messages?{query}"), 422, field)


async def test_edit_delete_read_typing_dm_as_the_browser_allows(app, ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    ana_api, ben_api = ApiClient(app, await token_for("ana")), ApiClient(app, await token_for("ben"))
    mid = (await ana_api.post(f"/api/v1/rooms/{room}/messages", {"body": "first"})).json["id"]
    path = f"/api/v1/rooms/{room}/messages/{mid}"
    assert_problem(await ben_api.call("PATCH", path, {"body": "not mine"}), 403)
    edited = await ana_api.call("PATCH", path, {"body": "first, edited"})
    assert edited.status == 200 and edited.json["body"] == "first, edited" and edited.json["edited_at"]
    assert_problem(await ana_api.call("PATCH", path, {"body": "   "}), 422, "body")
    assert_problem(await ben_api.call("DELETE", path), 403)
    deleted = await ana_api.call("DELETE", path)
    assert deleted.status == 200 and deleted.json["deleted"] and deleted.json["body"] == ""
    assert (await Message.get(id=mid)).body == ""
    assert_problem(await ana_api.call("PATCH", path, {"body": "again"}), 409)
    assert_problem(await ana_api.call("DELETE", f"/api/v1/rooms/{room}/messages/999999"), 404)
    second = (await ana_api.post(f"/api/v1/rooms/{room}/messages", {"body": "second"})).json["id"]
    read = await ben_api.post(f"/api/v1/rooms/{room}/read", {"message": second})
    assert read.status == 200 and read.json == {"room": room, "read_message_id": second, "unread": 0}
    membership = await Membership.get(room_id=room, user__username_key="ben")
    assert membership.read_message_id == second
    assert_problem(await ben_api.post(f"/api/v1/rooms/{room}/read", {"message": "x"}), 422, "message")
    typing = await ben_api.post(f"/api/v1/rooms/{room}/typing")
    assert typing.status == 204
    dm = await ana_api.post("/api/v1/dm", {"username": "ben"})
    assert dm.status == 200 and dm.json["kind"] == "direct"
    assert (await ana_api.post("/api/v1/dm", {"username": "@ben"})).json["id"] == dm.json["id"]
    assert_problem(await ana_api.post("/api/v1/dm", {"username": "nobody"}), 422, "username")


async def test_notify_posts_to_a_room_or_privately_to_one_person(app, ana, ben, cleo):
    room = await ana.create_room("Alerts", "private")
    bot_token = await token_for("ana", ("post",), bot="alertbot")
    bot_api = ApiClient(app, bot_token)
    assert_problem(await bot_api.post("/api/notify", {"room": room, "body": "disk full"}), 403)
    await ana.post(f"/rooms/{room}/members", {"username": "alertbot"})
    to_room = await bot_api.post("/api/notify", {"room": room, "body": "disk full"})
    assert to_room.status == 201, to_room.text
    assert to_room.json["room"] == room and to_room.json["message"]["author"]["bot"] is True
    to_ben = await bot_api.post("/api/notify", {"user": "ben", "body": "your build passed"})
    assert to_ben.status == 201
    direct = to_ben.json["room"]
    members = set(await User.filter(memberships__room_id=direct).values_list("username", flat=True))
    assert members == {"alertbot", "ben"}  # private: only the two of them
    assert (await cleo.get(f"/rooms/{direct}")).status == 403
    page = await ben.get(f"/rooms/{direct}")
    assert "your build passed" in page.text and '<span class="bot-label">bot</span>' in page.text
    assert_problem(await bot_api.post("/api/notify", {"body": "where?"}), 422, "room")
    assert_problem(await bot_api.post("/api/notify", {"room": room, "user": "ben", "body": "x"}), 422, "room")
    assert_problem(await bot_api.post("/api/notify", {"user": "nobody", "body": "x"}), 422, "user")
    assert_problem(await bot_api.post("/api/notify", {"room": room, "body": ""}), 422, "body")
    assert_problem(await bot_api.post("/api/notify", {"room": room, "body": "x" * 4001}), 422, "body")


async def test_scopes_limit_what_a_token_may_do(app, ana):
    room = await ana.create_room("General")
    reader = ApiClient(app, await token_for("ana", ("read",)))
    poster = ApiClient(app, await token_for("ana", ("post",)))
    assert (await reader.get("/api/v1/rooms")).status == 200
    assert_problem(await reader.post(f"/api/v1/rooms/{room}/messages", {"body": "x"}), 403)
    assert_problem(await reader.post("/api/notify", {"room": room, "body": "x"}), 403)
    assert_problem(await poster.get("/api/v1/rooms"), 403)
    assert_problem(await poster.get(f"/api/v1/rooms/{room}/messages"), 403)
    assert (await poster.post(f"/api/v1/rooms/{room}/messages", {"body": "x"})).status == 201


async def test_revoked_and_expired_tokens_stop_at_once(app, ana):
    secret = await token_for("ana")
    api = ApiClient(app, secret)
    assert (await api.get("/api/v1/me")).status == 200
    token = await ApiToken.get(user__username_key="ana")
    assert token.last_used_at is not None  # "last used" is kept
    assert (await ana.post(f"/settings/tokens/{token.id}/revoke")).status == 303
    assert_problem(await api.get("/api/v1/me"), 401)
    expiring = ApiClient(app, await token_for("ana", name="soon"))
    await ApiToken.filter(name="soon").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_problem(await expiring.get("/api/v1/me"), 401)


async def test_every_kind_of_bad_request_is_a_problem_with_its_status(app, ana, ben):
    room = await ana.create_room("General")
    private = await ben.create_room("Ben's", "private")
    api = ApiClient(app, await token_for("ana"))
    path = f"/api/v1/rooms/{room}/messages"
    assert_problem(await api.post(path, data=b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert_problem(await api.post(path, data=b"body=x", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    big = json.dumps({"body": "x" * (300 * 1024)}).encode()
    assert_problem(await api.post(path, data=big, headers={"Content-Type": "application/json"}), 413)
    assert_problem(await api.post(path, {"nobody": 1}), 422, "body")
    assert_problem(await api.post(path, {"body": 5}), 422, "body")
    assert_problem(await api.post(path, ["body"]), 422)
    assert_problem(await api.post(path, {"body": "x", "nonce": "has space"}), 422, "nonce")
    assert_problem(await api.post(f"/api/v1/rooms/{private}/messages", {"body": "x"}), 403)
    assert_problem(await api.get(f"/api/v1/rooms/{private}/messages"), 403)
    assert_problem(await api.post("/api/v1/rooms/999999/messages", {"body": "x"}), 404)
    assert_problem(await api.post("/api/v1/rooms/²/messages", {"body": "x"}), 404)
    assert_problem(await api.get("/api/v1/nothing-here"), 404)
    assert_problem(await api.call("PUT", path, {"body": "x"}), 405)
    assert await Message.all().count() == 0
    app.config["RATE_LIMITS"]["post"] = Limit(2, 60)
    ben_api = ApiClient(app, await token_for("ben"))  # no posts counted yet
    statuses = [(await ben_api.post(f"/api/v1/rooms/{private}/messages", {"body": f"n{n}"})) for n in range(3)]
    assert [s.status for s in statuses[:2]] == [201, 201]
    assert_problem(statuses[2], 429)
    assert int(statuses[2].headers["Retry-After"]) >= 1


async def test_the_openapi_document_and_the_reference_page(app, browser_factory):
    visitor = browser_factory()
    response = await visitor.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = await response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/notify", "/api/v1/me", "/api/v1/rooms", "/api/v1/rooms/{room_id}/messages",
            "/api/v1/rooms/{room_id}/messages/{message_id}", "/api/v1/dm"} <= set(spec["paths"])
    assert not any(path.startswith(("/rooms", "/login", "/settings")) for path in spec["paths"])
    notify = spec["paths"]["/api/notify"]["post"]
    assert set(notify["requestBody"]["content"]["application/json"]["schema"]["properties"]) >= {"room", "user", "body"}
    assert "MessageOut" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for ui in ("/docs", "/redocs", "/scalar"):
        assert (await visitor.client.get(ui)).status_code in (303, 404)
    page = await visitor.get("/api")
    assert page.status == 200 and "<h1>Integration API</h1>" in page.text
    assert "POST /api/notify" in page.text and 'href="/api/v1/openapi.json"' in page.text
    assert "<code>user</code>" in page.text  # the body's fields, from the same document
