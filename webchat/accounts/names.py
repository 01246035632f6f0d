"""Usernames: what one may be, and finding the user a typed name means."""

from __future__ import annotations

import re

from webchat.models import User

USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,32}")


async def find_user(name: str) -> User | None:
    """The user called `name` (any case), or None; text that cannot be a username is not looked
    up at all (PostgreSQL refuses a NUL in a query, and no name is longer than 32)."""
    name = name.strip()
    if not USERNAME.fullmatch(name):
        return None
    return await User.get_or_none(username_key=name.lower())
