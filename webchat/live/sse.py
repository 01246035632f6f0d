"""The Server-Sent Events wire format: one bytes object per event, shared by every subscriber."""

from __future__ import annotations

import re

RETRY_MS = 2000
# Below Heroku's 55 s idle window and the contract's 20 s.
HEARTBEAT_SECONDS = 15.0
OPENING = f"retry: {RETRY_MS}\n: connected\n\n".encode()
HEARTBEAT = b": keep-alive\n\n"
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",
    "Connection": "keep-alive",
}
# Exactly the line ends that the wire format treats as line ends: each line of data gets its own
# "data: " prefix, so no text can end an event early or forge another one.
_LINE_END = re.compile(r"\r\n|\r|\n")


def frame(event: str, data: str, event_id: int | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend("data: " + line for line in _LINE_END.split(data))
    return ("\n".join(lines) + "\n\n").encode()


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk of a chunked body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"
