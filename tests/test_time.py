"""Times in the reader's zone and clock, on the server: every page rendered for a reader who chose
a time zone (on /settings) shows its times and day headings in that zone and clock, with or without
JavaScript; without a choice, UTC labelled as such. `datetime` attributes stay UTC, and what is
rendered once for everyone (the live stream) stays UTC for the script to localize."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from webchat import clock as clock_module
from webchat.clock import UTC_CLOCK, Clock, clock_for
from webchat.models import Message, User


async def _said_at(ana, room: int, body: str, at: datetime) -> int:
    page = await ana.say(room, body)
    mid = int(page.location.rsplit("-", 1)[1])
    await Message.filter(id=mid).update(created_at=at)
    return mid


def _headings(text: str) -> list[str]:
    return re.findall(r'<h3 class="day-heading"[^>]*>([^<]*)</h3>', text)


def test_a_clock_writes_times_as_the_script_does():
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    bangkok = Clock(clock_for("Asia/Bangkok").zone, hour12=True, now=now)
    assert bangkok.time(datetime(2026, 11, 30, 1, 5, tzinfo=UTC)) == "8:05 AM"  # today
    assert bangkok.time(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)) == "Dec 1, 12:00 AM"  # tomorrow there
    assert bangkok.time(datetime(2025, 6, 1, 5, 0, tzinfo=UTC)) == "Jun 1, 2025, 12:00 PM"
    assert bangkok.heading(datetime(2026, 11, 29, 20, tzinfo=UTC)) == "Today"  # 03:00 on the 30th there
    assert bangkok.heading(datetime(2026, 11, 29, 1, tzinfo=UTC)) == "Yesterday"
    assert bangkok.heading(datetime(2026, 3, 1, 20, tzinfo=UTC)) == "Monday, March 2, 2026"
    berlin24 = Clock(clock_for("Europe/Berlin").zone, hour12=False, now=now)
    assert berlin24.time(datetime(2026, 11, 30, 8, 5, tzinfo=UTC)) == "09:05"
    assert berlin24.time(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "Jul 2, 00:30"  # summer time
    # Without a zone: UTC, labelled, as the stream has it.
    assert UTC_CLOCK.time(datetime(2026, 3, 1, 20, 30, tzinfo=UTC)) == "2026-03-01 20:30 UTC"
    assert UTC_CLOCK.heading(datetime(2026, 3, 1, 20, 30, tzinfo=UTC)) == "Sunday 1 March 2026 (UTC)"
    # "auto" is the language's clock; an unknown zone is no zone.
    assert clock_for("Asia/Bangkok", "auto").hour12 and not clock_for("Asia/Bangkok", "auto", "th").hour12
    assert not clock_for("UTC", "24").hour12 and clock_for("Nowhere/Else").zone is None
    assert clock_for(None) == UTC_CLOCK and clock_for(None, "12").hour12


async def test_pages_show_times_in_the_readers_zone_and_clock(no_limits, ana, ben):
    room = await ana.create_room("Clocks")
    await ben.post(f"/rooms/{room}/join")
    # 16:00 and 18:00 UTC on 1 March: 23:00 on the 1st and 01:00 on the 2nd in Bangkok.
    first = await _said_at(ana, room, "late evening", datetime(2026, 3, 1, 16, 0, tzinfo=UTC))
    second = await _said_at(ana, room, "early morning", datetime(2026, 3, 1, 18, 0, tzinfo=UTC))
    assert (await ana.post("/settings", {"time_zone": "Asia/Bangkok", "clock": "12"})).status == 303

    for path in (f"/rooms/{room}", f"/rooms/{room}/messages?before={second + 1}",
                 f"/rooms/{room}/messages/{first}", "/search?q=morning"):
        page = await ana.get(path)
        assert page.status == 200, path
        if path != "/search?q=morning":
            assert "Mar 1, 11:00 PM" in page.text, path
            assert _headings(page.text) == ["Sunday, March 1, 2026", "Monday, March 2, 2026"], path
        assert "Mar 2, 1:00 AM" in page.text, path
        assert 'datetime="2026-03-01T18:00:00Z"' in page.text, path  # machine-readable: UTC
        assert " UTC" not in re.sub(r"<option[^>]*>[^<]*</option>", "", page.text), path
        # The sentence a screen reader says carries the same time.
        if path != "/search?q=morning":
            assert "Ana Lima @ana, Mar 2, 1:00 AM: early morning" in page.text, path
    # The script is told the same zone and clock.
    page = await ana.get(f"/rooms/{room}")
    assert 'data-time-zone="Asia/Bangkok" data-clock="12"' in page.text
    # The 24-hour clock.
    await ana.post("/settings", {"clock": "24"})
    page = await ana.get(f"/rooms/{room}")
    assert "Mar 2, 01:00" in page.text and "Mar 1, 23:00" in page.text and 'data-clock="24"' in page.text

    # Ben chose nothing: UTC, labelled, one day heading (the same cached messages, another reader).
    page = await ben.get(f"/rooms/{room}")
    assert "2026-03-01 18:00 UTC" in page.text and "2026-03-01 16:00 UTC" in page.text
    assert _headings(page.text) == ["Sunday 1 March 2026 (UTC)"]
    assert "data-time-zone" not in page.text and "data-clock" not in page.text


async def test_jump_to_date_opens_the_readers_day(no_limits, ana):
    room = await ana.create_room("Days")
    noon = await _said_at(ana, room, "first of March", datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    night = await _said_at(ana, room, "after midnight in Bangkok", datetime(2026, 3, 1, 18, 0, tzinfo=UTC))
    page = await ana.get(f"/rooms/{room}/messages?date=2026-03-02")
    assert "Opens the conversation at that day (UTC)" in page.text
    # Nothing on the 2nd in UTC: the latest page.
    assert [int(m) for m in re.findall(r'<li id="m-(\d+)"', page.text)] == [noon, night]
    await ana.post("/settings", {"time_zone": "Asia/Bangkok"})
    page = await ana.get(f"/rooms/{room}/messages?date=2026-03-02")
    ids = [int(m) for m in re.findall(r'<li id="m-(\d+)"', page.text)]
    assert ids == [night] and "your time zone, Asia/Bangkok" in page.text


async def test_today_and_yesterday_in_the_readers_zone(no_limits, ana):
    room = await ana.create_room("Now")
    await ana.post("/settings", {"time_zone": "America/New_York", "clock": "24"})
    now = datetime.now(UTC)
    await _said_at(ana, room, "a day ago", now - timedelta(days=1))
    await _said_at(ana, room, "just now", now)
    page = await ana.get(f"/rooms/{room}")
    assert _headings(page.text) == ["Yesterday", "Today"]
    local = now.astimezone(clock_for("America/New_York").zone)
    assert f">{local:%H:%M}</time>" in page.text  # today: the time alone


async def test_the_stream_fragment_stays_utc(no_limits, app, ana):
    room = await ana.create_room("Stream")
    mid = await _said_at(ana, room, "hello", datetime(2026, 3, 1, 18, 0, tzinfo=UTC))
    await ana.post("/settings", {"time_zone": "Asia/Bangkok"})
    renderer = app.extensions["webchat"].renderer
    renderer.forget_messages()  # the post rendered it with the time it really had
    assert "Mar 2, 1:00 AM" in (await ana.get(f"/rooms/{room}")).text  # renders (and caches) the reader's version
    message = await Message.get(id=mid).select_related("author")
    html = renderer.message_frame("message", message, 1).decode()
    assert "2026-03-01 18:00 UTC" in html and "Mar 2" not in html


async def test_settings_for_time_are_checked_and_change_only_what_is_sent(ana):
    await ana.post("/settings", {"announce": "mentions", "announce_typing": "1"})
    page = await ana.post("/settings", {"time_zone": "Mars/Olympus", "clock": "13"})
    assert page.status == 422
    assert 'href="#settings-zone"' in page.text and 'href="#clock-auto"' in page.text
    assert 'aria-invalid="true"' in page.text
    # The offer's form: the zone alone, back to the page it was on; the rest stays.
    page = await ana.post("/settings", {"time_zone": "Europe/Berlin", "next": "/rooms"})
    assert page.status == 303 and page.location == "/rooms"
    user = await User.get(username="ana")
    assert (user.time_zone, user.time_zone_set, user.announce, user.announce_typing) == (
        "Europe/Berlin", True, "mentions", True)
    assert (await ana.post("/settings", {"time_zone": "UTC", "next": "//evil.example"})).location == "/settings"
    # Back to "not set".
    await ana.post("/settings", {"time_zone": "", "clock": "auto"})
    user = await User.get(username="ana")
    assert (user.time_zone_set, user.clock) == (False, "auto")
    page = await ana.get("/settings")
    assert '<option value="" selected>Not set (UTC without JavaScript)</option>' in page.text
    assert 'id="clock-auto" name="clock" value="auto" checked' in page.text
    # Nothing to change at all is an error, not a silent success.
    assert (await ana.post("/settings", {})).status == 422


async def test_a_zone_is_looked_up_once_per_page_not_per_message(no_limits, ana, monkeypatch):
    room = await ana.create_room("Busy")
    for n in range(60):
        await ana.say(room, f"message {n}")
    await ana.post("/settings", {"time_zone": "Europe/Berlin"})
    made = []
    real = clock_module.ZoneInfo
    monkeypatch.setattr(clock_module, "ZoneInfo", lambda name: made.append(name) or real(name))
    page = await ana.get(f"/rooms/{room}")
    assert page.status == 200 and page.text.count('class="message') >= 50
    assert made == ["Europe/Berlin"]
