"""Names: what a username and a shown name may be, and finding the user a typed name means."""

from __future__ import annotations

import re
import unicodedata

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
