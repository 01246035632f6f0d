"""Searching the messages a reader may read: the rooms they are in and the public rooms.

Deleted messages are never found (their text is erased); edited ones by their current text only
(the index follows every write). Results come newest first, or best first (most occurrences of the
terms for the length of the message).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from tortoise import connections

from webchat import i18n
from webchat.accounts.names import resolve_person
from webchat.models import Message, Room, User
from webchat.rooms import service as rooms
from webchat.search.engines import COUNT_MAX, Filters, search_sql
from webchat.search.excerpt import excerpt
from webchat.search.query import (
    QUERY_MAX,
    TERM_MIN,
    TERMS_MAX,
    Query,
    normalize,
    parse,
    parse_day,
)

PAGE = 20
PAGES_MAX = 50  # deeper than this, a narrower search finds it sooner


@dataclass
class Hit:
    message: Message
    room_title: str
    excerpt: Markup


@dataclass
class Found:
    hits: list[Hit]
    total: int  # up to COUNT_MAX; `more` when there are more than that
    more: bool
    page: int
    has_next: bool

    @property
    def pages(self) -> int | None:
        """How many pages there are; None when there are more results than were counted."""
        return None if self.more else max(1, -(-self.total // PAGE))


@dataclass
class Request:
    """A search as asked for, checked: its query, filters, and what is wrong with it, by field."""

    query: Query
    filters: Filters
    errors: list[tuple[str, str]] = field(default_factory=list)


async def prepare(reader: User, q: str, room: str = "", author: str = "", after: str = "",
                  before: str = "") -> Request:
    """The query typed and the fields given, taken together (fields win over typed filters).

    A room the reader may not read refuses the search (403, 404) as the room itself would.
    """
    query = parse(q[: QUERY_MAX * 4])
    query.room = normalize(room).strip() or query.room
    query.author = normalize(author).strip() or query.author
    query.after = normalize(after).strip() or query.after
    query.before = normalize(before).strip() or query.before
    filters = Filters(reader.id)
    request = Request(query, filters)
    errors = request.errors
    if not query.terms:
        errors.append(("search-q", i18n.gettext("Enter a word or words to search for.")))
    elif len(q) > QUERY_MAX:
        errors.append(("search-q", i18n.gettext("Searches can be at most %(max)s characters; this one has %(count)s.",
                                                max=QUERY_MAX, count=len(q))))
    elif len(query.terms) > TERMS_MAX:
        errors.append(("search-q", i18n.gettext("Search for at most %(max)s words at a time.", max=TERMS_MAX)))
    elif max(len(t) for t in query.terms) < TERM_MIN:
        short = i18n.gettext("Enter at least %(min)s characters: a single letter is in almost every message.",
                             min=TERM_MIN)
        errors.append(("search-q", short))
    if query.room:
        filters.room_id = await _room(reader, query.room, errors)
    if query.author:
        user, _ = await resolve_person(query.author)
        if user is None:
            errors.append(("search-from", i18n.gettext("There is nobody called “%(name)s”: give a username.",
                                                       name=query.author)))
        else:
            filters.author_id = user.id
    bad_dates = {
        "after": i18n.lazy_gettext("On or after: give a date as YYYY-MM-DD, such as 2026-11-30."),
        "before": i18n.lazy_gettext("Before: give a date as YYYY-MM-DD, such as 2026-11-30."),
    }
    for name, bad_date in bad_dates.items():
        raw = getattr(query, name)
        if raw:
            day = parse_day(raw)
            if day is None:
                errors.append((f"search-{name}", str(bad_date)))
            setattr(filters, name, day)
    if filters.after and filters.before and filters.after >= filters.before:
        errors.append(("search-before", i18n.gettext("The “before” date must be later than the “on or after” date.")))
    return request


async def _room(reader: User, raw: str, errors: list) -> int | None:
    """A room id (checked as the room's own page checks it) or the name of a readable room."""
    if raw.isascii() and raw.isdigit():
        found = await rooms.access(rooms.parse_id(raw), reader)
        return found.room.id
    readable = {e.room.id: e.title for e in await rooms.rooms_of(reader)}
    named = [rid for rid, title in readable.items() if title.casefold() == raw.casefold()]
    if not named:
        named = await Room.filter(kind="public", name__iexact=raw[:80]).order_by("id").values_list("id", flat=True)
    if not named:
        errors.append(("search-room", i18n.gettext(
            "You are in no room called “%(name)s”, and no public room has that name.", name=raw)))
        return None
    return named[0]


async def search(reader: User, request: Request, page: int = 1, best: bool = False) -> Found:
    """One page of results and their count. One query serves both: the ids in order up to
    whichever is further, the end of this page or COUNT_MAX + 1 (a second query for the count
    would find every match again)."""
    query, filters = request.query, request.filters
    page = max(1, min(page, PAGES_MAX))
    offset = (page - 1) * PAGE
    conn = connections.get("default")
    sql, params = search_sql(conn.capabilities.dialect, query.indexed, query.short, filters, best=best,
                             limit=max(COUNT_MAX + 1, offset + PAGE + 1))
    found = [row["id"] for row in await conn.execute_query_dict(sql, params)]
    ids = found[offset:offset + PAGE]
    messages = {m.id: m for m in await Message.filter(id__in=ids).select_related("author", "room")}
    titles = {e.room.id: e.title for e in await rooms.rooms_of(reader)}
    hits = [
        Hit(m, titles.get(m.room_id, m.room.name), excerpt(m.body, query.terms))
        for m in (messages[i] for i in ids if i in messages)
    ]
    return Found(hits, min(len(found), COUNT_MAX), len(found) > COUNT_MAX, page,
                 len(found) > offset + PAGE and page < PAGES_MAX)
