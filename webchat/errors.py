"""Every refusal and every failure becomes a page (or, for htmx, a fragment) that says what
happened and what to do; nothing answers with a traceback. The one module that renders errors."""

from __future__ import annotations

import logging
from urllib.parse import quote

from quart import Quart, Response, render_template, request
from quart_schema import RequestSchemaValidationError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from webchat import security, web
from webchat.api.problems import field_errors, is_api_request, problem
from webchat.db import is_database_error
from webchat.i18n import gettext as _
from webchat.i18n import lazy_gettext
from webchat.refusals import Refused, SignInRequired, SlowDown
from webchat.rooms.service import whole_number

log = logging.getLogger("webchat.errors")

MESSAGES = {
    400: (lazy_gettext("Bad request"), lazy_gettext("The request could not be understood. Go back and try again.")),
    401: (lazy_gettext("Sign in first"), lazy_gettext("You need to sign in to do that.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("You do not have access to this.")),
    404: (lazy_gettext("Not found"), lazy_gettext("There is nothing at this address. It may have been removed.")),
    405: (lazy_gettext("Not allowed here"), lazy_gettext("This address does not take that kind of request.")),
    413: (lazy_gettext("Too much text"),
          lazy_gettext("What you sent is larger than 256 KiB, so it could not be kept. Go back and send less.")),
    415: (lazy_gettext("Unsupported form"), lazy_gettext("This address takes an HTML form post.")),
    422: (lazy_gettext("Check what you sent"), lazy_gettext("Something in the form needs fixing.")),
    429: (lazy_gettext("Slow down"), lazy_gettext("Too many requests in a short time. Try again shortly.")),
    503: (lazy_gettext("Temporarily unavailable"),
          lazy_gettext("A part of webchat is not answering. Try again in a moment.")),
}
UNAVAILABLE = {
    "database": lazy_gettext("webchat cannot reach its database just now, so nothing could be saved or shown."),
    "redis": lazy_gettext("webchat cannot reach its live-update service (Redis) just now."),
}
RETRY_AFTER = "5"


def init_app(app: Quart) -> None:
    app.register_error_handler(HTTPException, refused)
    app.register_error_handler(Exception, failed)


async def refused(error: HTTPException) -> Response:
    if is_api_request():
        return api_refused(error)
    if isinstance(error, SignInRequired):
        return sign_in_required()
    if isinstance(error, SlowDown) and error.quiet:
        return Response("", 429, error.extra_headers)
    code = error.code or 500
    title, message = MESSAGES.get(code, (_("Error"), _("Something went wrong.")))
    headers = {}
    if isinstance(error, Refused):
        title, message = error.title or title, error.description or message
        headers = error.extra_headers
    return await page(code, title, message, headers)


def api_refused(error: HTTPException) -> Response:
    """The API's and webhooks' refusals: problem details (RFC 9457) with the right status."""
    if isinstance(error, RequestSchemaValidationError):
        fields = field_errors(error.validation_error)
        detail = _("Check these fields: %(fields)s", fields=", ".join(f"{f['field']} ({f['detail']})" for f in fields))
        return problem(422, detail, errors=fields)
    code = error.code or 500
    title, message = MESSAGES.get(code, (_("Error"), error.description or _("Something went wrong.")))
    headers = {}
    extra = {}
    if isinstance(error, Refused):
        message, headers = error.description or message, error.extra_headers
        if field := getattr(error, "field", None):
            extra["errors"] = [{"field": field, "detail": message}]
    elif code == 405:
        message = _("This address does not take that method.")
        headers = {"Allow": ", ".join(sorted(error.valid_methods or []))} if getattr(error, "valid_methods", None) else {}
    elif code == 413:
        message = _("The body is larger than 256 KiB.")
    elif code == 400 and error.description:
        message = _("The body is not valid JSON.") if "json" in str(error.description).lower() else message
    return problem(code, str(message), headers=headers, **extra)


async def failed(error: Exception) -> Response:
    part = unavailable_part(error)
    if part is not None:
        log.warning("%s unavailable: %s: %s", part, type(error).__name__, error)
        if is_api_request():
            detail = _("%(problem)s Try again in a moment.", problem=UNAVAILABLE[part])
            return problem(503, detail, headers={"Retry-After": RETRY_AFTER})
        return await unavailable(part)
    log.exception("unexpected error")
    if is_api_request():
        return problem(500, _("webchat hit an error. Try again."))
    return await page(500, _("Something went wrong"), _("webchat hit an error. Nothing you sent was lost; try again."))


async def page(status: int, title: str, message: str, headers: dict | None = None) -> Response:
    headers = dict(headers or {})
    if web.is_htmx():
        # An error is news for the page's status region, not a replacement for what was targeted.
        headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        template = "errors/fragment.html"
    else:
        template = "errors/page.html"
    body = await render_template(template, status=status, title=title, message=message)
    return Response(body, status, headers)


def sign_in_required() -> Response:
    if web.is_htmx():
        return Response(_("Sign in first."), 401, {"Content-Type": "text/plain; charset=utf-8"})
    target = request.full_path.rstrip("?")
    return web.see_other(f"/login?next={quote(target, safe='/')}")


def unavailable_part(error: BaseException) -> str | None:
    """'redis' or 'database' when the error is a part that is not answering; None for a bug."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:  # Redis first: its errors wrap OSErrors
        seen.add(id(cause))
        if isinstance(cause, RedisError):
            return "redis"
        cause = cause.__cause__ or cause.__context__
    return "database" if is_database_error(error) else None


async def unavailable(part: str) -> Response:
    """503, naming the part; a form's text (a message, an edit) is given back to send again.

    A plain form gets a page with the text in a form that posts it again, with the same nonce, so
    a retry never posts twice. The composer's htmx post gets the composer back with the text and
    the error; another htmx post keeps its form as it is and shows the error at the top.
    """
    message = UNAVAILABLE[part]
    headers = {"Retry-After": RETRY_AFTER}
    kept = await security.kept_form_text()
    if kept is None:
        again = _("%(problem)s Try again in a moment.", problem=message)
        return await page(503, _("Temporarily unavailable"), again, headers)
    note = _("%(problem)s What you wrote is kept below: send it again in a moment.", problem=message)
    room = whole_number((request.view_args or {}).get("room_id"))
    if web.is_htmx():
        if request.endpoint == "messages.post_message" and room is not None:
            problem = _("Not sent: %(problem)s Your text is kept; send it again in a moment.", problem=message)
            composer = web.composer(room, kept["body"], problem, kept["nonce"] or None)
            body = await render_template("messages/_composer.html", composer=composer)
            return Response(body, 503, headers)
        body = await render_template("errors/fragment.html", status=503, title=_("Not saved"), message=note)
        return Response(body, 503, {**headers, "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    body = await render_template("errors/unavailable.html", title=_("Not saved: try again"), message=note, kept=kept)
    return Response(body, 503, headers)
