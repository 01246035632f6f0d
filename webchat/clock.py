"""The reader's time: their time zone and clock, for pages rendered for them.

A page is rendered for one reader, so its times can be theirs: a `Clock` is made once per page
(the zone is looked up once, not per message) and handed to the templates as `clock`. Fragments
rendered once for everyone (the live stream) have no reader: they use `UTC_CLOCK`, labelled as
UTC, and the page's script shows them in the reader's zone. The words and formats are those the
script's `Intl.DateTimeFormat` gives in English ("6:40 PM", "Nov 30, 6:40 PM", "Today"), so a page
reads the same with and without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Languages whose clock is the 24-hour one when a person leaves it to the language.
TWENTY_FOUR_HOUR_LANGUAGES = frozenset({"th"})


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_zone(name: str) -> bool:
    return name in zone_names()


def hour12_for(clock: str, language: str = "en") -> bool:
    """"12" or "24" as chosen; "auto": the language's own clock (English: 12 hours)."""
    if clock in ("12", "24"):
        return clock == "12"
    return language not in TWENTY_FOUR_HOUR_LANGUAGES


@dataclass(frozen=True)
class Clock:
    """Times and days as one reader sees them. `zone` None: UTC, labelled as such."""

    zone: tzinfo | None = None
    hour12: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)

    @property
    def tz(self) -> tzinfo:
        return self.zone or UTC

    @property
    def zone_name(self) -> str:
        return str(self.zone) if self.zone else "UTC"

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def key(self) -> tuple:
        """What a rendering depends on: the zone, the clock, and which day is today there."""
        return (self.zone_name if self.zone else None, self.hour12, self.today if self.zone else None)

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz)

    def day(self, moment: datetime) -> date:
        """The reader's calendar day of a moment (which decides where day headings go)."""
        return self.local(moment).date()

    def _hours(self, local: datetime) -> str:
        if self.hour12:
            return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
        return f"{local:%H:%M}"

    def time(self, moment: datetime) -> str:
        """A moment: "6:40 PM" today, "Nov 30, 6:40 PM" this year, "Nov 30, 2025, 6:40 PM" before;
        without a zone "2026-11-30 18:40 UTC"."""
        local = self.local(moment)
        if self.zone is None:
            return f"{local:%Y-%m-%d} {self._hours(local)} UTC"
        today = self.today
        if local.date() == today:
            return self._hours(local)
        if local.year == today.year:
            return f"{local:%b} {local.day}, {self._hours(local)}"
        return f"{local:%b} {local.day}, {local.year}, {self._hours(local)}"

    def heading(self, moment: datetime) -> str:
        """A day heading: "Today", "Yesterday", "Monday, November 30, 2026"; without a zone
        "Monday 30 November 2026 (UTC)"."""
        day = self.day(moment)
        if self.zone is None:
            return f"{day:%A} {day.day} {day:%B %Y} (UTC)"
        today = self.today
        if day == today:
            return "Today"
        if day == today - timedelta(days=1):
            return "Yesterday"
        return f"{day:%A}, {day:%B} {day.day}, {day.year}"


UTC_CLOCK = Clock()


def clock_for(zone_name: str | None, clock: str = "auto", language: str = "en") -> Clock:
    """A reader's clock: `zone_name` None (not chosen) keeps UTC, labelled."""
    zone = None
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)  # cached by zoneinfo: the same object every time
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
    if zone is None and clock not in ("12", "24"):
        return Clock(None, False)  # nothing chosen: "2026-11-30 18:40 UTC", as the stream has it
    return Clock(zone, hour12_for(clock, language))
