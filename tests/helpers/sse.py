"""The one Server-Sent Events parser of the tests, the soak and the benchmark.

Incremental, bytes in and events out, read as a browser's EventSource reads them (the
"event-stream interpretation" of the HTML standard): lines end in LF, CRLF or CR; a blank line
ends an event; an event with no data is not dispatched; comments are counted, `retry` kept, and
`last_id` is what a reconnecting browser would send as Last-Event-ID. It knows nothing of HTTP:
its callers undo the transfer coding first (tests/helpers/http1.py), or get the body already
whole (the Quart test client, tests/helpers/tab.py).

It is lean on purpose, because the benchmark parses every event it measures with it: the usual
event (a few fields, then only `data: ` lines) is taken apart with a handful of bytes operations,
not line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The usual event, taken apart in one go: its type and id (when it has them), then "data: " lines.
_USUAL = re.compile(rb"(?:event: ([^\n]+)\n)?(?:id: ([^\n\0]*)\n)?data: ")


@dataclass(slots=True)
class Event:
    event: str  # the event type: "message" unless the stream named one
    data: str
    id: str | None  # the id field of this event, if it had one
    received: float = 0.0  # when its bytes arrived, on whatever clock the caller passed to feed()


class SSEParser:
    """feed() the body's bytes as they arrive; get back the events they complete."""

    __slots__ = ("_pending", "_id", "last_id", "retry", "comments")

    def __init__(self) -> None:
        self._pending = b""  # the start of an event (or of a line) still to be completed
        self._id: str | None = None  # the standard's "last event ID buffer"
        self.last_id: str | None = None  # of the last event dispatched: what a browser resumes from
        self.retry: int | None = None  # the last reconnection time the stream asked for, in ms
        self.comments = 0  # comment lines (": keep-alive") seen so far

    def feed(self, data: bytes, received: float = 0.0) -> list[Event]:
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):  # a CR that may be the first half of a CRLF
                buffer, tail = buffer[:-1], b"\r"
            else:
                tail = b""
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail
        events = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:  # a blank line ends an event
            if end > start and (event := self._event(buffer, start, end, received)) is not None:
                events.append(event)
            start = end + 2
        self._pending = buffer[start:] if start else buffer
        return events

    def _event(self, buffer: bytes, start: int, end: int, received: float) -> Event | None:
        """The event whose lines are buffer[start:end] (a blank line follows them)."""
        if usual := _USUAL.match(buffer, start, end):  # "event: …", "id: …", then only "data: " lines?
            first = usual.end() - 6
            data = buffer[first:end].replace(b"\ndata: ", b"\n")
            if (end - first - len(data)) // 6 == buffer.count(b"\n", first, end):
                kind, event_id = usual.group(1, 2)
                if event_id is not None:
                    self._id = event_id = event_id.decode()
                self.last_id = self._id
                return Event(kind.decode() if kind else "message", data[6:].decode(), event_id, received)
        kind = "message"
        data = None
        event_id = None
        pos = start
        while pos < end:  # line by line, each "name", "name:value" or "name: value"
            eol = buffer.find(b"\n", pos, end)
            if eol < 0:
                eol = end
            name, colon, value = buffer[pos:eol].partition(b":")
            pos = eol + 1
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                data = value if data is None else data + b"\n" + value
            elif name == b"event":
                kind = value.decode() or "message"
            elif name == b"id":
                if b"\0" not in value:  # an id with NUL is ignored
                    self._id = event_id = value.decode()
            elif name == b"retry" and value.isdigit():
                self.retry = int(value)
            elif colon and not name:
                self.comments += 1
        if data is None:
            return None
        self.last_id = self._id
        return Event(kind, data.decode(), event_id, received)

    @property
    def in_event_data(self) -> bool:
        """Some of an event's data lines have arrived, but not the blank line that ends it."""
        lines = self._pending.split(b"\n")[:-1]  # the last one may be incomplete
        return any(line == b"data" or line.startswith(b"data:") for line in lines)
