"""Jumping through history: GET /rooms/ID/messages?date=YYYY-MM-DD opens the history at that day,
and the room page offers it as a native date field in a GET form ("Jump to date")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from webchat.models import Message


async def _room_over_days(ana) -> tuple[int, dict[str, int]]:
    """Sixty messages on 1 March, one on 3 March, two on 5 March 2026 (UTC)."""
    room = await ana.create_room("Diary")
    days = [(1, n) for n in range(60)] + [(3, 0), (5, 0), (5, 1)]
    ids = {}
    for day, n in days:
        page = await ana.say(room, f"day {day} note {n}")
        mid = int(page.location.rsplit("-", 1)[1])
        ids[f"{day}/{n}"] = mid
        await Message.filter(id=mid).update(created_at=datetime(2026, 3, day, 9, tzinfo=UTC) + timedelta(minutes=n))
    return room, ids


def shown(page) -> list[int]:
    return [int(m) for m in re.findall(r'<li id="m-(\d+)"', page.text)]


async def test_the_history_opens_at_the_day_asked_for(no_limits, ana):
    room, ids = await _room_over_days(ana)
    page = await ana.get(f"/rooms/{room}/messages?date=2026-03-03")
    assert page.status == 200
    assert shown(page) == [ids["3/0"], ids["5/0"], ids["5/1"]]
    assert "<h1>Diary from Tuesday 3 March 2026</h1>" in page.text
    # Older ones behind a link (it works without JavaScript), the date kept in the field.
    assert f'href="/rooms/{room}/messages?before={ids["3/0"]}"' in page.text
    assert 'id="jump-date" name="date" type="date" value="2026-03-03"' in page.text
    # A day with nothing said opens at the next day that has something.
    page = await ana.get(f"/rooms/{room}/messages?date=2026-03-04")
    assert shown(page) == [ids["5/0"], ids["5/1"]] and "Nothing was said on Wednesday 4 March 2026" in page.text
    # A busy day: the first page of it, then newer pages.
    page = await ana.get(f"/rooms/{room}/messages?date=2026-03-01")
    assert shown(page) == [ids[f"1/{n}"] for n in range(50)]
    assert "This is the start of the conversation." in page.text
    newer = re.search(r'href="(/rooms/\d+/messages\?after=\d+)"[^>]*>Show newer messages', page.text).group(1)
    page = await ana.get(newer)
    assert shown(page) == [ids[f"1/{n}"] for n in range(50, 60)] + [ids["3/0"], ids["5/0"], ids["5/1"]]
    # After the last message: the latest ones, saying so.
    page = await ana.get(f"/rooms/{room}/messages?date=2030-01-01")
    assert shown(page)[-1] == ids["5/1"] and "Nothing was said on or after" in page.text


async def test_a_date_that_is_not_one_explains_itself(ana):
    room = await ana.create_room("Diary")
    for raw in ("yesterday", "2026-02-30", "2026-3-1", "", "%00", "9999999-01-01"):
        page = await ana.get(f"/rooms/{room}/messages?date={raw}")
        assert page.status == 422, raw
        assert 'class="error-summary"' in page.text and 'href="#jump-date"' in page.text
        assert 'aria-invalid="true"' in page.text


async def test_the_room_page_has_jump_to_date(ana, ben):
    room = await ana.create_room("Diary", "private")
    page = await ana.get(f"/rooms/{room}")
    assert f'<form method="get" action="/rooms/{room}/messages" class="jump-date stack">' in page.text
    assert '<label for="jump-date">Jump to date</label>' in page.text
    assert 'id="jump-date" name="date" type="date"' in page.text
    # Only readers of the room.
    assert (await ben.get(f"/rooms/{room}/messages?date=2026-03-01")).status == 403
