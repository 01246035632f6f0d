"""A lean path for the two event streams, in front of Quart.

An idle stream is most of what a chat server holds, so its cost per connection matters: through
Quart each one carries a request object, a body queue, a task group of two tasks and a timeout
wrapper for its whole life (about 40 KB and most of the CPU of a fan-out, see docs/performance.md).
This ASGI middleware answers `GET /rooms/ID/events` and `GET /events` itself when the request is
good: a signed-in user (quart-auth's cookie, checked as Quart would), a room they may read, a
sound resume point, under their stream cap. Anything else (signed out, forbidden, malformed,
stopping) goes to the Quart views, which give the same 401/403/404/400/429/503 answers as before.
The stream itself is the same generator either way (webchat/live/views.py).
"""

from __future__ import annotations

import asyncio
import re
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from webchat.errors import Refused
from webchat.live import sse, views
from webchat.live.hub import Subscriber
from webchat.messages.service import newest_event
from webchat.models import User
from webchat.rooms.service import access

ROOM_EVENTS = re.compile(r"/rooms/([0-9]{1,12})/events")
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
RESPONSE_HEADERS = [
    (name.lower().encode(), value.encode()) for name, value in sse.HEADERS.items()
] + SECURITY_HEADERS


class _Started:
    """The lean path subscribes and streams in one task: nothing to release if it never starts."""

    def cancel(self) -> None:
        pass


class LeanStreams:
    def __init__(self, app, inner) -> None:
        self.app = app
        self.inner = inner
        self.auth = app.extensions["QUART_AUTH"][0]
        production = app.config["WEBCHAT_PRODUCTION"]
        self.headers = RESPONSE_HEADERS + ([HSTS] if production else [])

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            room = ROOM_EVENTS.fullmatch(path)
            if room or path == "/events":
                try:
                    opened = await self._open(scope, int(room.group(1)) if room else None)
                except Exception:  # the database away, say: the Quart view gives the answer
                    opened = None
                if opened is not None:
                    await self._stream(*opened, receive, send)
                    return
        await self.inner(scope, receive, send)

    async def _user(self, headers: dict[bytes, bytes]) -> User | None:
        raw = headers.get(b"cookie")
        if not raw:
            return None
        try:
            cookie = SimpleCookie(raw.decode("latin-1"))
        except CookieError:
            return None
        morsel = cookie.get(self.auth.cookie_name)
        identity = morsel and self.auth.load_token(morsel.value, self.app)
        if not identity:
            return None
        head, _, version = identity.partition(":")
        if not (head.isdigit() and version.isdigit()):
            return None
        user = await User.get_or_none(id=int(head))
        if user is None or user.session_version != int(version):
            return None
        return user

    async def _open(self, scope, room_id: int | None):
        """(runtime, subscriber, body generator), or None to let the Quart view answer instead."""
        rt = self.app.extensions["webchat"]
        if rt.stopping.is_set():
            return None
        headers = dict(scope["headers"])
        user = await self._user(headers)
        if user is None:
            return None
        if room_id is None:
            after = None
        else:
            try:
                found = await access(room_id, user)
            except Refused:
                return None
            after = _resume_point(headers, scope["query_string"])
            if after is False:
                return None
        topics = await views._topics_for(user.id, room_id)
        if rt.settings.rate_limits and rt.hub.count_for(user.id) >= views.STREAMS_PER_USER:
            return None
        sub = Subscriber(user.id, room_id or 0, topics)
        rt.hub.add(sub)  # before reading the database: nothing can slip between replay and live
        if room_id is None:
            return rt, sub, views._user_stream(rt, sub, _Started())
        try:
            latest = await newest_event(room_id)
        except BaseException:
            rt.hub.remove(sub)
            raise
        private = found.room.kind != "public"
        return rt, sub, views._room_stream(
            rt, sub, _Started(), user.id, user.display_name, room_id, private, after, latest
        )

    async def _stream(self, rt, sub, body, receive, send) -> None:
        streaming = asyncio.current_task()

        async def watch_for_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            streaming.cancel()

        watcher = asyncio.create_task(watch_for_disconnect())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            async for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not watcher.done():
                raise  # cancelled by the server, not by the client leaving
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            await body.aclose()  # the generator's finally: subscription and presence
            rt.hub.remove(sub)  # also when the generator never started (a no-op otherwise)


def _resume_point(headers: dict[bytes, bytes], query: bytes) -> int | None | bool:
    """As views.resume_point; False for a value the Quart view must refuse with a 400."""
    values = []
    raw_header = headers.get(b"last-event-id")
    raws = [raw_header.decode("latin-1")] if raw_header is not None else []
    raws += [v for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k == "last_event_id"]
    for raw in raws:
        if raw == "":
            continue
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            return False
        values.append(int(raw))
    return max(values) if values else None
