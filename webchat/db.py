"""Database set-up: Tortoise configuration, connection lifecycle and migrations."""

from __future__ import annotations

import os
from pathlib import Path

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as tortoise_migrate

APP = "models"


def tortoise_config(database_url: str) -> dict:
    if database_url.startswith("sqlite://"):
        Path(database_url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": database_url},
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
        from webchat.config import load_settings

        url = os.environ.get("DATABASE_URL") and load_settings().database_url
        return tortoise_config(url or "sqlite://:memory:")
    raise AttributeError(name)


async def open_database(database_url: str) -> None:
    # Tortoise caches each model's SQL by connection name, not by dialect: a process that opens
    # SQLite and then PostgreSQL (the test suite) would send "?" placeholders to PostgreSQL.
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply pending migrations; a no-op when the schema is current."""
    await tortoise_migrate(config=tortoise_config(database_url))
    await connections.close_all()


async def ping() -> None:
    await connections.get("default").execute_query("SELECT 1")


def is_database_error(error: BaseException) -> bool:
    """A failure to reach the database (as opposed to a bug): answered 503, retried by the user."""
    from tortoise.exceptions import DBConnectionError

    if isinstance(error, (DBConnectionError, ConnectionError, OSError, TimeoutError)):
        return True
    cause = error.__cause__ or error.__context__
    if cause is not None and cause is not error and is_database_error(cause):
        return True
    kind = type(error)
    return kind.__module__.startswith("asyncpg") and (
        "Connection" in kind.__name__ or "CannotConnect" in kind.__name__
    )


def placeholder(connection, index: int) -> str:
    return f"${index}" if connection.capabilities.dialect == "postgres" else "?"
