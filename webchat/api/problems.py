"""RFC 9457 problem details: every refusal on the API and webhook paths is
`application/problem+json`, never an HTML page. Rendered only through webchat.errors."""

from __future__ import annotations

import json
from http import HTTPStatus

from quart import Response, request

API_PATHS = ("/api/", "/hooks/")
CONTENT_TYPE = "application/problem+json"
BEARER = 'Bearer realm="webchat"'


def is_api_request() -> bool:
    """A request to the integration API or an incoming webhook: bearer tokens, no cookies, JSON."""
    return request.path.startswith(API_PATHS)


def title_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, detail: str, title: str | None = None, headers: dict[str, str] | None = None,
            **extra) -> Response:
    body = {"type": "about:blank", "title": title or title_of(status), "status": status, "detail": detail,
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
        return [{"field": "(body)", "detail": "The body must be a JSON object."}]
    found = []
    for error in errors():
        location = ".".join(str(part) for part in error.get("loc", ())) or "(body)"
        found.append({"field": location, "detail": str(error.get("msg", "is not valid"))})
    return found or [{"field": "(body)", "detail": "The body must be a JSON object."}]
