"""The benchmark's event streams: one asyncio Protocol per stream, no task and no StreamReader.

Ten thousand of these fit in one client process. Each stream undoes Hypercorn's chunked body and
parses the events with the tests' own decoder and parser (tests/helpers/http1.py and sse.py, lean
on purpose), and hands `message` events (with their SSE id and receipt time) to its owner;
comments, presence and typing are only counted. The receipt time is taken when the bytes reach
the client's event loop, before any parsing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from tests.helpers.http1 import ChunkedDecoder, is_chunked, parse_head
from tests.helpers.sse import SSEParser
from tests.helpers import streams

_perf = time.perf_counter


class Owner:
    """What a phase of the benchmark does with the events its streams receive."""

    def on_message(self, stream: Stream, event_id: int, data: str, received: float) -> None:
        pass

    def on_closed(self, stream: Stream) -> None:
        pass


class Stream(asyncio.Protocol):
    __slots__ = (
        "owner", "request", "transport", "status", "_head", "_decoder", "_parser", "ready", "ended",
        "last_id", "messages", "others", "opened_at", "closed_by_us", "tag", "state",
    )

    def __init__(self, owner: Owner, request: bytes, tag=None) -> None:
        self.owner = owner
        self.request = request
        self.transport = None
        self.status = 0
        self._head = b""  # the response head until it is complete; then None
        self._decoder: ChunkedDecoder | None = None
        self._parser = SSEParser()
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()  # set once presence and typing arrived: subscribed
        self.ended = False
        self.last_id = 0
        self.messages = 0
        self.others: dict[str, int] = {}
        self.opened_at = _perf()
        self.closed_by_us = False
        self.tag = tag  # what the owner needs to know about this stream (user, room, server)
        self.state = None  # per-stream bookkeeping that belongs to the owner

    @property
    def comments(self) -> int:
        return self._parser.comments

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
            self.status, headers = parse_head(head[:end + 4])
            if self.status != 200:
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"stream answered {self.status}: {head[:300]!r}"))
                self.transport.close()
                return
            if is_chunked(headers):
                self._decoder = ChunkedDecoder()
            data = head[end + 4:]
        if self._decoder is not None:
            data = self._decoder.feed(data)
        if not data:
            return
        for event in self._parser.feed(data, received):
            kind = event.event
            if kind == "message":
                event_id = int(event.id)
                self.messages += 1
                self.owner.on_message(self, event_id, event.data, received)
                self.last_id = event_id
                continue
            self.others[kind] = self.others.get(kind, 0) + 1
            if kind == "typing" and not self.ready.done():
                self.ready.set_result(received)
            elif kind == "message_updated":
                self.last_id = int(event.id)

    def close(self) -> None:
        self.closed_by_us = True
        if self.transport is not None:
            self.transport.close()


def stream_request(host: str, port: int, path: str, cookie: str, last_event_id: int | None = None) -> bytes:
    """The GET a browser's EventSource sends (tests/helpers/streams.py), to host:port."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else None
    return streams.stream_request(path, cookie, headers, host=f"{host}:{port}")


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
