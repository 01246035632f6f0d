"""Heroku-style deployment, tested as far as this machine allows.

The platform's files (Procfile, app.json, .python-version, requirements.txt) say what they must;
the release and web commands are run exactly as the Procfile writes them, on an empty PostgreSQL
database and under $PORT; behind "the router" (this test, adding X-Forwarded-* headers as Heroku's
router does) cookies are Secure and a forged X-Forwarded-For is not believed; Redis over TLS with a
self-signed certificate (rediss://, as Heroku Redis) and PostgreSQL over TLS (PGSSLMODE=require,
as Heroku Postgres) are accepted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from tests.conftest import IN_CI
from tests.helpers import services
from tests.helpers.browser import PASSWORD
from tests.helpers.cluster import Cluster, RedisServer, TcpProxy, self_signed_certificate, webchat_command
from tests.helpers.live import ROOT, LiveServer, LiveUser, wait_healthy
from tests.helpers.net import free_port
from tests.scaleout.conftest import require_redis_server
from webchat.config import ConfigError, load_settings

pytestmark = pytest.mark.slow
TABLES = {"users", "rooms", "memberships", "messages", "events"}


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def platform_env(**env: str) -> dict[str, str]:
    """A dyno's environment: the app's config vars, `python` being the slug's interpreter."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("REDIS_URL", "DATABASE_URL", "PGSSLMODE", "WEBCHAT_ENV", "PYTHONPATH",
                         "WEBCHAT_INSTANCE", "WEBCHAT_RATE_LIMITS", "DYNO")}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    return {**base, **env}


async def tables(url: str) -> set[str]:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


@pytest.fixture
def certificate(workdir):
    """A self-signed certificate (openssl), like the ones Heroku's data services present."""
    if shutil.which("openssl") is None:
        message = "openssl is not installed: it makes the self-signed certificate for the TLS tests"
        if IN_CI:
            pytest.fail(f"CI must not skip: {message}")
        pytest.skip(message)
    return self_signed_certificate(workdir / "tls")


@pytest.fixture
def empty_pg(postgres_server_url):
    url = services.create_postgres_database(postgres_server_url, f"webchat_h_{uuid.uuid4().hex[:12]}")
    yield url
    services.drop_postgres_database(postgres_server_url, url)


# The platform's files ---------------------------------------------------------------------------

def test_platform_files_say_what_heroku_needs():
    commands = procfile()
    assert commands["web"].strip() == "python -m webchat serve"
    assert commands["release"].strip() == "python -m webchat migrate"
    assert (ROOT / ".python-version").read_text().strip() == "3.13"

    app = json.loads((ROOT / "app.json").read_text())
    plans = [addon["plan"] if isinstance(addon, dict) else addon for addon in app["addons"]]
    assert any(plan.startswith("heroku-postgresql") for plan in plans)
    assert any(plan.startswith("heroku-redis") for plan in plans)
    assert app["env"]["SECRET_KEY"]["generator"] == "secret"
    assert app["env"]["WEBCHAT_ENV"]["value"] == "production"
    assert app["env"]["PGSSLMODE"]["value"] == "require"
    assert app["buildpacks"] == [{"url": "heroku/python"}]

    # The buildpack installs requirements.txt; it must ask for exactly what pyproject.toml does.
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    required = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert sorted(required) == sorted(declared)


def test_environment_rules_for_the_platform(tmp_path):
    base = {"WEBCHAT_INSTANCE": str(tmp_path)}
    # Heroku sets DYNO: production, unless WEBCHAT_ENV says otherwise.
    assert load_settings({**base, "DYNO": "web.1", "SECRET_KEY": "k"}).production
    assert not load_settings({**base, "DYNO": "web.1", "WEBCHAT_ENV": "development"}).production
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({**base, "DYNO": "web.1"})
    with pytest.raises(ConfigError, match="WEBCHAT_ENV"):
        load_settings({**base, "WEBCHAT_ENV": "staging"})
    # Both spellings of Heroku's DATABASE_URL; REDIS_URL with or without TLS; PORT.
    for url in ("postgres://u:p@db.example:5432/d1", "postgresql://u:p@db.example:5432/d1"):
        assert load_settings({**base, "DATABASE_URL": url}).database_url == "postgres://u:p@db.example:5432/d1"
    assert load_settings({**base, "REDIS_URL": "rediss://:p@r.example:6380"}).redis_url.startswith("rediss://")
    assert load_settings({**base, "PORT": "31337"}).port == 31337
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({**base, "PORT": "http"})


