"""The landing page and the health check."""

from __future__ import annotations

import asyncio

from quart import Blueprint, g, render_template

from webchat import db, web
from webchat.runtime import current

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    if g.user:
        return web.see_other("/rooms")
    return await render_template("pages/landing.html")


HEALTH_TIMEOUT = 3.0


@bp.get("/healthz")
async def healthz():
    """200 when the database answers (and Redis, when configured); else 503 naming what failed.

    Each part is asked at once with its own time limit, so a part that hangs is reported as
    failing instead of hanging the check.
    """

    async def database() -> str:
        await db.ping(HEALTH_TIMEOUT)
        return "ok"

    async def broker() -> str:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            return await current().broker.health()

    results = await asyncio.gather(database(), broker(), return_exceptions=True)
    report = {"status": "ok"}
    for name, result in zip(("database", "broker"), results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result  # cancellation
            report[name] = f"error: {_describe(result)}"
            report["status"] = "error"
        else:
            report[name] = result
    if report["status"] == "ok":
        return report, 200, {"Cache-Control": "no-store"}
    return report, 503, {"Cache-Control": "no-store", "Retry-After": "5"}


def _describe(error: Exception) -> str:
    """The kind of failure, without its text: /healthz is public, and error texts name hosts."""
    if isinstance(error, TimeoutError):
        return "not answering (timed out)"
    return type(error).__name__
