"""Real services for tests: throwaway PostgreSQL databases, a clean Redis database."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_postgres_database(server_url: str, name: str) -> str:
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    return _with_database(server_url, name)


def drop_postgres_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


EMPTY_EVERY_TABLE = """
DO $$ DECLARE names text;
BEGIN
  SELECT string_agg(format('%I', tablename), ', ') INTO names
    FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'tortoise_migrations';
  IF names IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || names || ' RESTART IDENTITY CASCADE';
  END IF;
END $$;
"""


def empty_postgres_database(url: str) -> None:
    """Every table the migrations made, emptied (the migration record kept), whatever they are."""
    asyncio.run(_admin(url, EMPTY_EVERY_TABLE))


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def run_on_fresh_database(engine: str, tmp_path, request, scenario) -> None:
    """Run `scenario(url)` on a new SQLite file or a new PostgreSQL database (dropped after):
    for tests that build an old schema themselves and migrate it."""
    if engine == "sqlite":
        asyncio.run(scenario(f"sqlite://{tmp_path / 'old.sqlite3'}"))
        return
    server = request.getfixturevalue("postgres_server_url")
    url = create_postgres_database(server, f"webchat_m_{uuid.uuid4().hex[:12]}")
    try:
        asyncio.run(scenario(url))
    finally:
        drop_postgres_database(server, url)
