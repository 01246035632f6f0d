"""Names: what a username and a shown name may be, and finding the user a typed name means."""

from __future__ import annotations

import re
import unicodedata

from tortoise.expressions import Q

from webchat.models import User

USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,32}")


async def find_user(name: str) -> User | None:
    """The user called `name` (any case), or None; text that cannot be a username is not looked
    up at all (PostgreSQL refuses a NUL in a query, and no name is longer than 32)."""
    name = name.strip()
    if not USERNAME.fullmatch(name):
        return None
    return await User.get_or_none(username_key=name.lower())


# Control characters (Cc), format characters (Cf: bidi overrides and isolates, zero-width space,
# joiner and non-joiner, soft hyphen), line and paragraph separators, private-use, surrogates and
# unassigned code points: each can make one name look like another or reorder what follows it.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
# Letters that draw nothing (Hangul fillers, the braille blank).
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def hidden_characters(text: str) -> bool:
    """Whether the text holds characters that are invisible or reorder text: refused in names."""
    return any(
        ch in _BLANK_LETTERS or unicodedata.category(ch) in _HIDDEN_CATEGORIES for ch in text
    )


QUERY_MAX = 64
SUGGESTIONS = 8
# People who share one display name, offered to choose from (by @username).
NAMESAKES = 20


def _query(text: str) -> str | None:
    """What someone typed to name a person, tidied: "@ana" is "ana"; None if it cannot name
    anyone (empty, too long, or with characters no name has)."""
    text = " ".join(text.split())
    if text.startswith("@"):
        text = text[1:].lstrip()
    if not text or len(text) > QUERY_MAX or "\x00" in text or hidden_characters(text):
        return None
    return text


async def search_people(text: str, limit: int = SUGGESTIONS, exclude: int | None = None) -> list[User]:
    """People whose username starts with, or whose display name contains, the text: exact
    usernames first, then exact display names, then the rest by display name."""
    text = _query(text)
    if text is None:
        return []

    query = User.filter(Q(username_key__startswith=text.lower()) | Q(display_name__icontains=text), is_active=True)
    if exclude is not None:
        query = query.exclude(id=exclude)
    # More than asked for, so that the exact matches can be put first whatever the order.
    found = await query.order_by("display_name", "username_key").limit(limit * 4)
    key = text.lower()
    found.sort(key=lambda u: (u.username_key != key, u.display_name.lower() != key))
    return found[:limit]


async def resolve_person(text: str) -> tuple[User | None, list[User]]:
    """The one person a typed name means, or None and the people it might mean.

    A username (any case, with or without "@") means that user; a display name means the one user
    who has it; anything else (an ambiguous name, part of a name) gives the candidates to choose
    from, never a guess.
    """
    text = _query(text)
    if text is None:
        return None, []
    user = await find_user(text)
    if user is not None:
        # A deactivated or deleted account is nobody to message or add.
        return (user, [user]) if user.is_active else (None, [])
    named = await User.filter(display_name__iexact=text, is_active=True).order_by("username_key").limit(NAMESAKES)
    if len(named) == 1:
        return named[0], named
    if named:
        return None, named
    return None, await search_people(text)
