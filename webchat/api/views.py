"""The JSON API under /api/v1, and the seed's POST /api/notify.

Each route is one call of the same services the browser's views call (webchat.messages.service,
webchat.rooms.service), with the same validation and the same broadcasts, so what a program does
appears in every open tab exactly as if a person had done it. Only `Authorization: Bearer` is
accepted here: a session cookie is ignored, so there is nothing for CSRF to forge.
"""

from __future__ import annotations

import json as jsonlib
from functools import wraps

from quart import Blueprint, Response, g, request
from quart_schema import validate_request, validate_response

from webchat import i18n
from webchat.accounts.names import find_user
from webchat.api import streams as api_streams
from webchat.api import tokens
from webchat.api.problems import BEARER
from webchat.api.schemas import (
    DirectRoom,
    EditMessage,
    Me,
    MessageOut,
    MessagePage,
    NewMessage,
    Notified,
    Notify,
    ReadMarker,
    ReadOut,
    RoomList,
    RoomOut,
    message_json,
    room_json,
)
from webchat.live import sse
from webchat.messages import broadcasts as message_broadcasts
from webchat.messages import service as messages
from webchat.messages.service import clean_body
from webchat.refusals import Refused, SlowDown
from webchat.rooms import broadcasts as room_broadcasts
from webchat.rooms import service as rooms
from webchat.rooms.service import parse_id, whole_number
from webchat.runtime import current
from webchat.security import MAX_BODY

bp = Blueprint("api", __name__)
LIMIT_MAX = 100
WRITES = ("POST", "PATCH", "PUT", "DELETE")


class Invalid(Refused):
    """422 naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(422, message, i18n.gettext("Unprocessable Content"))
        self.field = field


@bp.before_request
async def authenticate() -> None:
    """The bearer token, then the body's size and type, in that order; the cookie counts for nothing."""
    g.user = None
    g.token = None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Refused(401, i18n.gettext("Send the header Authorization: Bearer TOKEN (make a token at "
                                        "/settings/tokens)."), i18n.gettext("Unauthorized"))
    token = await tokens.authenticate(secret.strip())
    if token is None:
        raise Refused(401, i18n.gettext("This token is not valid: it may have been revoked, or have expired."),
                      i18n.gettext("Unauthorized"), {"WWW-Authenticate": BEARER + ', error="invalid_token"'})
    g.token, g.user = token, token.user
    # From here on, the token's account's language (else Accept-Language, as before the token).
    g.language = i18n.choose(token.user.language, None, [value for value, _q in request.accept_languages])
    i18n.use(g.language)
    if request.method in WRITES:
        length = request.content_length
        if length is not None and length > MAX_BODY:
            raise Refused(413, i18n.gettext("The body is larger than 256 KiB."), i18n.gettext("Content Too Large"))
        has_body = bool(length) or "Transfer-Encoding" in request.headers
        if (has_body or request.mimetype) and request.mimetype != "application/json":
            raise Refused(415, i18n.gettext("Send JSON (Content-Type: application/json), not “%(type)s”.",
                                            type=request.mimetype or i18n.gettext("no content type")),
                          i18n.gettext("Unsupported Media Type"))
        if has_body or request.mimetype:
            raw = await request.get_data(as_text=False)
            try:
                # Here, not in Quart: bytes that are not UTF-8, or nesting deep enough to exhaust
                # the parser's recursion, would otherwise escape as errors (a 500).
                jsonlib.loads(raw.decode("utf-8")) if raw else None
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise Refused(400, i18n.gettext("The body is not valid JSON (UTF-8)."),
                              i18n.gettext("Bad Request")) from None


def needs(scope: str, limit: str | None = None, what: str = "requests"):
    """The token must carry this scope (403 otherwise); a write counts against the named rate limit."""

    def decorate(view):
        @wraps(view)
        async def checked(*args, **kwargs):
            if scope not in g.token.scope_set:
                raise Refused(403, i18n.gettext("This token lacks the “%(scope)s” scope.", scope=scope),
                              i18n.gettext("Forbidden"))
            if limit is not None:
                rt = current()
                if wait := await rt.limiter.hit(f"{limit}:{g.user.id}", rt.limits[limit]):
                    raise SlowDown(wait, what)
            return await view(*args, **kwargs)

        return checked

    return decorate


