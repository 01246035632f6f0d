"""What a person shows of themselves (profile, initials avatar) and whom they block: the queries."""

from __future__ import annotations

import hashlib
import zoneinfo
from functools import cache

from webchat.models import Block, Membership, User

BIO_MAX = 300
# The avatar colours: webchat.css has one class per colour (.avatar-0 …), each checked for contrast
# with its initials in the light and the dark theme (tests/test_profiles.py).
AVATAR_COLOURS = 8


def initials(user: User) -> str:
    """Up to two letters: the first of the first and last word of the shown name."""
    words = [w for w in (user.display_name or user.username).split() if w[:1].isalnum()]
    if not words:
        return user.username[:1].upper()
    letters = words[0][:1] + (words[-1][:1] if len(words) > 1 else "")
    return letters.upper()


def avatar_colour(user: User) -> int:
    """The same colour for the same person on every page and every process (not Python's hash())."""
    return hashlib.sha256(user.username_key.encode()).digest()[0] % AVATAR_COLOURS


@cache
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


async def blocked_usernames(user: User) -> list[str]:
    return sorted(await User.filter(blocked_by__blocker_id=user.id).values_list("username", flat=True))


async def blocks(blocker: User, other: User) -> bool:
    return await Block.exists(blocker_id=blocker.id, blocked_id=other.id)


async def blocked_by_someone_in(room_id: int, user: User) -> bool:
    """Whether someone in this (direct) room blocked the user: then they take no messages from them."""
    members = Membership.filter(room_id=room_id).exclude(user_id=user.id).values_list("user_id", flat=True)
    return await Block.exists(blocked_id=user.id, blocker_id__in=await members)
