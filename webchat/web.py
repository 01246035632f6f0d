"""Small helpers shared by the views: htmx detection, redirects, the composer's state, forms,
rate limits and form errors."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import wraps

from quart import Response, g, redirect, request

from webchat.clock import Clock, clock_for
from webchat.refusals import SlowDown
from webchat.runtime import current


def reader_clock() -> Clock:
    """The reader's zone and clock for this request's pages: UTC, labelled, until a signed-in
    reader chose a zone on /settings. Made once per request."""
    clock = g.get("reader_clock")
    if clock is None:
        user = g.get("user")
        if user is None:
            clock = clock_for(None)
        else:
            clock = clock_for(user.time_zone if user.time_zone_set else None, user.clock, g.get("language", "en"))
        g.reader_clock = clock
    return clock


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def see_other(location: str) -> Response:
    return redirect(location, 303)


def done(location: str, htmx_status: int = 204) -> Response:
    """Post/redirect/get for plain forms; an empty answer for htmx, whose stream brings the news."""
    if is_htmx():
        return Response("", htmx_status)
    return see_other(location)


def safe_next(target: str | None) -> str | None:
    """A local path only: '/rooms/3' yes; '//evil.example', 'https://…', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    # Printable ASCII only (what our own sign-in redirect sends, percent-encoded): a control
    # character or a non-ASCII one would not survive as a Location header.
    if "\\" in target or len(target) > 512 or not all("!" <= ch <= "~" for ch in target):
        return None
    return target


def composer(room_id: int, body: str = "", error: str | None = None, nonce: str | None = None,
             reply: dict | None = None) -> dict:
    """The composer's state; a fresh nonce each time, so a resubmitted form is recognised.
    `reply`: the message being answered ({"id", "label"}), or None."""
    return {"room": room_id, "body": body, "error": error, "nonce": nonce or secrets.token_urlsafe(16),
            "reply": reply}


def form() -> dict:
    return g.get("form") or {}


def client_key() -> str:
    # remote_addr is the socket peer, or in production the one trusted proxy hop's client.
    return request.remote_addr or "unknown"


def rate_limit(name: str, what: str, *, by_address: bool = False, quiet: bool = False):
    """Every POST to the view counts against the named limit before the view runs, valid or not
    (so that no answer, not even "that name is taken", comes for free). Keyed on the user, or on
    the client's address where nobody is signed in yet. `quiet`: a bare 429 (typing signals)."""

    def decorate(view):
        @wraps(view)
        async def limited_view(*args, **kwargs):
            if request.method == "POST":
                rt = current()
                key = client_key() if by_address or g.get("user") is None else str(g.user.id)
                if wait := await rt.limiter.hit(f"{name}:{key}", rt.limits[name]):
                    raise SlowDown(wait, what, quiet)
            return await view(*args, **kwargs)

        limited_view.rate_limit = name
        return limited_view

    return decorate


@dataclass
class FormErrors:
    """Errors by field id, in the order the fields appear, for the error summary."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, field_id: str, message: str) -> None:
        self.items.append((field_id, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def get(self, field_id: str) -> str | None:
        for fid, message in self.items:
            if fid == field_id:
                return message
        return None
