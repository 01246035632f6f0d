"""Why a request is refused. Raised anywhere (the request gate, views, services); rendered by
webchat.errors, the one module that turns refusals and failures into pages and fragments.

Messages and titles are given already translated (`i18n.gettext` where the refusal is raised:
the request's language is chosen before any view runs)."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.exceptions import HTTPException

from webchat import i18n


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
        super().__init__(401, i18n.gettext("Sign in first."), i18n.gettext("Sign in first"))


class FormExpired(Refused):
    """The CSRF check failed: the form came from another site, or is too old."""

    def __init__(self) -> None:
        super().__init__(
            403,
            i18n.gettext("For your safety this form could not be accepted: it came from another site, or the "
                         "page was open too long. Go back, reload the page, and send it again."),
            i18n.gettext("This form has expired"),
        )


class TooLarge(Refused):
    def __init__(self, message: str | None = None, title: str | None = None) -> None:
        super().__init__(
            413, message or i18n.gettext(
                "What you sent is larger than 256 KiB, so it could not be kept. Go back and send less."),
            title or i18n.gettext("Too much text"),
        )


def _too_many(what: str, seconds: int) -> str:
    """The whole sentence for a rate limit, by what was counted (the `what` the callers of
    SlowDown and web.rate_limit name: a key, not text), so every language can word it its own way."""
    n = seconds
    sentences: dict[str, Callable[[], str]] = {
        "changes": lambda: i18n.ngettext(
            "Too many changes in a short time. Try again in %(num)d second.",
            "Too many changes in a short time. Try again in %(num)d seconds.", n),
        "messages": lambda: i18n.ngettext(
            "Too many messages in a short time. Try again in %(num)d second.",
            "Too many messages in a short time. Try again in %(num)d seconds.", n),
        "read markers": lambda: i18n.ngettext(
            "Too many read markers in a short time. Try again in %(num)d second.",
            "Too many read markers in a short time. Try again in %(num)d seconds.", n),
        "typing signals": lambda: i18n.ngettext(
            "Too many typing signals in a short time. Try again in %(num)d second.",
            "Too many typing signals in a short time. Try again in %(num)d seconds.", n),
        "suggestions": lambda: i18n.ngettext(
            "Too many suggestions asked for in a short time. Try again in %(num)d second.",
            "Too many suggestions asked for in a short time. Try again in %(num)d seconds.", n),
        "posts to this webhook": lambda: i18n.ngettext(
            "Too many posts to this webhook in a short time. Try again in %(num)d second.",
            "Too many posts to this webhook in a short time. Try again in %(num)d seconds.", n),
        "streams opened": lambda: i18n.ngettext(
            "Too many streams opened in a short time. Try again in %(num)d second.",
            "Too many streams opened in a short time. Try again in %(num)d seconds.", n),
        "emails sent for you": lambda: i18n.ngettext(
            "Too many emails sent for you in a short time. Try again in %(num)d second.",
            "Too many emails sent for you in a short time. Try again in %(num)d seconds.", n),
        "link checks from your address": lambda: i18n.ngettext(
            "Too many link checks from your address in a short time. Try again in %(num)d second.",
            "Too many link checks from your address in a short time. Try again in %(num)d seconds.", n),
        "unsubscribe requests from your address": lambda: i18n.ngettext(
            "Too many unsubscribe requests from your address in a short time. Try again in %(num)d second.",
            "Too many unsubscribe requests from your address in a short time. Try again in %(num)d seconds.", n),
        "password-reset requests from your address": lambda: i18n.ngettext(
            "Too many password-reset requests from your address in a short time. Try again in %(num)d second.",
            "Too many password-reset requests from your address in a short time. Try again in %(num)d seconds.", n),
        "password checks at this moment": lambda: i18n.ngettext(
            "Too many password checks at this moment. Try again in %(num)d second.",
            "Too many password checks at this moment. Try again in %(num)d seconds.", n),
        "registration attempts from your address": lambda: i18n.ngettext(
            "Too many registration attempts from your address in a short time. Try again in %(num)d second.",
            "Too many registration attempts from your address in a short time. Try again in %(num)d seconds.", n),
        "password changes from your address": lambda: i18n.ngettext(
            "Too many password changes from your address in a short time. Try again in %(num)d second.",
            "Too many password changes from your address in a short time. Try again in %(num)d seconds.", n),
        "people signing up at this moment": lambda: i18n.ngettext(
            "Too many people are signing up at this moment. Try again in %(num)d second.",
            "Too many people are signing up at this moment. Try again in %(num)d seconds.", n),
        "people changing passwords at this moment": lambda: i18n.ngettext(
            "Too many people are changing passwords at this moment. Try again in %(num)d second.",
            "Too many people are changing passwords at this moment. Try again in %(num)d seconds.", n),
        "people signing in at this moment": lambda: i18n.ngettext(
            "Too many people are signing in at this moment. Try again in %(num)d second.",
            "Too many people are signing in at this moment. Try again in %(num)d seconds.", n),
        "failed sign-ins from your address": lambda: i18n.ngettext(
            "Too many failed sign-ins from your address in a short time. Try again in %(num)d second.",
            "Too many failed sign-ins from your address in a short time. Try again in %(num)d seconds.", n),
        "failed sign-ins to this account": lambda: i18n.ngettext(
            "Too many failed sign-ins to this account in a short time. Try again in %(num)d second.",
            "Too many failed sign-ins to this account in a short time. Try again in %(num)d seconds.", n),
    }
    sentence = sentences.get(what)
    if sentence is None:  # "requests", or a count named nowhere above
        return i18n.ngettext("Too many requests in a short time. Try again in %(num)d second.",
                  "Too many requests in a short time. Try again in %(num)d seconds.", n)
    return sentence()


class SlowDown(Refused):
    """Over a rate limit. `what`: what was counted (a key of `_too_many`, such as "changes");
    `quiet`: a bare 429 with no page (for signals a script sends)."""

    def __init__(self, retry_after: float, what: str, quiet: bool = False) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(429, _too_many(what, seconds), i18n.gettext("Slow down"), {"Retry-After": str(seconds)})
        self.quiet = quiet
