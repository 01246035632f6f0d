"""Every error becomes a page that says what happened; nothing answers with a traceback."""

from __future__ import annotations

import logging

from quart import Quart
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
        from webchat.db import is_database_error

        if is_database_error(error):
            log.warning("database unavailable: %s", error)
            return await web.error_page(503, *MESSAGES[503], headers={"Retry-After": "5"})
        log.exception("unexpected error")
        return await web.error_page(
            500, "Something went wrong", "webchat hit an error. Nothing you sent was lost; try again."
        )
