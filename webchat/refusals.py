"""Why a request is refused. Raised anywhere (the request gate, views, services); rendered by
webchat.errors, the one module that turns refusals and failures into pages and fragments."""

from __future__ import annotations

from werkzeug.exceptions import HTTPException


class Refused(HTTPException):
    """An HTTP error with a message of our own for the page."""

    def __init__(self, code: int, message: str | None = None, title: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description=message)
        self.code = code
        self.title = title
        self.extra_headers = headers or {}


class SignInRequired(Refused):
    """Signed out: a page redirects to the sign-in form; htmx gets a plain 401."""

    def __init__(self) -> None:
        super().__init__(401, "Sign in first.", "Sign in first")


class FormExpired(Refused):
    """The CSRF check failed: the form came from another site, or is too old."""

    def __init__(self) -> None:
        super().__init__(
            403,
            "For your safety this form could not be accepted: it came from another site, or the "
            "page was open too long. Go back, reload the page, and send it again.",
            "This form has expired",
        )


class TooLarge(Refused):
    def __init__(self, message: str | None = None, title: str | None = None) -> None:
        super().__init__(
            413, message or "What you sent is larger than 256 KiB, so it could not be kept. Go back and send less.",
            title or "Too much text",
        )


class SlowDown(Refused):
    """Over a rate limit. `quiet`: a bare 429 with no page (for signals a script sends)."""

    def __init__(self, retry_after: float, what: str, quiet: bool = False) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(429, f"Too many {what} in a short time. Try again in {seconds} seconds.",
                         "Slow down", {"Retry-After": str(seconds)})
        self.quiet = quiet
