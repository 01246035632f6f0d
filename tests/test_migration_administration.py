"""The administration migration carries existing accounts, rooms and memberships forward: active,
not administrators (one is made with `python -m webchat admin grant`), rooms not archived,
members plain members."""

from __future__ import annotations

import asyncio

from tests.test_migrations import _at, _query
from webchat import db


async def _scenario(url: str) -> None:
    await _at(url, "models.0003_message_html")
    await _query(url, "INSERT INTO users (id, username, username_key, display_name, password_hash, "
                      "session_version, announce, announce_typing, created_at) VALUES (1, 'ana', 'ana', 'Ana', "
                      "'x', 1, 'all', false, CURRENT_TIMESTAMP)")
    await _query(url, "INSERT INTO rooms (id, name, topic, kind, last_event, last_seq, created_at) "
                      "VALUES (1, 'General', '', 'public', 0, 0, CURRENT_TIMESTAMP)")
    await _query(url, "INSERT INTO memberships (id, user_id, room_id, read_seq, read_message_id, joined_at) "
                      "VALUES (1, 1, 1, 0, 0, CURRENT_TIMESTAMP)")
    await db.migrate(url)
    user = (await _query(url, "SELECT is_admin, is_active, deleted, bio, time_zone FROM users"))[0]
    assert (bool(user["is_admin"]), bool(user["is_active"]), bool(user["deleted"])) == (False, True, False)
    assert (user["bio"], user["time_zone"]) == ("", "UTC")
    assert not (await _query(url, "SELECT archived FROM rooms"))[0]["archived"]
    assert (await _query(url, "SELECT role, muted_until FROM memberships"))[0] == {"role": "member",
                                                                                  "muted_until": None}


def test_existing_data_survives_the_administration_migration(tmp_path):
    asyncio.run(_scenario(f"sqlite://{tmp_path / 'old.sqlite3'}"))
