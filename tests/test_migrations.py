"""Migrations carry existing data forward: a database made by an older release keeps working."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from tortoise import connections
from tortoise.migrations.api import migrate

from tests.helpers import services
from webchat import db


async def _at(database_url: str, target: str) -> None:
    await migrate(config=db.tortoise_config(database_url), target=target)
    await connections.close_all()


async def _query(database_url: str, sql: str) -> list[dict]:
    from tortoise import Tortoise

    await Tortoise.init(config=db.tortoise_config(database_url))
    try:
        return await connections.get("default").execute_query_dict(sql)
    finally:
        await connections.close_all()


async def _scenario(url: str) -> None:
    await _at(url, "models.0001_initial")
    await _query(url, "INSERT INTO users (id, username, username_key, display_name, password_hash, "
                      "session_version, announce, created_at) VALUES (1, 'ana', 'ana', 'Ana', 'x', 1, "
                      "'all', CURRENT_TIMESTAMP)")
    await _query(url, "INSERT INTO rooms (id, name, topic, kind, last_event, last_seq, created_at) "
                      "VALUES (1, 'General', '', 'public', 2, 2, CURRENT_TIMESTAMP)")
    await _query(url, "INSERT INTO messages (id, room_id, author_id, seq, body, created_at, deleted) VALUES "
                      "(1, 1, 1, 1, 'see https://example.org/a_(b)). <b>bold</b>', CURRENT_TIMESTAMP, false), "
                      "(2, 1, 1, 2, '', CURRENT_TIMESTAMP, true)")
    await db.migrate(url)
    rows = {row["id"]: row["html"] for row in await _query(url, "SELECT id, html FROM messages")}
    # As Markdown, the way a message written today is stored.
    assert rows[1] == ('see <a href="https://example.org/a_(b)" rel="noopener noreferrer nofollow ugc">'
                       'https://example.org/a_(b)</a>). &lt;b&gt;bold&lt;/b&gt;')
    assert rows[2] == ""


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_messages_written_before_bodies_were_stored_as_html_get_it(engine, tmp_path, request):
    if engine == "sqlite":
        asyncio.run(_scenario(f"sqlite://{tmp_path / 'old.sqlite3'}"))
        return
    server = request.getfixturevalue("postgres_server_url")
    url = services.create_postgres_database(server, f"webchat_m_{uuid.uuid4().hex[:12]}")
    try:
        asyncio.run(_scenario(url))
    finally:
        services.drop_postgres_database(server, url)
