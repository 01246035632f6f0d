"""Times, days and numbers in the page's language: the server writes them as the script's
`Intl.DateTimeFormat` does in Chromium for that language (tests/browser/test_time_languages.py
compares the two), Thai with the Buddhist era's years, "วันนี้" and "เมื่อวาน" for today and
yesterday; a render that writes a time is kept per language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from webchat import i18n, numbers
from webchat.clock import UTC_CLOCK, Clock, clock_for, long_date
from webchat.models import Message

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _headings(text: str) -> list[str]:
    return re.findall(r'<h3 class="day-heading"[^>]*>([^<]*)</h3>', text)


def _bangkok(hour12: bool) -> Clock:
    return Clock(clock_for("Asia/Bangkok").zone, hour12=hour12, now=NOW)


def test_thai_times_days_and_the_buddhist_era():
    with i18n.speaking("th"):
        clock = _bangkok(False)
        assert clock.time(datetime(2026, 11, 30, 1, 5, tzinfo=UTC)) == "8:05"  # today: as Intl's "th" (H:mm)
        assert clock.time(datetime(2026, 11, 30, 11, 40, tzinfo=UTC)) == "18:40"
        assert clock.time(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)) == "1 ธ.ค. 0:00"  # tomorrow there
        assert clock.time(datetime(2025, 1, 3, 5, 0, tzinfo=UTC)) == "3 ม.ค. 2568 12:00"  # 2025 + 543
        assert clock.heading(datetime(2026, 11, 29, 20, tzinfo=UTC)) == "วันนี้"
        assert clock.heading(datetime(2026, 11, 29, 1, tzinfo=UTC)) == "เมื่อวาน"
        assert clock.heading(datetime(2026, 3, 1, 20, tzinfo=UTC)) == "วันจันทร์ที่ 2 มีนาคม 2569"
        twelve = _bangkok(True)
        assert twelve.time(datetime(2026, 11, 30, 11, 40, tzinfo=UTC)) == "6:40 PM"
        assert twelve.time(datetime(2025, 6, 1, 1, 5, tzinfo=UTC)) == "1 มิ.ย. 2568 8:05 AM"
        # Without a zone: UTC, labelled, in Thai words and years.
        assert UTC_CLOCK.time(datetime(2026, 3, 1, 20, 30, tzinfo=UTC)) == "1 มี.ค. 2569 20:30 UTC"
        assert UTC_CLOCK.heading(datetime(2026, 3, 1, 20, 30, tzinfo=UTC)) == "วันอาทิตย์ที่ 1 มีนาคม 2569 (UTC)"
        assert long_date(datetime(2026, 11, 30)) == "วันจันทร์ที่ 30 พฤศจิกายน 2569"
    # The same clock in English, in the same process: nothing of Thai stays behind.
    with i18n.speaking("en"):
        assert _bangkok(False).time(datetime(2025, 1, 3, 5, 0, tzinfo=UTC)) == "Jan 3, 2025, 12:00"
        assert _bangkok(True).heading(datetime(2026, 11, 29, 20, tzinfo=UTC)) == "Today"
        assert long_date(datetime(2026, 11, 30)) == "Monday, November 30, 2026"


def test_a_time_counts_as_a_translated_lookup():
    """webchat.render keeps a render that looked nothing up once for every language: a time
    written in one language must not be served to readers of the other."""
    before = i18n.lookups
    with i18n.speaking("th"):
        _bangkok(False).time(NOW)
    assert i18n.lookups > before


def test_numbers_in_the_language():
    for language in ("en", "th"):
        with i18n.speaking(language):
            assert numbers.count(1234567) == "1,234,567"
            assert numbers.decimal(1.25) == "1.2" and numbers.decimal(3.0) == "3"
    with i18n.speaking("en"):
        assert [numbers.size(n) for n in (1, 512, 2000, 1_300_000)] == ["1 byte", "512 bytes", "2 KB", "1.2 MB"]
    with i18n.speaking("th"):
        assert [numbers.size(n) for n in (512, 1_300_000)] == ["512 ไบต์", "1.2 MB"]


async def test_a_thai_readers_page_has_thai_times_and_days(no_limits, ana, ben):
    room = await ana.create_room("Clocks")
    await ben.post(f"/rooms/{room}/join")
    page = await ana.say(room, "late evening")
    mid = int(page.location.rsplit("-", 1)[1])
    await Message.filter(id=mid).update(created_at=datetime(2025, 3, 1, 16, 0, tzinfo=UTC))
    assert (await ana.post("/settings", {"time_zone": "Asia/Bangkok", "clock": "auto", "language": "th",
                                         "announce": "all"})).status == 303
    page = await ana.get(f"/rooms/{room}")
    assert "1 มี.ค. 2568 23:00" in page.text  # another year: 2025 in the Buddhist era
    assert _headings(page.text) == ["วันเสาร์ที่ 1 มีนาคม 2568"]
    # Ben reads English, UTC labelled: the same message, cached, is not the Thai one.
    page = await ben.get(f"/rooms/{room}")
    assert "2025-03-01 16:00 UTC" in page.text and "2568" not in page.text
    assert _headings(page.text) == ["Saturday 1 March 2025 (UTC)"]
