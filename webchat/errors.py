"""Every error becomes a page that says what happened; nothing answers with a traceback."""

from __future__ import annotations

import logging
import secrets

from quart import Quart, g, render_template, request
from werkzeug.exceptions import HTTPException

from webchat import web

log = logging.getLogger("webchat.errors")

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Sign in first", "You need to sign in to do that."),
    403: ("Not allowed", "You do not have access to this."),
    404: ("Not found", "There is nothing at this address. It may have been removed."),
    405: ("Not allowed here", "This address does not take that kind of request."),
    413: ("Too much text", "What you sent is larger than 256 KiB, so it could not be kept."),
    415: ("Unsupported form", "This address takes an HTML form post."),
    422: ("Check what you sent", "Something in the form needs fixing."),
    429: ("Slow down", "Too many requests in a short time. Try again shortly."),
    503: ("Temporarily unavailable", "A part of webchat is not answering. Try again in a moment."),
}


class Refused(HTTPException):
    """Raised by views: an HTTP error with a message of our own for the page."""

    def __init__(self, code: int, message: str | None = None, title: str | None = None) -> None:
        super().__init__(description=message)
        self.code = code
        self.title = title


def init_app(app: Quart) -> None:
    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException):
        code = error.code or 500
        if code == 413:
            return await web.too_large()
        title, message = MESSAGES.get(code, ("Error", "Something went wrong."))
        if isinstance(error, Refused):
            title = error.title or title
            message = error.description or message
        return await web.error_page(code, title, message)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception):
        part = unavailable_part(error)
        if part is not None:
            log.warning("%s unavailable: %s: %s", part, type(error).__name__, error)
            return await unavailable(part)
        log.exception("unexpected error")
        return await web.error_page(
            500, "Something went wrong", "webchat hit an error. Nothing you sent was lost; try again."
        )


UNAVAILABLE = {
    "database": "webchat cannot reach its database just now, so nothing could be saved or shown.",
    "redis": "webchat cannot reach its live-update service (Redis) just now.",
}
RETRY_AFTER = "5"


def unavailable_part(error: BaseException) -> str | None:
    """'redis' or 'database' when the error is a part that is not answering; None for a bug."""
    from redis.exceptions import RedisError

    from webchat.db import is_database_error

    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:  # Redis first: its errors wrap OSErrors
        seen.add(id(cause))
        if isinstance(cause, RedisError):
            return "redis"
        cause = cause.__cause__ or cause.__context__
    return "database" if is_database_error(error) else None


async def unavailable(part: str):
    """503, naming the part; a form's text (a message, an edit) is given back to send again.

    A plain form gets a page with the text in a form that posts it again, with the same nonce, so
    a retry never posts twice. The composer's htmx post gets the composer back with the text and
    the error; another htmx post keeps its form as it is and shows the error at the top.
    """
    message = UNAVAILABLE[part]
    headers = {"Retry-After": RETRY_AFTER}
    kept = await _kept_text()
    if kept is None:
        return await web.error_page(503, "Temporarily unavailable", f"{message} Try again in a moment.",
                                    headers)
    note = f"{message} What you wrote is kept below: send it again in a moment."
    if web.is_htmx():
        if request.endpoint == "messages.post_message":
            problem = f"Not sent: {message} Your text is kept; send it again in a moment."
            try:
                return await _composer(kept, problem), 503, headers
            except Exception:  # the composer template needs more than we have: fall through
                log.exception("could not render the composer for a 503")
        body = await render_template("errors/fragment.html", status=503, title="Not saved", message=note)
        return body, 503, {**headers, "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    body = await render_template("errors/unavailable.html", title="Not saved: try again",
                                 message=note, kept=kept)
    return body, 503, headers


async def _kept_text() -> dict | None:
    """The `body` (and `nonce`) of a same-site form post with a valid CSRF token, else None.

    Only what this browser itself sent is given back, and only to a request that could have
    posted it anyway: a cross-site post gets the plain error page.
    """
    from webchat import security

    if request.method != "POST" or request.mimetype not in security.FORM_TYPES:
        return None
    try:
        form = g.get("form") or await security.read_form()
        if not form or "body" not in form or security.cross_site():
            return None
        token = request.headers.get("X-CSRF-Token") or form.get("csrf_token")
        if not security.token_valid(token):
            return None
    except Exception:  # an unreadable body: nothing to keep
        return None
    return {"action": request.path, "body": form.get("body", ""), "nonce": form.get("nonce", "")[:64]}


async def _composer(kept: dict, problem: str) -> str:
    from types import SimpleNamespace

    room_id = int((request.view_args or {}).get("room_id", "0"))
    composer = {"body": kept["body"], "error": problem, "nonce": kept["nonce"] or secrets.token_urlsafe(16)}
    return await render_template("messages/_composer.html", room=SimpleNamespace(id=room_id),
                                 composer=composer)
