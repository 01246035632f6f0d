"""What a message publishes: itself (new, edited or deleted), once rendered and framed for every
stream of its room, and the room's new unread number; for a reply, its original again too (its
"N replies", as an update, so it is not announced). Called after the write has committed (a new
message's outgoing webhook deliveries were queued in that same transaction)."""

from __future__ import annotations

from webchat.live import topics
from webchat.live.hub import Envelope
from webchat.messages import notices
from webchat.models import Event, Message
from webchat.rooms import broadcasts as rooms
from webchat.runtime import Runtime


async def message_event(rt: Runtime, message: Message, event: Event) -> None:
    room = message.room_id
    await rt.broker.publish(rt.renderer.in_every_language(lambda: Envelope(
        topics.room(room), event.kind, rt.renderer.message_frame(event.kind, message, event.seq),
        seq=event.seq, room=room)))
    # Mentions and replies: the counts of the people concerned (nobody, for most messages).
    notified = set(getattr(message, "notified", ()))
    for user_id in getattr(message, "recounted", ()):
        notice = None
        if user_id in notified:
            kind = "reply" if await notices.kind_of(message.id, user_id) == "reply" else "mention"
            notice = {"message": message, "kind": kind}
        await rooms.mention_counts(rt, user_id, [room], notice)
    if event.kind == "message":
        await rooms.unread_latest(rt, room, message.seq, message)
        author = message.author
        if await rt.state.stop_typing(room, author.id, author.display_name):
            await rooms.typing(rt, room)
        original_event = getattr(message, "original_event", None)
        if original_event is not None:
            await message_event(rt, original_event.message, original_event)
