"""A work queue in a database table, shared by outgoing webhooks and the email outbox.

Rows are due when their state is pending and `next_attempt_at` has passed. A worker claims due
rows by moving `next_attempt_at` one lease forward in one statement (PostgreSQL: FOR UPDATE SKIP
LOCKED, so with several processes each row is taken by one of them; SQLite has one process and
its single connection runs the UPDATE alone), then works on them; a row whose worker died is
due again when the lease ends. Rows stay in the table: a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from tortoise import connections


async def claim(table: str, state_column: str, lease: timedelta, limit: int) -> list[int]:
    """Take up to `limit` due rows of `table` (names from our own code, never from input)."""
    conn = connections.get("default")
    now = datetime.now(UTC)
    if conn.capabilities.dialect == "postgres":
        sql = (f"UPDATE {table} SET next_attempt_at = $1 WHERE id IN (SELECT id FROM {table} "
               f"WHERE {state_column} = 'pending' AND next_attempt_at <= $2 ORDER BY id LIMIT $3 "
               "FOR UPDATE SKIP LOCKED) RETURNING id")
    else:
        sql = (f"UPDATE {table} SET next_attempt_at = ? WHERE id IN (SELECT id FROM {table} "
               f"WHERE {state_column} = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?) RETURNING id")
    rows = await conn.execute_query_dict(sql, [now + lease, now, limit])
    return sorted(row["id"] for row in rows)


async def every(stopping: asyncio.Event, seconds: float, step: Callable[[], Awaitable[object]],
                log: logging.Logger, what: str) -> None:
    """Run `step` every `seconds` until the process stops; a failure (the database away) is
    logged and tried again at the next turn."""
    while not stopping.is_set():
        try:
            await step()
        except Exception as error:
            log.warning("%s: %s: %s", what, type(error).__name__, error)
        try:
            async with asyncio.timeout(seconds):
                await stopping.wait()
        except TimeoutError:
            pass
