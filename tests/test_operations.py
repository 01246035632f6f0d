"""The commands, configuration rules, security headers, health check and malformed requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from webchat.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def run_webchat(args, env, cwd, timeout=60):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full_env.pop("REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "webchat", *args], env=full_env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_migrate_twice_is_safe(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "WEBCHAT_INSTANCE": str(tmp_path)}
    for _ in range(2):
        result = run_webchat(["migrate"], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "migrations applied" in result.stdout


def test_default_database_is_sqlite_in_instance(tmp_path):
    result = run_webchat(["migrate"], {"WEBCHAT_INSTANCE": "", "DATABASE_URL": ""}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "webchat.sqlite3").exists()
    assert (tmp_path / "instance" / "secret_key").exists()


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = run_webchat(["serve"], {"WEBCHAT_ENV": "production", "SECRET_KEY": "", "DATABASE_URL": ""}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"DYNO": "web.1"})


def test_settings_from_environment(tmp_path):
    settings = load_settings({
        "PORT": "8123", "DATABASE_URL": "postgresql://u@h/db", "SECRET_KEY": "k",
        "WEBCHAT_RATE_LIMITS": "off", "DYNO": "web.1", "WEBCHAT_INSTANCE": str(tmp_path),
    })
    assert settings.port == 8123 and settings.production and not settings.rate_limits
    assert settings.database_url == "postgres://u@h/db"
    with pytest.raises(ConfigError):
        load_settings({"PORT": "eighty", "WEBCHAT_INSTANCE": str(tmp_path)})
    with pytest.raises(ConfigError):
        load_settings({"DATABASE_URL": "mysql://x", "WEBCHAT_INSTANCE": str(tmp_path)})


def test_serve_as_a_real_process(live_server, broker):
    response = httpx.get(live_server.url + "/healthz")
    assert response.status_code == 200
    expected = "ok" if broker else "local"
    assert response.json() == {"status": "ok", "database": "ok", "broker": expected}
    page = httpx.get(live_server.url + "/")
    assert page.status_code == 200 and "<h1" in page.text


async def test_security_headers_on_every_response(sqlite_app):
    client = sqlite_app.test_client()
    for path in ("/", "/login", "/healthz", "/static/css/webchat.css", "/nowhere"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # development


async def test_production_hsts_and_secure_cookies(sqlite_url, tmp_path):
    from tests.conftest import make_settings
    from webchat.app import create_app

    app = create_app(make_settings(sqlite_url, tmp_path, WEBCHAT_ENV="production"))
    async with app.test_app():
        client = app.test_client()
        response = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in cookies)


async def test_healthz_names_the_failing_part(sqlite_app):
    from tortoise import connections

    client = sqlite_app.test_client()
    assert (await client.get("/healthz")).status_code == 200
    await connections.close_all()
    # A closed SQLite connection reopens by itself, so break it for real: point it at nothing.
    connection = connections.get("default")
    connection.filename = "/nonexistent/dir/db.sqlite3"
    response = await client.get("/healthz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "error" and body["database"].startswith("error")
    assert body["broker"] == "local"


async def test_malformed_requests_get_clear_4xx(sqlite_app):
    from tests.helpers.browser import Browser

    ana = Browser(sqlite_app)
    await ana.register("ana")
    room = await ana.create_room("General")
    token = await ana.ensure_token()
    client = ana.client
    # not UTF-8
    response = await client.post(f"/rooms/{room}/messages", data=b"csrf_token=" + token.encode() + b"&body=%ff%fe",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "UTF-8" in await response.get_data(as_text=True)
    # wrong content type
    response = await client.post(f"/rooms/{room}/messages", json={"body": "x"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 415
    # over the size limit
    big = "x" * (300 * 1024)
    response = await client.post(f"/rooms/{room}/messages", form={"csrf_token": token, "body": big})
    assert response.status_code == 413 and "256 KiB" in await response.get_data(as_text=True)
    # missing fields
    response = await client.post("/login", form={"csrf_token": token})
    assert response.status_code == 422
    # unknown method
    response = await client.delete(f"/rooms/{room}")
    assert response.status_code == 405
    for path in ("/rooms/1/messages?before=-5", "/rooms/%00", "/rooms/1/events?last_event_id=%ff"):
        response = await client.get(path)
        assert 400 <= response.status_code < 500, path


@pytest.fixture(params=["sqlite", "postgres"])
def unmigrated_url(request, tmp_path):
    """An empty database that no migration has touched yet."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'old.sqlite3'}"
        return
    from tests.conftest import POSTGRES_URL, require_service
    from tests.helpers import services

    require_service("postgres", POSTGRES_URL, 5432)
    url = services.create_postgres_database(POSTGRES_URL, f"webchat_up_{os.getpid()}_{id(tmp_path) % 10**6}")
    yield url
    services.drop_postgres_database(POSTGRES_URL, url)


def test_upgrade_keeps_existing_accounts(unmigrated_url):
    """A database made by the first migration, with an account in it, takes the later ones: a new
    column has a value for the rows already there (the typing announcement is off for them)."""
    import asyncio

    from tortoise import Tortoise, connections
    from tortoise.migrations.api import migrate as tortoise_migrate

    from webchat import db

    async def run() -> dict:
        config = db.tortoise_config(unmigrated_url)
        await tortoise_migrate(config=config, target="models.0001_initial")
        await connections.close_all()
        await Tortoise.init(config=config)
        conn = connections.get("default")
        p = [db.placeholder(conn, i) for i in (1, 2, 3, 4)]
        await conn.execute_query(
            "INSERT INTO users (username, username_key, display_name, password_hash, session_version,"
            f" announce, created_at) VALUES ({p[0]}, {p[1]}, {p[2]}, {p[3]}, 1, 'all', CURRENT_TIMESTAMP)",
            ["old", "old", "Old Timer", "x"],
        )
        await Tortoise.close_connections()
        await db.migrate(unmigrated_url)
        await db.migrate(unmigrated_url)  # and again: nothing left to do
        await db.open_database(unmigrated_url)
        try:
            from webchat.models import User

            user = await User.get(username_key="old")
            return {"announce": user.announce, "announce_typing": user.announce_typing}
        finally:
            await db.close_database()

    assert asyncio.run(run()) == {"announce": "all", "announce_typing": False}
