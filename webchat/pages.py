"""The landing page and the health check."""

from __future__ import annotations

from quart import Blueprint, g, render_template

from webchat import db, web

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index():
    if g.user:
        return web.see_other("/rooms")
    return await render_template("pages/landing.html")


@bp.get("/healthz")
async def healthz():
    report = {"status": "ok", "database": "ok", "broker": "local"}
    try:
        await db.ping()
    except Exception as error:  # any failure of the database is the answer, not a crash
        report["database"] = f"error: {type(error).__name__}"
        report["status"] = "error"
    try:
        report["broker"] = await g.runtime.broker.health()
    except Exception as error:
        report["broker"] = f"error: {type(error).__name__}"
        report["status"] = "error"
    return report, 200 if report["status"] == "ok" else 503