def test_database_url_tls_settings_reach_asyncpg():
    from webchat.db import postgres_connection

    def creds(url):
        return postgres_connection(url)["credentials"]

    plain = creds("postgres://u:p%40ss@db.example:5432/d1")
    assert "ssl" not in plain  # asyncpg then reads PGSSLMODE itself
    assert plain["password"] == "p@ss" and plain["timeout"] == 5 and plain["command_timeout"] == 20
    assert creds("postgres://u@db.example/d1?sslmode=require")["ssl"] == "require"
    assert creds("postgres://u@db.example/d1?ssl=false")["ssl"] == "disable"  # not "true", as Tortoise reads it
    assert creds("postgres://u@db.example/d1?ssl=true")["ssl"] == "verify-full"
    with pytest.raises(ValueError):
        creds("postgres://u@db.example/d1?sslmode=sometimes")


# The release and web commands, as the Procfile writes them --------------------------------------

def test_release_command_on_an_empty_postgres_database(empty_pg, workdir):
    heroku_url = empty_pg.replace("postgres://", "postgresql://", 1)  # either spelling works
    env = platform_env(DATABASE_URL=heroku_url, DYNO="release.1", SECRET_KEY="s" * 40)
    assert asyncio.run(tables(empty_pg)) == set()
    for _ in range(2):  # a second release (the next deploy) finds nothing to do
        result = subprocess.run(["bash", "-c", procfile()["release"]], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
    assert TABLES <= asyncio.run(tables(empty_pg))


def test_web_command_binds_port_in_production(pg_url, redis_server, workdir):
    port = free_port()
    env = platform_env(PORT=str(port), DATABASE_URL=pg_url, REDIS_URL=redis_server.url,
                       DYNO="web.1", SECRET_KEY="s" * 40)
    log = open(workdir / "web.log", "wb")
    # Heroku runs a Procfile line with bash, which becomes the command (bash -c execs it).
    process = subprocess.Popen(["bash", "-c", procfile()["web"]], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = LiveServer(port, workdir, pg_url)
    server.process, server.log_path = process, workdir / "web.log"
    try:
        wait_healthy([server])
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
        assert "strict-transport-security" in response.headers  # production
        os.killpg(process.pid, signal.SIGTERM)  # the platform signals the whole dyno
        assert process.wait(10) == 0, server.log()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_production_refuses_to_start_without_secret_key(workdir):
    result = subprocess.run(["bash", "-c", procfile()["web"]], cwd=workdir, capture_output=True,
                            text=True, timeout=60,
                            env=platform_env(PORT=str(free_port()), DYNO="web.1",
                                             PYTHONPATH=str(ROOT)))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# Behind the router ------------------------------------------------------------------------------

@pytest.fixture
def production_server(pg_url, workdir):
    """One production process with rate limits on, as a dyno behind Heroku's router."""
    with LiveServer(free_port(), workdir, pg_url, WEBCHAT_ENV="production",
                    SECRET_KEY="production-secret-" + "x" * 30) as server:
        yield server


def routed_browser(server, client_address: str) -> LiveUser:
    """A browser behind Heroku's router, which speaks https to it and appends the client's address
    to X-Forwarded-For. LiveUser keeps cookies by hand, so their Secure flag does not stop them on
    this plain-http hop."""
    return LiveUser(server.url, "router", headers={"X-Forwarded-For": client_address,
                                                   "X-Forwarded-Proto": "https"})


async def test_forwarded_https_gives_secure_cookies_and_hsts(production_server):
    browser = routed_browser(production_server, "198.51.100.7")
    page = await browser.page("/login")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=")
    csrf_cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith("__Host-webchat_csrf="))
    assert "Secure" in csrf_cookie and "HttpOnly" in csrf_cookie
    host = urlsplit(production_server.url).netloc
    response = await browser.post("/register", {"username": "ana", "password": PASSWORD},
                                  headers={"Origin": f"https://{host}"})
    assert response.status_code == 303, response.text
    session = next(c for c in response.headers.get_list("set-cookie")
                   if c.startswith("__Host-webchat_session="))
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
    # The signed-in session works through the router; a foreign origin is still refused.
    assert (await browser.page("/rooms")).status_code == 200
    refused = await browser.post("/rooms", {"name": "x", "visibility": "public"},
                                 headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    await browser.aclose()


async def test_a_forged_x_forwarded_for_is_not_trusted(production_server):
    """Heroku's router appends the real client address: only that last entry counts.

    Sign-in failures are limited per client address (10 per 5 minutes). A client that puts a new
    made-up address first on every try is still limited, by its real address; another client
    behind the same router is not."""
    attacker = routed_browser(production_server, "198.51.100.7")
    await attacker.page("/login")
    statuses = []
    for n in range(12):  # a made-up address first, the router's last
        response = await attacker.post("/login", {"username": "ana", "password": "wrong password"},
                                       headers={"X-Forwarded-For": f"203.0.113.{n + 1}, 198.51.100.7"})
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert int(response.headers["retry-after"]) > 0

    neighbour = routed_browser(production_server, "198.51.100.8")
    await neighbour.page("/login")
    # (Another account: ana's own limit, across addresses, is spent by the attacker's guesses.)
    response = await neighbour.post("/login", {"username": "ben", "password": "wrong password"},
                                    headers={"X-Forwarded-For": "198.51.100.7, 198.51.100.8"})
    assert response.status_code == 401  # pretending to be the attacker changes nothing
    for browser in (attacker, neighbour):
        await browser.aclose()


# TLS, as Heroku's data services present it ------------------------------------------------------

async def test_rediss_with_a_self_signed_certificate(pg_url, workdir, certificate):
    """Heroku Redis is rediss:// with a self-signed certificate: two processes fan out through it."""
    require_redis_server()
    redis = RedisServer(workdir, tls=certificate).start()
    cluster = Cluster(2, workdir, pg_url, redis.url)
    try:
        cluster.start()
        assert httpx.get(cluster[0].url + "/healthz", timeout=5).json()["broker"] == "ok"
        ana, ben = LiveUser(cluster[0].url, "ana"), LiveUser(cluster[1].url, "ben")
        await ana.register("Ana")
        await ben.register("Ben")
        room = await ana.create_room("General")
        async with ben.on(cluster[1]).events(room) as stream:
            await stream.until("presence", lambda d: "Ben" in d)
            await ana.on(cluster[0]).say(room, "over TLS")
            message = (await stream.take("message", 1))[0]
            assert message.id == "1" and "over TLS" in message.data
        for person in (ana, ben):
            await person.aclose()
    finally:
        cluster.stop()
        redis.stop()


@pytest.mark.parametrize("how,encrypted", [
    ({"PGSSLMODE": "require"}, True),
    ({"PGSSLMODE": "disable"}, False),
    ({"url": "?sslmode=require"}, True),
])
def test_pgsslmode_is_honoured(pg_url, workdir, certificate, how, encrypted):
    """Heroku Postgres wants TLS and presents a certificate nobody can verify: PGSSLMODE=require
    must encrypt without verifying. A proxy that terminates PostgreSQL's TLS with a self-signed
    certificate shows which connections asked for TLS."""
    proxy = TcpProxy(urlsplit(pg_url).port or 5432, tls=certificate).start()
    try:
        url = proxy.url_for(pg_url) + how.get("url", "")
        env = {"DATABASE_URL": url, **{k: v for k, v in how.items() if k != "url"}}
        result = webchat_command(["migrate"], env, workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert proxy.accepted >= 1
        if encrypted:
            assert proxy.tls_sessions == proxy.accepted and proxy.plain_sessions == 0
        else:
            assert proxy.tls_sessions == 0 and proxy.plain_sessions == proxy.accepted
    finally:
        proxy.close()
