"""The event streams' transport, in front of Quart: `GET /rooms/ID/events` and `GET /events`.

An idle stream is most of what a chat server holds, so its cost per connection matters: through
Quart each one would carry a request object, a body queue, a task group of two tasks and a timeout
wrapper for its whole life (about 40 KB and most of the CPU of a fan-out, see docs/performance.md).
This ASGI middleware serves both paths itself, every answer included (refusals are short plain
text). Whether a stream may open, and what it carries, is decided by the one entrance it is given
(`webchat.streams`); this module only speaks ASGI. It serves the streams that reach the server
through Hypercorn (a connection that carried a page first, and the in-process test client);
webchat.live.frontdoor serves the others without going through ASGI at all.
"""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import parse_qsl

from webchat.live import sse

log = logging.getLogger("webchat.streams")
ROOM_EVENTS = re.compile(r"/rooms/([^/]{1,40})/events")
REASONS = {400: "Bad request", 401: "Sign in first", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 429: "Slow down", 500: "Error", 503: "Unavailable"}


class StreamTransport:
    """ASGI middleware: the two stream paths here, everything else to `inner` (Quart)."""

    def __init__(self, inner, runtime, entrance, identify, headers: dict[str, str], unavailable) -> None:
        self.inner = inner
        self.runtime = runtime
        self.entrance = entrance  # admit(), subscribe(), body()
        self.identify = identify  # Cookie header -> auth id
        self.unavailable = unavailable  # error -> the part not answering ('database', 'redis'), or None
        common = {**headers, "Cache-Control": "no-store"}
        self.refusal_headers = _encode({**common, "Content-Type": "text/plain; charset=utf-8"})
        self.stream_headers = _encode({**common, **sse.HEADERS})

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            room = ROOM_EVENTS.fullmatch(path)
            if room or path == "/events":
                await self._serve(scope, receive, send, room.group(1) if room else None)
                return
        await self.inner(scope, receive, send)

    async def _serve(self, scope, receive, send, room: str | None) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await self._answer(send, 405, "This address is an event stream: GET it.", {"Allow": "GET, HEAD"})
            return
        headers = dict(scope["headers"])
        resume = [_latin1(headers.get(b"last-event-id"))]
        resume += [v for k, v in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                   if k == "last_event_id"]
        rt, entrance = self.runtime, self.entrance
        sink = QueueSink()
        try:
            plan = await entrance.admit(rt, self.identify(headers.get(b"cookie")), room, resume)
            if not isinstance(plan, entrance.Plan) or scope["method"] == "HEAD":
                opened = plan
            else:
                opened = await entrance.subscribe(rt, plan, sink)
        except Exception as error:
            part = self.unavailable(error)
            if part is None:
                log.exception("could not open a stream")
                await self._answer(send, 500, "webchat hit an error. Reconnect in a moment.")
            else:
                log.warning("stream refused: %s unavailable (%s)", part, type(error).__name__)
                await self._answer(send, 503, f"webchat cannot reach its {part} just now.", {"Retry-After": "5"})
            return
        if isinstance(opened, entrance.Refusal):
            extra = {"Retry-After": str(max(1, opened.retry_after))} if opened.retry_after else {}
            await self._answer(send, opened.status, opened.message, extra)
        elif opened is plan:  # HEAD: the answer a GET would start with, and no stream
            await send({"type": "http.response.start", "status": 200, "headers": self.stream_headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self._stream(plan, opened, sink, receive, send)

    async def _answer(self, send, status: int, message: str, extra: dict | None = None) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": self.refusal_headers + _encode(extra or {})})
        await send({"type": "http.response.body", "body": f"{REASONS.get(status, '')}: {message}\n".encode(),
                    "more_body": False})

    async def _stream(self, plan, sub, sink: QueueSink, receive, send) -> None:
        streaming = asyncio.current_task()

        async def watch_for_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            streaming.cancel()

        watcher = asyncio.create_task(watch_for_disconnect())
        opening = asyncio.create_task(self.entrance.start(self.runtime, plan, sub))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.stream_headers})
            while (data := await sink.next()) is not None:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not watcher.done():
                raise  # cancelled by the server, not by the client leaving
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            opening.cancel()
            sub.end("gone")
            self.entrance.release(self.runtime, sub)


class QueueSink:
    """A stream's bytes on their way to ASGI's `send`: the transport's loop takes them as they come."""

    __slots__ = ("chunks", "size", "finished", "waiter")
    LIMIT = 1024 * 1024  # bytes not yet taken: more, and the client is too far behind

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.finished = False
        self.waiter: asyncio.Future | None = None

    def write(self, frame: bytes, chunk: bytes | None = None) -> bool:
        if self.finished:
            return True
        self.chunks.append(frame)
        self.size += len(frame)
        self._wake()
        return self.size <= self.LIMIT

    def finish(self, frame: bytes = b"") -> None:
        if frame and not self.finished:
            self.chunks.append(frame)
        self.finished = True
        self._wake()

    async def drained(self) -> None:
        while self.chunks and not self.finished:
            await self._wait()

    async def next(self) -> bytes | None:
        """What was written since last time (waiting for it), or None once finished and sent."""
        while not self.chunks:
            if self.finished:
                return None
            await self._wait()
        data, self.chunks, self.size = b"".join(self.chunks), [], 0
        self._wake()  # whoever waits for drained()
        return data

    async def _wait(self) -> None:
        if self.waiter is None or self.waiter.done():
            self.waiter = asyncio.get_running_loop().create_future()
        await self.waiter

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def _latin1(raw: bytes | None) -> str | None:
    return raw.decode("latin-1") if raw is not None else None
