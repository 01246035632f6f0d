"""Event streams of a real server, opened on raw sockets: a thousand of them fit in one process.

Two views of one stream. `RawStream` is read when its owner asks (`read_events()`), so a test can
also misbehave on purpose: read a few bytes and hang up inside an event, never read, drop the
connection with a reset. `LiveStream` reads in the background and keeps every event, for tests
that wait for an event, take a few, check that none come, or look back at all of them
(`LiveUser.stream()` in tests/helpers/live.py opens one).

Both parse with the one SSE parser (tests/helpers/sse.py) behind the one chunked decoder
(tests/helpers/http1.py). Every wait is bounded. The benchmark holds its 10,000 streams with
bench/sse.py instead, which has no task and no StreamReader per stream.
"""

from __future__ import annotations

import asyncio
import time

from tests.helpers.http1 import (
    ChunkedDecoder, Headers, ProtocolError, encode_request, is_chunked, read_body, read_head,
)
from tests.helpers.net import hard_close
from tests.helpers.sse import Event, SSEParser


def stream_request(path: str, cookie: str | None = None, headers: dict | None = None,
                   host: str = "127.0.0.1") -> bytes:
    """The GET that a browser's EventSource sends."""
    fields = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    if cookie:
        fields["Cookie"] = cookie
    return encode_request("GET", path, host, {**fields, **(headers or {})})


