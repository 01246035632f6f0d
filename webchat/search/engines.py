"""The SQL that finds messages, one dialect each, with every value a parameter.

Both engines mean the same thing by a term: the text of the message contains it, with letters
compared regardless of case. Terms of three characters or more use the trigram index: SQLite's
FTS5 `MATCH` with each term quoted as a string (so `AND`, `*`, `:` or `"` in it are just text),
PostgreSQL's `ILIKE` with `%`, `_` and `\\` escaped. Shorter terms cannot use a trigram index
and narrow the rows the others found, compared as substrings (ASCII letters regardless of case,
other characters as written, identically on both engines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

COUNT_MAX = 100  # counted exactly up to here; "more than 100" after (counting further costs a scan)


@dataclass
class Filters:
    reader_id: int
    room_id: int | None = None
    author_id: int | None = None
    after: date | None = None  # on or after this day (UTC)
    before: date | None = None  # before this day


class _Sql:
    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgres"
        self.params: list = []

    def __call__(self, value) -> str:
        """A placeholder for the value: numbered, so that clauses may be written in any order."""
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"

    def day(self, value: date) -> str:
        # SQLite keeps datetimes as ISO text ("2026-11-30 09:15:00.123+00:00"), which compares
        # as text with a bare "2026-11-30"; PostgreSQL compares timestamps.
        return self(datetime.combine(value, time(), UTC) if self.postgres else value.isoformat())


def fts5_string(term: str) -> str:
    """An FTS5 string: a phrase of exactly these characters, whatever they are."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """`%term%` with LIKE's own characters taken literally."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_sql(dialect: str, indexed: list[str], short: list[str], filters: Filters, *, best: bool = False,
               limit: int = 20, offset: int = 0) -> tuple[str, list]:
    """The ids of the matching messages, newest first (or best first), `limit` of them."""
    p = _Sql(dialect)
    where = []
    if indexed and not p.postgres:
        source = "message_fts JOIN messages m ON m.id = message_fts.rowid"
        where.append(f"message_fts MATCH {p(' '.join(fts5_string(t) for t in indexed))}")
        newest = "message_fts.rowid DESC"  # FTS5 hands rowids out in this order itself
    else:
        source = "messages m"
        where += [f"m.body ILIKE {p(like_pattern(t))} ESCAPE '\\'" for t in indexed]
        newest = "m.id DESC"
    position = "strpos" if p.postgres else "instr"
    for term in short:
        if term.isascii():
            where.append(f"{position}(lower(m.body), {p(term.lower())}) > 0")
        else:
            where.append(f"{position}(m.body, {p(term)}) > 0")
    where.append("m.deleted = " + ("false" if p.postgres else "0"))
    if filters.room_id is not None:
        where.append(f"m.room_id = {p(filters.room_id)}")
    else:
        readable = (f"SELECT id FROM rooms WHERE kind = 'public' "
                    f"UNION SELECT room_id FROM memberships WHERE user_id = {p(filters.reader_id)}")
        # On PostgreSQL an array computed once: as a join, the planner repeats the trigram index
        # scan for every readable room.
        where.append(f"m.room_id = ANY(ARRAY({readable}))" if p.postgres else f"m.room_id IN ({readable})")
    if filters.author_id is not None:
        where.append(f"m.author_id = {p(filters.author_id)}")
    if filters.after is not None:
        where.append(f"m.created_at >= {p.day(filters.after)}")
    if filters.before is not None:
        where.append(f"m.created_at < {p.day(filters.before)}")
    condition = " AND ".join(where)
    order = newest
    if best:
        # Occurrences of the terms per length of message, the same arithmetic on both engines.
        hits = " + ".join(
            f"(length(lower(m.body)) - length(replace(lower(m.body), {p(t.lower())}, ''))) / {len(t)}"
            for t in indexed + short
        )
        order = f"({hits}) * 1000 / (length(m.body) + 50) DESC, m.id DESC"
    return (f"SELECT m.id FROM {source} WHERE {condition} ORDER BY {order} "
            f"LIMIT {int(limit)} OFFSET {int(offset)}"), p.params
