"""The front door: the first bytes of every connection to the public port.

A connection whose first request asks for an event stream is served right here: the request head
is parsed with h11, the stream is opened through the same entry as the ASGI transport's, and from
then on each event goes straight to the connection's transport, already framed as an HTTP chunk
that every subscriber shares: no ASGI messages, no task per stream, no wake-up per delivery. Any
other connection is handed to Hypercorn with the bytes read so far, and Hypercorn serves it as
usual (a stream asked for later on such a keep-alive connection is served by the ASGI transport).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import unquote

import h11

from webchat.live import sse
from webchat.live.entry import Answer, Entry, header_map, stream_path
from webchat.live.feed import Subscriber

LINE_LIMIT = 8 * 1024  # a request line longer than this is Hypercorn's to refuse
HEAD_LIMIT = 16 * 1024  # as Hypercorn's h11_max_incomplete_size
# Bytes a stream's client may leave unread before it counts as too far behind: it is then cut
# off and resumes from its last event id (the kernel's own buffers come on top of this).
WRITE_LIMIT = 256 * 1024
STREAM_METHODS = (b"GET", b"HEAD")

HandOff = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Door:
    """What every connection at the door shares."""

    def __init__(self, entry: Entry, hand_off: HandOff, head_seconds: float) -> None:
        self.entry = entry
        self.hand_off = hand_off  # serves a connection the usual way (Hypercorn)
        self.head_seconds = head_seconds  # to send a whole request head, as Hypercorn allows
        self.streams: set[Connection] = set()
        # Connections written to since the last flush: what one dispatch (or several in a row,
        # a message and its unread number) has for a client goes out in one write, one system
        # call, at the end of the loop's turn.
        self.dirty: list[Connection] = []

    def __call__(self) -> Connection:
        return Connection(self)

    def queue(self, connection: Connection) -> None:
        if not self.dirty:
            asyncio.get_running_loop().call_soon(self.flush)
        self.dirty.append(connection)

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, []
        for connection in dirty:
            connection.flush()


class Connection(asyncio.Protocol):
    """One connection at the door; once it carries a stream, that stream's sink."""

    __slots__ = ("door", "transport", "buffer", "timer", "opening", "sub", "paused", "drain", "early", "out")

    def __init__(self, door: Door) -> None:
        self.door = door
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.timer: asyncio.TimerHandle | None = None
        self.opening: asyncio.Task | None = None
        self.sub: Subscriber | None = None
        self.paused = False
        self.drain: asyncio.Future | None = None
        # What the stream wrote before its response head went out (a `close` may come while it
        # is confirmed): sent right after the head. None once the head is out.
        self.early: list[bytes] | None = []
        self.out: bytes | list[bytes] | None = None  # written, and waiting for the door's flush

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(self.door.head_seconds, self._too_slow)

    def data_received(self, data: bytes) -> None:
        if self.opening is not None:
            return  # a stream's client sends nothing after its request
        self.buffer += data
        line = self.buffer.find(b"\r\n")
        if line < 0:
            if len(self.buffer) > LINE_LIMIT:
                self._hand_off()
            return
        if not _is_stream_request(bytes(self.buffer[:line])):
            self._hand_off()
            return
        if b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > HEAD_LIMIT:
                self._hand_off()  # Hypercorn refuses a head this large, as it does for any request
            return
        parser = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_LIMIT)
        parser.receive_data(bytes(self.buffer))
        try:
            request = parser.next_event()
        except h11.RemoteProtocolError:
            request = None
        if not isinstance(request, h11.Request) or request.http_version != b"1.1":
            self._hand_off()  # malformed, or HTTP/1.0 (no chunked bodies): Hypercorn answers it
            return
        self.timer.cancel()
        self.buffer = bytearray()
        self.opening = asyncio.get_running_loop().create_task(self._open(request))

    def eof_received(self) -> bool:
        return False  # the client is done: close (a stream ends with it)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.opening is not None and not self.opening.done():
            self.opening.cancel()
        if self.sub is not None:
            self.door.streams.discard(self)
            self.door.entry.ended(self.sub)
            self.sub = None
        self._resume_drain()

    def _too_slow(self) -> None:
        self.transport.close()  # no whole request head in time (slowloris)

    def _hand_off(self) -> None:
        """Hypercorn serves this connection from now on, starting with what was read."""
        self.timer.cancel()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, self.door.hand_off, loop=loop)
        transport, data = self.transport, bytes(self.buffer)
        self.transport, self.buffer = None, bytearray()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(data)

    async def _open(self, request: h11.Request) -> None:
        path, _, query = request.target.partition(b"?")
        _, room = stream_path(unquote(path.decode("latin-1")))
        headers = header_map(request.headers)
        opened = await self.door.entry.open(request.method.decode(), room, query, headers, self)
        transport = self.transport
        if transport is None or transport.is_closing():
            if not isinstance(opened, Answer):
                self.door.entry.ended(opened[1])
            return
        if isinstance(opened, Answer):
            transport.write(_head(opened.status, opened.headers, len(opened.body)) + opened.body)
            transport.close()
            return
        plan, self.sub = opened
        self.door.streams.add(self)
        early, self.early = self.early, None
        transport.write(_head(200, self.door.entry.stream_headers) + b"".join(early))
        if self.sub.closed:  # ended before it began (removed meanwhile): the close is out
            transport.close()
            return
        await self.door.entry.entrance.start(self.door.entry.runtime, plan, self.sub)

    # As the stream's sink (webchat.live.feed.Sink) -------------------------------------------

    def write(self, frame: bytes, chunk: bytes | None = None) -> bool:
        transport = self.transport
        if transport is None or transport.is_closing():
            return True  # gone: connection_lost releases the stream
        data = chunk if chunk is not None else sse.chunk(frame)
        if self.early is not None:
            self.early.append(data)
        elif self.out is None:
            self.out = data
            self.door.queue(self)
        elif isinstance(self.out, list):
            self.out.append(data)
        else:
            self.out = [self.out, data]
        return True  # how far behind the client is, the flush judges

    def flush(self) -> None:
        out, self.out = self.out, None
        transport = self.transport
        if out is None or transport is None or transport.is_closing():
            return
        transport.write(out if isinstance(out, bytes) else b"".join(out))
        if transport.get_write_buffer_size() > WRITE_LIMIT and self.sub is not None:
            self.sub.end("overflow")  # it does not read what it is sent: it resumes from its last id

    def finish(self, frame: bytes = b"") -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.early is not None:  # the head is not out yet: the end follows it (see _open)
            self.early.append((sse.chunk(frame) if frame else b"") + sse.LAST_CHUNK)
            return
        self.flush()
        if transport.get_write_buffer_size() > WRITE_LIMIT:
            transport.abort()  # it does not read: waiting to flush would hold the socket
            return
        transport.write((sse.chunk(frame) if frame else b"") + sse.LAST_CHUNK)
        transport.close()

    async def drained(self) -> None:
        while self.paused and self.transport is not None:
            if self.drain is None or self.drain.done():
                self.drain = asyncio.get_running_loop().create_future()
            await self.drain

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._resume_drain()

    def _resume_drain(self) -> None:
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)


def _is_stream_request(line: bytes) -> bool:
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] not in STREAM_METHODS or parts[2] != b"HTTP/1.1":
        return False
    path = parts[1].partition(b"?")[0]
    return stream_path(unquote(path.decode("latin-1")))[0]


def _head(status: int, headers: list[tuple[bytes, bytes]], length: int | None = None) -> bytes:
    lines = [b"HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase.encode())]
    lines += [name + b": " + value for name, value in headers]
    if length is None:
        lines.append(b"transfer-encoding: chunked")
    else:
        lines += [b"content-length: %d" % length, b"connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"
