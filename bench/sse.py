"""A lean SSE client: one asyncio Protocol per stream, no task per stream, a hand-written parser.

Ten thousand of these fit in one client process. Each stream de-chunks Hypercorn's chunked body,
splits events on blank lines, and hands `message` events (with their SSE id and receipt time) to
its owner; comments, presence and typing are only counted. The receipt time is taken when the
bytes reach the client's event loop, before any parsing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

_perf = time.perf_counter


class Owner:
    """What a phase of the benchmark does with the events its streams receive."""

    def on_message(self, stream: Stream, event_id: int, block: bytes, received: float) -> None:
        pass

    def on_closed(self, stream: Stream) -> None:
        pass


class Stream(asyncio.Protocol):
    __slots__ = (
        "owner", "request", "transport", "status", "_head", "_raw", "_chunked", "_data_left",
        "_crlf_left", "_sse", "ready", "ended", "last_id", "messages", "comments", "others",
        "opened_at", "closed_by_us", "tag", "state",
    )

    def __init__(self, owner: Owner, request: bytes, tag=None) -> None:
        self.owner = owner
        self.request = request
        self.transport = None
        self.status = 0
        self._head = b""
        self._raw = b""
        self._chunked = False
        self._data_left = 0
        self._crlf_left = 0
        self._sse = b""
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()  # set once presence and typing arrived: subscribed
        self.ended = False
        self.last_id = 0
        self.messages = 0
        self.comments = 0
        self.others: dict[bytes, int] = {}
        self.opened_at = _perf()
        self.closed_by_us = False
        self.tag = tag  # what the owner needs to know about this stream (user, room, server)
        self.state = None  # per-stream bookkeeping that belongs to the owner

    # -- asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        self.ended = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"stream closed before it was ready ({self.status})"))
        self.owner.on_closed(self)

    def data_received(self, data: bytes) -> None:
        received = _perf()
        if self._head is not None:
            head = self._head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self._head = head
                return
            self._head = None
            lines = head[:end].split(b"\r\n")
            self.status = int(lines[0].split(b" ", 2)[1])
            if self.status != 200:
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"stream answered {self.status}: {head[:300]!r}"))
                self.transport.close()
                return
            self._chunked = any(line.lower() == b"transfer-encoding: chunked" for line in lines)
            data = head[end + 4:]
            if not data:
                return
        if not self._chunked:
            self._feed(data, received)
            return
        raw = self._raw + data if self._raw else data
        self._raw = b""
        pos, n = 0, len(raw)
        out = []
        while pos < n:
            if self._data_left:
                take = min(self._data_left, n - pos)
                out.append(raw[pos:pos + take])
                pos += take
                self._data_left -= take
                if not self._data_left:
                    self._crlf_left = 2
                continue
            if self._crlf_left:
                take = min(self._crlf_left, n - pos)
                pos += take
                self._crlf_left -= take
                continue
            eol = raw.find(b"\r\n", pos)
            if eol < 0:
                self._raw = raw[pos:]
                break
            size = int(raw[pos:eol].split(b";", 1)[0], 16)
            pos = eol + 2
            if size == 0:  # the server ended the stream
                break
            self._data_left = size
        if out:
            self._feed(out[0] if len(out) == 1 else b"".join(out), received)

    # -- SSE
    def _feed(self, payload: bytes, received: float) -> None:
        buf = self._sse + payload if self._sse else payload
        if b"\n\n" not in buf:
            self._sse = buf
            return
        blocks = buf.split(b"\n\n")
        self._sse = blocks.pop()
        for block in blocks:
            if block.startswith(b"event: message\nid: "):
                eol = block.find(b"\n", 19)
                event_id = int(block[19:eol])
                self.messages += 1
                self.owner.on_message(self, event_id, block, received)
                self.last_id = event_id
            elif block.startswith(b":") or block.startswith(b"retry:"):
                self.comments += 1
            elif block.startswith(b"event: "):
                eol = block.find(b"\n")
                kind = block[7:eol if eol > 0 else None]
                self.others[kind] = self.others.get(kind, 0) + 1
                if kind == b"typing" and not self.ready.done():
                    self.ready.set_result(received)
                elif kind == b"message_updated":
                    eol2 = block.find(b"\n", eol + 1)
                    self.last_id = int(block[eol + 5:eol2])

    def close(self) -> None:
        self.closed_by_us = True
        if self.transport is not None:
            self.transport.close()


def stream_request(host: str, port: int, path: str, cookie: str, last_event_id: int | None = None) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream",
        "Cache-Control: no-cache", f"Cookie: {cookie}",
    ]
    if last_event_id is not None:
        lines.append(f"Last-Event-ID: {last_event_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def open_stream(owner: Owner, host: str, port: int, path: str, cookie: str,
                      last_event_id: int | None = None, tag=None, timeout: float = 30) -> Stream:
    loop = asyncio.get_running_loop()
    request = stream_request(host, port, path, cookie, last_event_id)
    _, stream = await loop.create_connection(lambda: Stream(owner, request, tag), host, port)
    try:
        async with asyncio.timeout(timeout):
            await stream.ready
    except BaseException:
        stream.close()
        raise
    return stream


async def open_many(owner: Owner, specs: Iterable[tuple], host: str = "127.0.0.1",
                    concurrency: int = 64, timeout: float = 60) -> list[Stream]:
    """Open streams for (port, path, cookie, tag) specs, a bounded number at a time; all or nothing."""
    specs = list(specs)
    streams: list[Stream | None] = [None] * len(specs)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i, port, path, cookie, tag):
        async with semaphore:
            for attempt in range(3):
                try:
                    streams[i] = await open_stream(owner, host, port, path, cookie, tag=tag, timeout=timeout)
                    return
                except (ConnectionError, OSError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))

    try:
        async with asyncio.TaskGroup() as group:
            for i, (port, path, cookie, tag) in enumerate(specs):
                group.create_task(one(i, port, path, cookie, tag))
    except BaseException:
        close_all(s for s in streams if s is not None)
        raise
    return streams  # type: ignore[return-value]


def close_all(streams: Iterable[Stream]) -> None:
    for stream in streams:
        stream.close()
