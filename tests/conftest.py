"""Shared fixtures: a real database (a SQLite file, or PostgreSQL), the app, and signed-in clients.

Every test that takes `app` runs twice: on SQLite and on PostgreSQL. Where PostgreSQL or Redis is
not reachable the tests skip and say why; under CI=true they fail instead, so CI never skips them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import Browser, net, services
from webchat import db
from webchat.app import create_app
from webchat.config import load_settings
from webchat.ratelimit import Limit

POSTGRES_URL = os.environ.get("WEBCHAT_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("WEBCHAT_TEST_REDIS", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    message = f"{name} is not reachable at {url}: start it (see README) or set WEBCHAT_TEST_{name.upper()}"
    if IN_CI:
        pytest.fail(f"CI must not skip: {message}")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def cheaper_password_hashing(monkeypatch):
    """Argon2id still, but with test-sized cost inside the test process (about 5 ms, not 300 ms).

    Live server processes keep the production parameters.
    """
    from argon2 import PasswordHasher

    from webchat.accounts import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    require_service("postgres", POSTGRES_URL, 5432)
    return POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    require_service("redis", REDIS_URL, 6379)
    services.flush_redis(REDIS_URL)
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_database(postgres_server_url):
    """One migrated PostgreSQL database for the session; tests empty it before they start."""
    url = services.create_postgres_database(postgres_server_url, f"webchat_t_{uuid.uuid4().hex[:12]}")
    asyncio.run(db.migrate(url))
    yield url
    services.drop_postgres_database(postgres_server_url, url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """A migrated, empty database for one test: a new SQLite file, or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'webchat.sqlite3'}"
        asyncio.run(db.migrate(url))
    else:
        url = request.getfixturevalue("postgres_database")
        services.empty_postgres_database(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """For tests whose subject does not depend on the database engine."""
    url = f"sqlite://{tmp_path / 'webchat.sqlite3'}"
    asyncio.run(db.migrate(url))
    return url


def make_settings(database_url: str, tmp_path: Path, **env):
    values = {
        "DATABASE_URL": database_url,
        "WEBCHAT_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "WEBCHAT_ENV": "development",
    }
    values.update(env)
    return load_settings(values)


@pytest.fixture
async def app(database_url, tmp_path):
    application = create_app(make_settings(database_url, tmp_path))
    async with application.test_app():
        yield application


@pytest.fixture
async def sqlite_app(sqlite_url, tmp_path):
    application = create_app(make_settings(sqlite_url, tmp_path))
    async with application.test_app():
        yield application


@pytest.fixture
def no_limits(app):
    for name in app.config["RATE_LIMITS"]:
        app.config["RATE_LIMITS"][name] = Limit(10**6, 1)
    return app


@pytest.fixture
def browser_factory(app):
    def make() -> Browser:
        return Browser(app)

    return make


async def registered(browser_factory, username: str, display_name: str) -> Browser:
    browser = browser_factory()
    await browser.register(username, display_name)
    return browser


@pytest.fixture
async def ana(browser_factory) -> Browser:
    return await registered(browser_factory, "ana", "Ana Lima")


@pytest.fixture
async def ben(browser_factory) -> Browser:
    return await registered(browser_factory, "ben", "Ben Okafor")


@pytest.fixture
async def cleo(browser_factory) -> Browser:
    return await registered(browser_factory, "cleo", "Cleo")


@pytest.fixture
def free_port() -> int:
    return net.free_port()


@pytest.fixture
def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="webchat-test-"))


@pytest.fixture(params=["local", "redis"])
def broker(request) -> dict:
    """Both broker engines: in-process fan-out, and Redis pub/sub."""
    if request.param == "local":
        return {}
    return {"REDIS_URL": request.getfixturevalue("redis_url")}


@pytest.fixture
def live_server(database_url, broker, free_port, workdir):
    from tests.helpers.live import LiveServer

    with LiveServer(free_port, workdir, database_url, WEBCHAT_RATE_LIMITS="off", **broker) as server:
        yield server


@pytest.fixture
async def live_users(live_server):
    """Factory of registered users on the live server; all closed at the end."""
    from tests.helpers.live import LiveUser

    made = []

    async def make(username: str, display_name: str = "") -> LiveUser:
        user = await LiveUser(live_server.url, username).register(display_name)
        made.append(user)
        return user

    yield make
    for user in made:
        await user.aclose()
