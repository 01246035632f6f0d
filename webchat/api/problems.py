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


def _field_detail(error: dict) -> str:
    """What is wrong with a field, in the request's language: pydantic's kinds of error that
    webchat's schemas can raise; pydantic's own (English) words for any other."""
    kind, context = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return i18n.gettext("This field is required.")
    if kind == "string_type":
        return i18n.gettext("Give a string.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return i18n.gettext("Give a whole number.")
    if kind == "string_too_short":
        return i18n.gettext("Give at least %(min)s characters.", min=context.get("min_length", 1))
    if kind == "string_too_long":
        return i18n.gettext("Give at most %(max)s characters.", max=context.get("max_length", ""))
    if kind == "string_pattern_mismatch":
        return i18n.gettext("Use visible ASCII characters only, with no spaces.")
    if kind == "greater_than_equal":
        return i18n.gettext("Give a number of at least %(min)s.", min=context.get("ge", ""))
    if kind == "less_than_equal":
        return i18n.gettext("Give a number of at most %(max)s.", max=context.get("le", ""))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return i18n.gettext("The body must be a JSON object.")
    return str(error.get("msg", "is not valid"))


def field_errors(validation_error: Exception | None) -> list[dict[str, str]]:
    """The fields at fault in a failed schema validation (pydantic's errors), as name and detail."""
    errors = getattr(validation_error, "errors", None)
    if not callable(errors):
        return [{"field": "(body)", "detail": i18n.gettext("The body must be a JSON object.")}]
    found = []
    for error in errors():
        location = ".".join(str(part) for part in error.get("loc", ())) or "(body)"
        found.append({"field": location, "detail": _field_detail(error)})
    return found or [{"field": "(body)", "detail": i18n.gettext("The body must be a JSON object.")}]
