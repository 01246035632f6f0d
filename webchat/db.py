"""Database set-up: Tortoise configuration, connection lifecycle and migrations."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from asyncpg import exceptions as pg
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as tortoise_migrate

from webchat.config import load_settings

APP = "models"


# asyncpg's own defaults wait 60 s to connect and forever for a query: a database that went away
# would hang every request past the router's 30 s. Fail fast instead (a 503 the user can retry).
CONNECT_TIMEOUT = 5
COMMAND_TIMEOUT = 20
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def postgres_connection(database_url: str) -> dict:
    """Tortoise's connection settings for a postgres:// URL, as Heroku gives it.

    TLS follows libpq's rules through asyncpg: `PGSSLMODE` from the environment when the URL says
    nothing (Heroku: `PGSSLMODE=require`, which encrypts without verifying the self-signed
    certificate); else `?sslmode=MODE` in the URL. `?ssl=` is accepted as a mode name too, but
    never as a boolean: Tortoise reads any value, even "false", as true, and asyncpg takes true to
    mean verify-full, which refuses Heroku's certificates.
    """
    parts = urlsplit(database_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    mode = None
    rest = []
    for key, value in query:
        if key in ("sslmode", "ssl"):
            value = {"true": "verify-full", "1": "verify-full", "false": "disable", "0": "disable"}.get(
                value.lower(), value.lower()
            )
            if value not in SSL_MODES:
                raise ValueError(f"DATABASE_URL: {key}={value!r} is not one of {', '.join(SSL_MODES)}")
            mode = value
        else:
            rest.append((key, value))
    url = urlunsplit(("postgres", parts.netloc, parts.path, urlencode(rest), parts.fragment))
    connection = expand_db_url(url)
    credentials = connection["credentials"]
    credentials.setdefault("timeout", CONNECT_TIMEOUT)
    credentials["command_timeout"] = float(credentials.get("command_timeout", COMMAND_TIMEOUT))
    credentials.setdefault("application_name", "webchat")
    if mode is not None:
        credentials["ssl"] = mode  # else asyncpg reads PGSSLMODE itself (default: prefer)
    return connection


def tortoise_config(database_url: str) -> dict:
    if database_url.startswith("sqlite://"):
        Path(database_url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
        connection: str | dict = database_url
    else:
        connection = postgres_connection(database_url)
    return {
        "connections": {"default": connection},
        "apps": {
            APP: {
                "models": ["webchat.models"],
                "migrations": "webchat.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str):
    # `tortoise makemigrations` reads webchat.db.TORTOISE_ORM ([tool.tortoise] in pyproject.toml).
    if name == "TORTOISE_ORM":
        url = os.environ.get("DATABASE_URL") and load_settings().database_url
        return tortoise_config(url or "sqlite://:memory:")
    raise AttributeError(name)


async def open_database(database_url: str) -> None:
    # Tortoise caches each model's SQL by connection name, not by dialect: a process that opens
    # SQLite and then PostgreSQL (the test suite) would send "?" placeholders to PostgreSQL.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply pending migrations; a no-op when the schema is current."""
    await tortoise_migrate(config=tortoise_config(database_url))
    await connections.close_all()


async def ping(timeout: float = 3) -> None:
    async with asyncio.timeout(timeout):
        await connections.get("default").execute_query("SELECT 1")


def is_database_error(error: BaseException) -> bool:
    """A failure to reach the database (as opposed to a bug): answered 503, retried by the user.

    Looks along the chain of causes, since Tortoise and asyncpg wrap socket errors.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (DBConnectionError, ConnectionError, OSError, TimeoutError)):
            return True
        if _asyncpg_unavailable(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _asyncpg_unavailable(error: BaseException) -> bool:
    if isinstance(error, (pg.PostgresConnectionError, pg.OperatorInterventionError,
                          pg.TooManyConnectionsError, pg.CannotConnectNowError)):
        return True  # lost or refused connection, server shutting down or starting, no slots
    if isinstance(error, pg.InterfaceError):
        text = str(error).lower()
        return "connection is closed" in text or "pool is closing" in text or "connection was closed" in text
    return False


def placeholder(connection, index: int) -> str:
    return f"${index}" if connection.capabilities.dialect == "postgres" else "?"
