"""Read markers of a room: who has read up to where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webchat.models import Membership, Message

SHOWN = 20


@dataclass
class Marker:
    name: str
    username: str
    message_id: int
    at: datetime | None


async def read_markers(room_id: int) -> list[Marker]:
    rows = (
        await Membership.filter(room_id=room_id, read_message_id__gt=0)
        .order_by("-read_message_id")
        .limit(SHOWN)
        .select_related("user")
    )
    times = dict(
        await Message.filter(id__in=[m.read_message_id for m in rows]).values_list("id", "created_at")
    )
    return [Marker(m.user.display_name, m.user.username, m.read_message_id, times.get(m.read_message_id)) for m in rows]
