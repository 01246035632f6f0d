"""Migrations carry existing data forward: a database made by an older release keeps working."""

from __future__ import annotations

import asyncio

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
    services.run_on_fresh_database(engine, tmp_path, request, _scenario)


async def _search_scenario(url: str) -> None:
    """Messages written before search existed are found once the migration has run; an erased one
    is not; and the index follows writes made afterwards."""
    from webchat.search.engines import Filters, search_sql

    await _at(url, "models.0003_message_html")
    await _query(url, "INSERT INTO users (id, username, username_key, display_name, password_hash, "
                      "session_version, announce, created_at) VALUES (1, 'ana', 'ana', 'Ana', 'x', 1, "
                      "'all', CURRENT_TIMESTAMP)")
    await _query(url, "INSERT INTO rooms (id, name, topic, kind, last_event, last_seq, created_at) "
                      "VALUES (1, 'General', '', 'public', 3, 3, CURRENT_TIMESTAMP)")
    await _query(url, "INSERT INTO messages (id, room_id, author_id, seq, body, html, created_at, deleted) VALUES "
                      "(1, 1, 1, 1, 'the quarterly budget', '', CURRENT_TIMESTAMP, false), "
                      "(2, 1, 1, 2, '', '', CURRENT_TIMESTAMP, true), "
                      "(3, 1, 1, 3, 'งบประมาณไตรมาส', '', CURRENT_TIMESTAMP, false)")
    await db.migrate(url)
    await db.migrate(url)  # safe to run twice
    dialect = "postgres" if url.startswith("postgres") else "sqlite"

    async def found(term: str) -> list[int]:
        sql, params = search_sql(dialect, [term], [], Filters(reader_id=1))
        from tortoise import Tortoise

        await Tortoise.init(config=db.tortoise_config(url))
        try:
            return [row["id"] for row in await connections.get("default").execute_query_dict(sql, params)]
        finally:
            await connections.close_all()

    assert await found("BUDGET") == [1]
    assert await found("ประมาณ") == [3]
    await _query(url, "UPDATE messages SET body = 'the annual forecast' WHERE id = 1")
    assert await found("budget") == [] and await found("forecast") == [1]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_messages_written_before_search_existed_are_found(engine, tmp_path, request):
    services.run_on_fresh_database(engine, tmp_path, request, _search_scenario)


def test_the_search_triggers_survive_every_migration(tmp_path):
    """SQLite drops a table's triggers with it: a later migration that rebuilds `messages` (as
    some ALTERs do on SQLite) must create the search triggers again, or posts stop being found."""
    url = f"sqlite://{tmp_path / 'new.sqlite3'}"
    asyncio.run(db.migrate(url))
    rows = asyncio.run(_query(url, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'"))
    assert {"message_fts_insert", "message_fts_update", "message_fts_delete"} <= {r["name"] for r in rows}
