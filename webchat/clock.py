"""The reader's time: their time zone and clock, for pages rendered for them, in their language.

A page is rendered for one reader, so its times can be theirs: a `Clock` is made once per page
(the zone is looked up once, not per message) and handed to the templates as `clock`. Fragments
rendered once for everyone (the live stream) have no reader: they use `UTC_CLOCK`, labelled as
UTC, and the page's script shows them in the reader's zone.

The words are the current language's (webchat.i18n): Babel's day and month names, "Today" and
"Yesterday" through gettext, and each language's patterns written to be exactly what the
script's `Intl.DateTimeFormat` gives for the page's language in Chromium (static/js/times.js),
so a page reads the same with and without JavaScript: "6:40 PM", "Nov 30, 6:40 PM", "Monday,
November 30, 2026" in English; "18:40", "30 พ.ย. 18:40", "วันจันทร์ที่ 30 พฤศจิกายน 2569" in
Thai, whose years are those of the Buddhist era (as Thai readers and Intl's "th" have them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_datetime

from webchat import i18n

# Languages whose clock is the 24-hour one when a person leaves it to the language.
TWENTY_FOUR_HOUR_LANGUAGES = frozenset({"th"})


@dataclass(frozen=True)
class Patterns:
    """One language's date and time patterns (Unicode LDML, as Babel reads them), as Intl writes
    them: `{time}` is where the time of day goes; `y` is the year in the language's calendar."""

    hours12: str
    hours24: str
    this_year: str  # a day of this year, with the time
    other_year: str  # a day of another year, with the time
    heading: str  # a day heading: the whole date
    utc_time: str  # a moment for a reader with no zone (the stream's), labelled UTC
    utc_heading: str
    year_offset: int = 0  # years added to the Gregorian year: the Buddhist era is 543 years ahead


PATTERNS: dict[str, Patterns] = {
    "en": Patterns(
        hours12="h:mm a", hours24="HH:mm",
        this_year="MMM d, {time}", other_year="MMM d, y, {time}",
        heading="EEEE, MMMM d, y",
        utc_time="y-MM-dd {time} 'UTC'", utc_heading="EEEE d MMMM y '(UTC)'",
    ),
    "th": Patterns(
        hours12="h:mm a", hours24="H:mm",
        this_year="d MMM {time}", other_year="d MMM y {time}",
        heading="EEEEที่ d MMMM y",
        utc_time="d MMM y {time} 'UTC'", utc_heading="EEEEที่ d MMMM y '(UTC)'",
        year_offset=543,
    ),
}


def language() -> str:
    """The language times are written in: the current one. Looking it up counts as a translated
    lookup (webchat.i18n.lookups), since what is written with it differs by language: a render
    with a time in it is kept per language (webchat.render)."""
    i18n.catalog()
    return i18n.current()


def patterns(lang: str | None = None) -> Patterns:
    return PATTERNS.get(lang or language(), PATTERNS[i18n.DEFAULT])


def _with_year(pattern: str, year: int, offset: int) -> str:
    """The pattern with its year (`y`, outside quotes) written out in the language's era."""
    if not offset:
        return pattern
    out, quoted, i = [], False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            quoted = not quoted
            out.append(char)
        elif char == "y" and not quoted:
            while i + 1 < len(pattern) and pattern[i + 1] == "y":
                i += 1
            out.append(f"'{year + offset}'")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def format_moment(local: datetime, pattern: str, lang: str | None = None) -> str:
    """A moment (already in the reader's zone) by an LDML pattern, in the language's calendar."""
    lang = lang or language()
    pattern = _with_year(pattern, local.year, patterns(lang).year_offset)
    return format_datetime(local, pattern, tzinfo=local.tzinfo, locale=lang)


def format_day(day: date, pattern: str, lang: str | None = None) -> str:
    lang = lang or language()
    return format_date(day, _with_year(pattern, day.year, patterns(lang).year_offset), locale=lang)


def long_date(day: date | datetime) -> str:
    """A day in words in the current language: "Monday, November 30, 2026",
    "วันจันทร์ที่ 30 พฤศจิกายน 2569" (a day the reader named: no zone involved)."""
    if isinstance(day, datetime):
        day = day.date()
    return format_day(day, patterns().heading)


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
        """What a rendering depends on: the zone, the clock, and which day is today there (and
        the language, which webchat.render keys by itself)."""
        return (self.zone_name if self.zone else None, self.hour12, self.today if self.zone else None)

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz)

    def day(self, moment: datetime) -> date:
        """The reader's calendar day of a moment (which decides where day headings go)."""
        return self.local(moment).date()

    def _hours(self, found: Patterns) -> str:
        return found.hours12 if self.hour12 else found.hours24

    def time(self, moment: datetime) -> str:
        """A moment: "6:40 PM" today, "Nov 30, 6:40 PM" this year, "Nov 30, 2025, 6:40 PM" before;
        without a zone "2026-11-30 18:40 UTC" (in Thai "18:40", "30 พ.ย. 18:40",
        "30 พ.ย. 2568 18:40", "30 พ.ย. 2569 18:40 UTC")."""
        lang = language()
        found = patterns(lang)
        local = self.local(moment)
        hours = self._hours(found)
        if self.zone is None:
            pattern = found.utc_time.format(time=hours)
        elif local.date() == self.today:
            pattern = hours
        elif local.year == self.today.year:
            pattern = found.this_year.format(time=hours)
        else:
            pattern = found.other_year.format(time=hours)
        return format_moment(local, pattern, lang)

    def heading(self, moment: datetime) -> str:
        """A day heading: "Today", "Yesterday", "Monday, November 30, 2026"; without a zone
        "Monday 30 November 2026 (UTC)"."""
        lang = language()
        found = patterns(lang)
        day = self.day(moment)
        if self.zone is None:
            return format_day(day, found.utc_heading, lang)
        today = self.today
        if day == today:
            return i18n.gettext("Today")
        if day == today - timedelta(days=1):
            return i18n.gettext("Yesterday")
        return format_day(day, found.heading, lang)


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