class RawStream:
    """One open event stream: `status` and `headers` once open, then `read_events()`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int,
                 headers: Headers) -> None:
        self.reader, self.writer = reader, writer
        self.status, self.headers = status, headers
        self.body = b""  # the whole body, for an answer that is not a stream
        self.parser = SSEParser()
        self.decoder = ChunkedDecoder() if is_chunked(headers) else None
        self.ended = False
        self.truncated = False  # the connection closed before the chunked body's end

    async def read_events(self, max_bytes: int = 65536) -> list[Event] | None:
        """The next batch of complete events (possibly empty); None at the end of the stream."""
        if self.ended:
            return None
        data = await self.reader.read(max_bytes)
        if not data:
            self.ended = True
            self.truncated = self.decoder is not None and not self.decoder.done
            return None
        if self.decoder is not None:
            data = self.decoder.feed(data)
            self.ended = self.decoder.done
        return self.parser.feed(data, time.monotonic()) if data else []

    async def events_until(self, predicate, timeout: float) -> list[Event]:
        """Read until an event satisfies predicate (returned list ends with it); bounded in time."""
        seen: list[Event] = []
        async with asyncio.timeout(timeout):
            while True:
                batch = await self.read_events()
                if batch is None:
                    raise ProtocolError(f"stream ended before the awaited event; saw {seen!r}")
                for event in batch:
                    seen.append(event)
                    if predicate(event):
                        return seen

    def close(self, abrupt: bool = False) -> None:
        if abrupt:
            hard_close(self.writer)
        else:
            self.writer.close()


async def open_stream(port: int, path: str, cookie: str | None = None, headers: dict | None = None,
                      timeout: float = 10, host: str = "127.0.0.1") -> RawStream:
    """Open an event stream; an answer other than 200 is read whole (for its status page)."""
    reader, writer = await asyncio.open_connection(host, port, limit=2**20)
    writer.write(stream_request(path, cookie, headers, host))
    try:
        status, response_headers = await read_head(reader, timeout)
    except BaseException:
        writer.close()
        raise
    stream = RawStream(reader, writer, status, response_headers)
    if status != 200:
        try:
            async with asyncio.timeout(timeout):
                stream.body, _ = await read_body(reader, response_headers)
        finally:
            writer.close()
        stream.ended = True
    return stream


class LiveStream:
    """An open event stream read in the background, every event kept in `log`.

    `next()`, `take()` and `until()` consume events in order; `quiet()` collects what arrives for a
    while; `seen()`, `shows()` and `of()` look at the whole log without consuming. `ended` is set
    when the stream ends; `error` is None when it ended cleanly (the chunked body was terminated
    properly), or what broke it.
    """

    def __init__(self, raw: RawStream) -> None:
        self.raw = raw
        self.status, self.headers, self.body = raw.status, raw.headers, raw.body
        self.log: list[Event] = []
        self.last_id: str | None = None  # of the newest event that had one: where to resume
        self.error: BaseException | None = None
        self.ended = asyncio.Event()
        self._cursor = 0
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read()) if raw.status == 200 else None
        if self._task is None:
            self.ended.set()

    @property
    def comments(self) -> int:
        return self.raw.parser.comments

    @property
    def retry(self) -> int | None:
        return self.raw.parser.retry

    async def _read(self) -> None:
        try:
            while (batch := await self.raw.read_events()) is not None:
                if batch:
                    self.log.extend(batch)
                    self.last_id = self.raw.parser.last_id
                    self._arrived.set()
            if self.raw.truncated:
                raise ProtocolError("the connection closed before the end of the stream")
        except (OSError, ProtocolError) as error:
            self.error = error
        finally:
            self.ended.set()
            self._arrived.set()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.raw.close()

    async def _next_event(self, timeout: float) -> Event | None:
        """The next event not yet consumed, or None when the stream has ended."""
        async with asyncio.timeout(timeout):
            while self._cursor >= len(self.log):
                if self.ended.is_set():
                    return None
                self._arrived.clear()
                await self._arrived.wait()
        self._cursor += 1
        return self.log[self._cursor - 1]

    async def next(self, timeout: float = 5, skip: tuple[str, ...] = ()) -> Event | None:
        """The next event not of a kind in `skip` (each wait bounded by `timeout`); None at the end."""
        while (event := await self._next_event(timeout)) is not None and event.event in skip:
            pass
        return event

    async def take(self, kind: str, count: int, timeout: float = 10) -> list[Event]:
        """The next `count` events of this kind (fewer if the stream ends first)."""
        found = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                event = await self._next_event(timeout)
                if event is None:
                    break
                if event.event == kind:
                    found.append(event)
        return found

    async def until(self, kind: str, predicate=lambda data: True, timeout: float = 10) -> Event:
        """The first event of this kind from here on whose data satisfies the predicate."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self._next_event(timeout)
                if event is None:
                    raise AssertionError(f"stream ended before a matching {kind} event")
                if event.event == kind and predicate(event.data):
                    return event

    async def quiet(self, kind: str, seconds: float) -> list[Event]:
        """Events of this kind that arrive within `seconds` (to assert that none do)."""
        found = []
        try:
            async with asyncio.timeout(seconds):
                while (event := await self._next_event(seconds + 1)) is not None:
                    if event.event == kind:
                        found.append(event)
        except TimeoutError:
            pass
        return found

    async def seen(self, kind: str, predicate=lambda data: True, timeout: float = 10) -> Event:
        """The first matching event in the whole log, waiting for it; consumes nothing."""

        def first():
            return next((e for e in self.log if e.event == kind and predicate(e.data)), None)

        return await self._wait(first, f"a matching {kind} event", timeout)

    async def shows(self, kind: str, predicate, timeout: float = 10) -> Event:
        """Wait until the latest event of this kind (presence, typing: a state) satisfies the
        predicate; consumes nothing."""

        def latest():
            events = self.of(kind)
            return events[-1] if events and predicate(events[-1].data) else None

        return await self._wait(latest, f"its {kind} matched", timeout)

    async def _wait(self, look, what: str, timeout: float) -> Event:
        async with asyncio.timeout(timeout):
            while (found := look()) is None:
                if self.ended.is_set():
                    raise AssertionError(f"stream ended before {what}")
                self._arrived.clear()
                await self._arrived.wait()
            return found

    def of(self, *kinds: str) -> list[Event]:
        """Every event of these kinds received so far, consumed or not."""
        return [event for event in self.log if event.event in kinds]
