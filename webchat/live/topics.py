"""Where an envelope goes. Topics are strings on the wire (Redis channel names); they are made
and read only here."""

from __future__ import annotations

from typing import NewType

Topic = NewType("Topic", str)

_UNREAD = "unread:"


def room(room_id: int) -> Topic:
    """Everything shown in one room: messages, typing, presence, read markers."""
    return Topic(f"room:{room_id}")


def user(user_id: int) -> Topic:
    """One person's own news, on every stream they have open: unread counts, closes."""
    return Topic(f"user:{user_id}")


def named(name: str) -> Topic:
    """A channel of the layer above's own (one API token's streams, say): the transport only
    passes its envelopes on."""
    return Topic(f"named:{name}")


def unread(room_id: int) -> Topic:
    """A room's newest message number, for every member's unread count."""
    return Topic(_UNREAD + str(room_id))


def unread_room(topic: str) -> int | None:
    """The room of an unread topic, or None for any other topic."""
    return int(topic[len(_UNREAD):]) if topic.startswith(_UNREAD) else None
