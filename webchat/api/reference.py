"""The OpenAPI 3.1 document of the integration API, generated from the code by quart-schema.

Only the API's own routes are in it (not the pages), and none of quart-schema's documentation
pages are mounted: they load JavaScript from public CDNs, which our CSP blocks and which is not
reachable offline. The readable reference is our own page (/api), made from the same document.
"""

from __future__ import annotations

from quart import Quart
from quart_schema import QuartSchema
from quart_schema.openapi import OpenAPIProvider

from webchat.api.problems import API_PATHS

OPENAPI_PATH = "/api/v1/openapi.json"


class ApiOnly(OpenAPIProvider):
    def generate_rules(self):
        rules = [rule for rule in super().generate_rules()
                 if rule.rule.startswith(API_PATHS) and rule.rule != OPENAPI_PATH]
        return sorted(rules, key=lambda rule: rule.rule)


def init_openapi(app: Quart) -> QuartSchema:
    schema = QuartSchema(
        app,
        openapi_path=OPENAPI_PATH,
        swagger_ui_path=None, redoc_ui_path=None, scalar_ui_path=None,
        openapi_provider_class=ApiOnly,
        info={"title": "webchat integration API", "version": "1",
              "description": "Bearer tokens from /settings/tokens. Errors are RFC 9457 problem details."},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        security=[{"bearer": []}],
    )
    app.extensions["webchat.openapi"] = schema
    return schema


def document(app: Quart) -> dict:
    return app.extensions["webchat.openapi"].openapi_provider.schema()


METHODS = ("get", "post", "patch", "delete")


def operations(spec: dict) -> list[dict]:
    """The document's operations as the readable reference lists them, their words as the code
    has them (each summary and description from its docstring, each body field's meaning)."""
    schemas = spec.get("components", {}).get("schemas", {})
    listed = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" in body:
                body = schemas.get(body["$ref"].rsplit("/", 1)[-1])
            listed.append({
                "method": method.upper(), "path": path,
                "summary": operation.get("summary", "").strip(),
                "description": operation.get("description", "").strip(),
                "fields": {name: field.get("description", "").strip()
                           for name, field in (body or {}).get("properties", {}).items()},
                "required": (body or {}).get("required") or [],
                "responses": sorted(operation.get("responses", {})),
                "anchor": "op-" + "-".join(part.strip("{}") for part in [method, *path.split("/")] if part),
            })
    return listed


def reference_texts(spec: dict) -> list[str]:
    """The readable reference's words that come from the code: the page shows them translated,
    and the catalogs hold them like any marked string (webchat.catalogs)."""
    texts = set()
    for operation in operations(spec):
        texts |= {operation["summary"], operation["description"], *operation["fields"].values()}
    return sorted(text for text in texts if text)