def _body(raw: str) -> str:
    body, problem = clean_body(raw)
    if problem:
        raise Invalid("body", problem)
    return body


@bp.get("/api/v1/me")
@needs("read")
@validate_response(Me)
async def me():
    """The account the token acts as."""
    user, token = g.user, g.token
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "bot": user.is_bot,
            "scopes": sorted(token.scope_set), "token_expires_at": token.expires_at}


@bp.get("/api/v1/rooms")
@needs("read")
@validate_response(RoomList)
async def room_list():
    """The account's rooms, with unread counts."""
    return {"rooms": [room_json(entry) for entry in await rooms.rooms_of(g.user)]}


def _number(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    value = whole_number(raw)
    if value is None:
        raise Invalid(name, i18n.gettext("%(name)s must be a whole number.", name=name))
    return value


@bp.get("/api/v1/rooms/<room_id>/messages")
@needs("read")
@validate_response(MessagePage)
async def message_list(room_id: str):
    """Messages of a room, oldest first: the newest `limit`, or those `before` or `after` a message id.

    Query: before, after (message ids; one of them), limit (1 to 100, default 50).
    """
    found = await rooms.access(parse_id(room_id), g.user)
    before, after, limit = _number("before"), _number("after"), _number("limit")
    if limit is not None and not 1 <= limit <= LIMIT_MAX:
        raise Invalid("limit", i18n.gettext("limit is a number from 1 to %(max)s.", max=LIMIT_MAX))
    if before is not None and after is not None:
        raise Invalid("after", i18n.gettext("Give before or after, not both."))
    count = limit or messages.PAGE
    if after is not None:
        shown, more = await messages.history_after(found.room, after, count)
    else:
        shown, more = await messages.history(found.room, before, count)
    return {"messages": [message_json(m) for m in shown], "more": more}


async def _post(room, body: str, nonce: str | None, reply_to: int | None = None):
    try:
        original = await messages.reply_target(room, reply_to)
        message, event = await messages.post(room, g.user, body, nonce, reply_to=original)
    except messages.ReplyRefused as refusal:
        raise Invalid("reply_to", str(refusal)) from None
    if event is not None:
        await message_broadcasts.message_event(current(), message, event)
        return message, event.seq
    await message.fetch_related("author")  # a repeat: the first one, as it was answered
    return message, await messages.event_of(message)


@bp.post("/api/v1/rooms/<room_id>/messages")
@needs("post", "post", "messages")
@validate_request(NewMessage)
@validate_response(MessageOut, 201)
async def post_message(room_id: str, data: NewMessage):
    """Post a message (members only). The nonce makes a retry safe: it never posts twice."""
    found = await rooms.require_member(parse_id(room_id), g.user)
    message, event_id = await _post(found.room, _body(data.body), data.nonce, data.reply_to)
    return message_json(message, event_id), 201


async def _message(room_id: str, message_id: str):
    found = await rooms.access(parse_id(room_id), g.user)
    message = await messages.get_message(found.room, parse_id(message_id))
    if message is None:
        raise Refused(404, i18n.gettext("There is no such message in this room."), i18n.gettext("Not Found"))
    return found, message


@bp.patch("/api/v1/rooms/<room_id>/messages/<message_id>")
@needs("post", "post", "messages")
@validate_request(EditMessage)
@validate_response(MessageOut, 200)
async def edit_message(room_id: str, message_id: str, data: EditMessage):
    """Edit a message (its author only)."""
    found, message = await _message(room_id, message_id)
    if message.author_id != g.user.id:
        raise Refused(403, i18n.gettext("Only the author can edit a message."), i18n.gettext("Forbidden"))
    if message.deleted:
        raise Refused(409, i18n.gettext("This message was deleted; it can no longer be edited."),
                      i18n.gettext("Conflict"))
    body = _body(data.body)
    if body != message.body:
        event = await messages.update(message, body)
        await message_broadcasts.message_event(current(), message, event)
    return message_json(message)


@bp.delete("/api/v1/rooms/<room_id>/messages/<message_id>")
@needs("post", "action", "changes")
@validate_response(MessageOut, 200)
async def delete_message(room_id: str, message_id: str):
    """Delete a message (its author, or the room's owner): its text is erased, a tombstone stays."""
    found, message = await _message(room_id, message_id)
    if message.author_id != g.user.id and not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the author or the room's owner can delete a message."),
                      i18n.gettext("Forbidden"))
    if not message.deleted:
        event = await messages.update(message, None)
        await message_broadcasts.message_event(current(), message, event)
    return message_json(message)


