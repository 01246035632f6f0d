"""What every stream transport does with a request, up to the stream's first byte: read the
path, the cookie and the resume point, ask the entrance (webchat.streams) whether the stream may
open, subscribe it, and turn a refusal or a failure into a short answer. The transports (asgi.py,
frontdoor.py) only speak their protocol around it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from webchat.live import sse
from webchat.live.feed import Sink, Subscriber

log = logging.getLogger("webchat.streams")
ROOM_EVENTS = re.compile(r"/rooms/([^/]{1,40})/events")
# The first words of a refusal's text.
TITLES = {400: "Bad request", 401: "Sign in first", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 429: "Slow down", 500: "Error", 503: "Unavailable"}


def stream_path(path: str) -> tuple[bool, str | None]:
    """Whether the path is an event stream's; and the room part of it (None for /events)."""
    if path == "/events":
        return True, None
    room = ROOM_EVENTS.fullmatch(path)
    return (True, room.group(1)) if room else (False, None)


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole response that is not a stream: a refusal, or the head a HEAD asked for."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


class Entry:
    def __init__(self, runtime, entrance, identify, headers: dict[str, str], unavailable) -> None:
        self.runtime = runtime
        self.entrance = entrance  # admit(), subscribe(), start(), release(), Plan, Refusal
        self.identify = identify  # Cookie header -> auth id
        self.unavailable = unavailable  # error -> the part not answering ('database', 'redis'), or None
        common = {**headers, "Cache-Control": "no-store"}
        self.refusal_headers = encode({**common, "Content-Type": "text/plain; charset=utf-8"})
        self.stream_headers = encode({**common, **sse.HEADERS})

    async def open(self, method: str, room: str | None, query: bytes, headers: dict[bytes, bytes],
                   sink: Sink):
        """(plan, subscriber) for a stream that opens; else the Answer to give."""
        if method not in ("GET", "HEAD"):
            return self.refusal(405, "This address is an event stream: GET it.", {"Allow": "GET, HEAD"})
        resume = [_latin1(headers.get(b"last-event-id"))]
        resume += [v for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k == "last_event_id"]
        rt, entrance = self.runtime, self.entrance
        try:
            plan = await entrance.admit(rt, self.identify(headers.get(b"cookie")), room, resume,
                                        languages=(_latin1(headers.get(b"cookie")),
                                                   _latin1(headers.get(b"accept-language"))))
            if isinstance(plan, entrance.Refusal):
                opened = plan
            elif method == "HEAD":
                return Answer(200, self.stream_headers)
            else:
                opened = await entrance.subscribe(rt, plan, sink)
        except Exception as error:
            part = self.unavailable(error)
            if part is None:
                log.exception("could not open a stream")
                return self.refusal(500, "webchat hit an error. Reconnect in a moment.")
            log.warning("stream refused: %s unavailable (%s)", part, type(error).__name__)
            return self.refusal(503, f"webchat cannot reach its {part} just now.", {"Retry-After": "5"})
        if isinstance(opened, entrance.Refusal):
            extra = {"Retry-After": str(max(1, opened.retry_after))} if opened.retry_after else {}
            return self.refusal(opened.status, opened.message, extra)
        return plan, opened

    def refusal(self, status: int, message: str, extra: dict[str, str] | None = None) -> Answer:
        body = f"{TITLES.get(status, 'Error')}: {message}\n".encode()
        return Answer(status, self.refusal_headers + encode(extra or {}), body)

    def ended(self, sub: Subscriber) -> None:
        """However the connection ended: the stream is over and released."""
        sub.end("gone")
        self.entrance.release(self.runtime, sub)


def header_map(pairs) -> dict[bytes, bytes]:
    """Request headers by lower-case name. A repeated header is joined as HTTP says (RFC 9110
    5.3), and cookies with "; " (HTTP/2 and some clients send each cookie in its own header)."""
    headers: dict[bytes, bytes] = {}
    for name, value in pairs:
        name = name.lower()
        if name in headers:
            headers[name] += (b"; " if name == b"cookie" else b", ") + value
        else:
            headers[name] = value
    return headers


def encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def _latin1(raw: bytes | None) -> str | None:
    return raw.decode("latin-1") if raw is not None else None
