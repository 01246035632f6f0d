"""What a message publishes: itself (new, edited or deleted), once rendered and framed for every
stream of its room, and the room's new unread number. Called after the write has committed."""

from __future__ import annotations

from webchat.api import outgoing
from webchat.api.schemas import message_json
from webchat.live import topics
from webchat.live.hub import Envelope
from webchat.models import Event, Message
from webchat.rooms import broadcasts as rooms
from webchat.runtime import Runtime


async def message_event(rt: Runtime, message: Message, event: Event) -> None:
    room = message.room_id
    await rt.broker.publish(rt.renderer.in_every_language(lambda: Envelope(
        topics.room(room), event.kind, rt.renderer.message_frame(event.kind, message, event.seq),
        seq=event.seq, room=room)))
    if event.kind == "message":
        await rooms.unread_latest(rt, room, message.seq)
        # The room's outgoing webhooks (if any) get it through their queue.
        await outgoing.enqueue(room, {"type": "message", "room": room, "event_id": event.seq,
                                      "message": message_json(message, event.seq)})
        author = message.author
        if await rt.state.stop_typing(room, author.id, author.display_name):
            await rooms.typing(rt, room)
