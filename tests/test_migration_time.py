"""The time migration: a zone chosen before it (anything but the old default, UTC) stays chosen;
everyone else has none yet (UTC, labelled, without script; the browser's with it), and the
language's clock."""

from __future__ import annotations


import pytest

from tests.helpers import services
from tests.test_migrations import _at, _query
from webchat import db


async def _scenario(url: str) -> None:
    await _at(url, "models.0007_administration")
    for n, (name, zone) in enumerate((("ana", "Asia/Bangkok"), ("ben", "UTC")), start=1):
        await _query(url, "INSERT INTO users (id, username, username_key, display_name, password_hash, "
                          "session_version, announce, announce_typing, is_admin, is_active, deleted, bio, "
                          f"time_zone, created_at) VALUES ({n}, '{name}', '{name}', '{name}', 'x', 1, 'all', "
                          f"false, false, true, false, '', '{zone}', CURRENT_TIMESTAMP)")
    await db.migrate(url)
    rows = await _query(url, "SELECT username, time_zone, time_zone_set, clock FROM users ORDER BY id")
    assert [(r["username"], r["time_zone"], bool(r["time_zone_set"]), r["clock"]) for r in rows] == [
        ("ana", "Asia/Bangkok", True, "auto"), ("ben", "UTC", False, "auto")]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_zone_chosen_before_stays_chosen(engine, tmp_path, request):
    services.run_on_fresh_database(engine, tmp_path, request, _scenario)
