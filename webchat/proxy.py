"""Behind one trusted proxy (Heroku's router): the client's address and scheme, nothing else.

Hypercorn's ProxyFixMiddleware would also take X-Forwarded-Host, which a client can set and the
router passes on: the Host our same-origin checks compare against would then be the attacker's.
Here only the router's own entry of X-Forwarded-For (the last one) and X-Forwarded-Proto count.
"""

from __future__ import annotations


def _last(headers, name: bytes) -> str | None:
    values = [part.strip() for key, value in headers if key.lower() == name
              for part in value.decode("latin-1").split(",")]
    return values[-1] if values and values[-1] else None


class OneTrustedHop:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            client, scheme = _last(headers, b"x-forwarded-for"), _last(headers, b"x-forwarded-proto")
            if client is not None or scheme in ("http", "https"):
                scope = dict(scope)
                if client is not None:
                    scope["client"] = (client, 0)
                if scheme in ("http", "https"):
                    scope["scheme"] = scheme if scope["type"] == "http" else {"http": "ws", "https": "wss"}[scheme]
        await self.app(scope, receive, send)
