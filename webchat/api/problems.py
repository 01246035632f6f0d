"""RFC 9457 problem details: every refusal on the API and webhook paths is
`application/problem+json`, never an HTML page. Rendered only through webchat.errors."""

from __future__ import annotations

import json
from http import HTTPStatus

from quart import Response, request

from webchat import i18n

API_PATHS = ("/api/", "/hooks/")
CONTENT_TYPE = "application/problem+json"
BEARER = 'Bearer realm="webchat"'


def is_api_request() -> bool:
    """A request to the integration API or an incoming webhook: bearer tokens, no cookies, JSON."""
    return request.path.startswith(API_PATHS)


# The statuses webchat answers with, titled in the request's language (the status phrase in English).
TITLES = {
    400: i18n.lazy_gettext("Bad Request"),
    401: i18n.lazy_gettext("Unauthorized"),
    403: i18n.lazy_gettext("Forbidden"),
    404: i18n.lazy_gettext("Not Found"),
    405: i18n.lazy_gettext("Method Not Allowed"),
    409: i18n.lazy_gettext("Conflict"),
    413: i18n.lazy_gettext("Content Too Large"),
    415: i18n.lazy_gettext("Unsupported Media Type"),
    422: i18n.lazy_gettext("Unprocessable Content"),
    429: i18n.lazy_gettext("Too Many Requests"),
    500: i18n.lazy_gettext("Internal Server Error"),
    503: i18n.lazy_gettext("Service Unavailable"),
}


def title_of(status: int) -> str:
    if status in TITLES:
        return str(TITLES[status])
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return i18n.gettext("Error")


def problem(status: int, detail: str, title: str | None = None, headers: dict[str, str] | None = None,
            **extra) -> Response:
    body = {"type": "about:blank", "title": str(title or title_of(status)), "status": status, "detail": str(detail),
            "instance": request.path, **extra}
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", BEARER)
    headers["Content-Type"] = CONTENT_TYPE
    return Response(json.dumps(body, ensure_ascii=False), status, headers)


def field_errors(validation_error: Exception | None) -> list[dict[str, str]]:
    """The fields at fault in a failed schema validation (pydantic's errors), as name and detail."""
    errors = getattr(validation_error, "errors", None)
    if not callable(errors):
        return [{"field": "(body)", "detail": i18n.gettext("The body must be a JSON object.")}]
    found = []
    for error in errors():
        location = ".".join(str(part) for part in error.get("loc", ())) or "(body)"
        found.append({"field": location, "detail": str(error.get("msg", "is not valid"))})
    return found or [{"field": "(body)", "detail": i18n.gettext("The body must be a JSON object.")}]
