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

from webchat.live.entry import Answer, Entry, header_map, stream_path


class StreamTransport:
    """ASGI middleware: the two stream paths here, everything else to `inner` (Quart)."""

    def __init__(self, inner, entry: Entry) -> None:
        self.inner = inner
        self.entry = entry

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            is_stream, room = stream_path(scope["path"])
            if is_stream:
                await self._serve(scope, receive, send, room)
                return
        await self.inner(scope, receive, send)

    async def _serve(self, scope, receive, send, room: str | None) -> None:
        sink = QueueSink()
        opened = await self.entry.open(scope["method"], room, scope["query_string"], header_map(scope["headers"]), sink)
        if isinstance(opened, Answer):
            await send({"type": "http.response.start", "status": opened.status, "headers": opened.headers})
            await send({"type": "http.response.body", "body": opened.body, "more_body": False})
        else:
            await self._stream(*opened, sink, receive, send)

    async def _stream(self, plan, sub, sink: QueueSink, receive, send) -> None:
        streaming = asyncio.current_task()

        async def watch_for_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            streaming.cancel()

        watcher = asyncio.create_task(watch_for_disconnect())
        opening = asyncio.create_task(self.entry.entrance.start(self.entry.runtime, plan, sub))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.entry.stream_headers})
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
            self.entry.ended(sub)


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
