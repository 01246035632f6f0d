"""What a search means: its words and phrases, and the filters typed into it or given as fields.

`budget "next week" in:General from:@ana after:2026-11-01 before:2026-12-01` is the words
`budget` and `next week` (each found as written, anywhere in a message, case aside), in the room
General, by ana, on or after 1 November and before 1 December (days in UTC). Fields of the form
(room, from, after, before) say the same and win over what is typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

QUERY_MAX = 200
TERMS_MAX = 8
# A term of one character finds too much to be useful on its own; it may narrow longer ones.
TERM_MIN = 2
# The trigram indexes need three characters; shorter terms are compared one message at a time.
INDEXED_MIN = 3
OPERATORS = ("in", "from", "after", "before")
_TOKEN = re.compile(r'(?:(?P<op>in|from|after|before):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>\S+))', re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Query:
    text: str = ""  # the words and phrases as typed, without the filters
    terms: list[str] = field(default_factory=list)
    room: str = ""  # a room id, or a room's name (typed after in:)
    author: str = ""  # a username, with or without @
    after: str = ""  # YYYY-MM-DD as given
    before: str = ""

    @property
    def indexed(self) -> list[str]:
        return [t for t in self.terms if len(t) >= INDEXED_MIN]

    @property
    def short(self) -> list[str]:
        return [t for t in self.terms if len(t) < INDEXED_MIN]


def normalize(text: str) -> str:
    """NFC (how browsers send text, and how it is stored), without control characters."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in " \t\n")


def parse(q: str) -> Query:
    """The query typed into the search box, taken apart. Never fails: what it cannot use as a
    filter it searches for as a word."""
    query = Query()
    words = []
    for match in _TOKEN.finditer(normalize(q)):
        op, value = (match["op"] or "").lower(), match["phrase"] if match["phrase"] is not None else match["word"]
        if op:
            setattr(query, {"in": "room", "from": "author"}.get(op, op), value.strip())
            continue
        value = " ".join(value.split())
        if value:
            words.append(f'"{value}"' if " " in value else value)
            if value.casefold() not in (t.casefold() for t in query.terms):
                query.terms.append(value)
    query.text = " ".join(words)
    return query


def parse_day(raw: str) -> date | None:
    if not _DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
