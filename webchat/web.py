"""Small helpers shared by the views: htmx detection, redirects, error pages, form errors."""

from __future__ import annotations

import secrets
from functools import wraps
from dataclasses import dataclass, field
from urllib.parse import quote

from quart import Response, current_app, g, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_stream() -> bool:
    return request.path.endswith("/events") or "text/event-stream" in request.headers.get(
        "Accept", ""
    )


def see_other(location: str) -> Response:
    return redirect(location, 303)


def done(location: str, htmx_status: int = 204) -> Response:
    """Post/redirect/get for plain forms; an empty answer for htmx, whose stream brings the news."""
    if is_htmx():
        return Response("", htmx_status)
    return see_other(location)


def composer(body: str = "", error: str | None = None) -> dict:
    """The composer's state; a fresh nonce each time, so a resubmitted form is recognised."""
    return {"body": body, "error": error, "nonce": secrets.token_urlsafe(16)}


def form() -> dict:
    return g.get("form") or {}


async def error_page(status: int, title: str, message: str, headers: dict | None = None) -> Response:
    headers = dict(headers or {})
    if is_htmx():
        # An error is news for the page's status region, not a replacement for what was targeted.
        headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        template = "errors/fragment.html"
    else:
        template = "errors/page.html"
    body = await render_template(template, status=status, title=title, message=message)
    return Response(body, status, headers)


def sign_in_required():
    if is_htmx() or wants_stream():
        return Response("Sign in first.", 401, {"Content-Type": "text/plain; charset=utf-8"})
    target = request.full_path.rstrip("?")
    return see_other(f"/login?next={quote(target, safe='/')}")


async def csrf_failed():
    return await error_page(
        403,
        "This form has expired",
        "For your safety this form could not be accepted: it came from another site, or the page "
        "was open too long. Go back, reload the page, and send it again.",
    )


async def too_large():
    return await error_page(
        413,
        "Too much text",
        "What you sent is larger than 256 KiB, so it could not be kept. Go back and send less.",
    )


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
                key = client_key() if by_address or g.get("user") is None else str(g.user.id)
                limit = current_app.config["RATE_LIMITS"][name]
                wait = await g.runtime.limiter.hit(f"{name}:{key}", limit)
                if wait:
                    if quiet:
                        return Response("", 429, {"Retry-After": str(max(1, round(wait)))})
                    return await rate_limited(wait, what)
            return await view(*args, **kwargs)

        limited_view.rate_limit = name
        return limited_view

    return decorate


async def rate_limited(retry_after: float, what: str):
    seconds = max(1, round(retry_after))
    return await error_page(
        429,
        "Slow down",
        f"Too many {what} in a short time. Try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
    )


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
