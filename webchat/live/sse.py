"""The Server-Sent Events wire format: one bytes object per event, shared by every subscriber."""

from __future__ import annotations

from webchat.text import sse_lines

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


def frame(event: str, data: str, event_id: int | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend("data: " + line for line in sse_lines(data))
    return ("\n".join(lines) + "\n\n").encode()