@bp.post("/api/v1/rooms/<room_id>/read")
@needs("post", "read", "read markers")
@validate_request(ReadMarker)
@validate_response(ReadOut, 200)
async def read(room_id: str, data: ReadMarker):
    """Move the account's read marker forward to a message (never back)."""
    found = await rooms.access(parse_id(room_id), g.user)
    if not found.member:
        raise Refused(403, i18n.gettext("Only members have read markers."), i18n.gettext("Forbidden"))
    if await rooms.mark_read(found.membership, data.message):
        await room_broadcasts.own_read(current(), g.user.id, found.room.id, found.membership.read_seq)
        room_broadcasts.read_markers_soon(current(), found.room.id)
    membership = found.membership
    return {"room": found.room.id, "read_message_id": membership.read_message_id,
            "unread": max(0, found.room.last_seq - membership.read_seq)}


@bp.post("/api/v1/rooms/<room_id>/typing")
@needs("post", "typing", "typing signals")
async def typing(room_id: str):
    """Show the account as typing in the room for a few seconds."""
    found = await rooms.require_member(parse_id(room_id), g.user)
    if await current().state.start_typing(found.room.id, g.user.id, g.user.display_name):
        await room_broadcasts.typing(current(), found.room.id)
    return "", 204


async def _direct_room(username: str, field: str):
    other = await find_user(username.removeprefix("@"))
    if other is None:
        raise Invalid(field, i18n.gettext("There is nobody with the username “%(username)s”.", username=username))
    room, joined = await rooms.direct_room(g.user, other)
    for user_id in sorted(joined):
        await room_broadcasts.room_added(current(), user_id, room.id)
    return room


@bp.post("/api/v1/dm")
@needs("post", "action", "changes")
@validate_request(DirectRoom)
@validate_response(RoomOut, 200)
async def direct_message(data: DirectRoom):
    """The direct room of the account and this person (the same one every time)."""
    room = await _direct_room(data.username, "username")
    return room_json(await rooms.entry_for(g.user.id, room.id))


@bp.post("/api/notify")
@needs("post", "post", "messages")
@validate_request(Notify)
@validate_response(Notified, 201)
async def notify(data: Notify):
    """Post to a room (`room`), or privately to one person (`user`, through your direct room)."""
    if (data.room is None) == (data.user is None):
        raise Invalid("room", i18n.gettext("Give either room (a room id) or user (a username), not both."))
    body = _body(data.body)
    if data.room is not None:
        room = (await rooms.require_member(data.room, g.user)).room
    else:
        room = await _direct_room(data.user, "user")
    message, event_id = await _post(room, body, data.nonce)
    return {"room": room.id, "message": message_json(message, event_id)}, 201


@bp.get("/api/v1/events")
@needs("read")
async def events():
    """Server-Sent Events of JSON for all the account's rooms, opening with `connected`.

    Events: connected, message, message_updated, read, typing, room_added, room_removed,
    reload, close. Resume with the Last-Event-ID header (or ?last_event_id=): the id is a cursor
    vector ("ROOM:SEQ,…") and each room's events after it arrive exactly once.
    """
    rt = current()
    try:
        resume = api_streams.resume_from([request.headers.get("Last-Event-ID"), request.args.get("last_event_id")])
    except api_streams.CursorError:
        raise Invalid("last_event_id",
                      i18n.gettext("Last-Event-ID must be an id this stream sent (ROOM:SEQ,…).")) from None
    if wait := await rt.limiter.hit(f"stream:{g.user.id}", rt.limits["stream"]):
        raise SlowDown(wait, "streams opened")
    stream = api_streams.EventStream(rt, g.token.id, g.user)
    if stream.full():
        raise Refused(429, i18n.gettext("Too many open streams at once."), i18n.gettext("Too Many Requests"),
                      {"Retry-After": "30"})
    response = Response(stream.frames(resume), 200, sse.HEADERS)
    response.timeout = None  # a stream lives as long as its client
    return response
