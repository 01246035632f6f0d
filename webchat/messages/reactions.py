"""Reactions: one person's emoji on a message, toggled. Each toggle changes the message's shown
reactions (kept on the message, so its one fragment renders from its own row) and writes a
`message_updated` event in the same transaction, like an edit: live in every tab, replayed once.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.emoji import DISTINCT_MAX
from webchat.messages.service import allocate
from webchat.models import Event, Message, Reaction, User


class ReactionRefused(Exception):
    """A reaction that cannot be given, and why (shown as a 422)."""



async def toggle(message: Message, user: User, emoji: str) -> Event:
    """Add this person's reaction with this emoji, or take it back. Raises ReactionRefused for a
    21st different emoji on one message (the check runs under the room's row lock)."""
    async with in_transaction() as conn:
        event_id, _ = await allocate(conn, message.room_id, new_message=False)
        mine = await Reaction.filter(message_id=message.id, user_id=user.id, emoji=emoji).using_db(conn).first()
        if mine is not None:
            await mine.delete(using_db=conn)
        else:
            given = set(await Reaction.filter(message_id=message.id).using_db(conn).values_list("emoji", flat=True))
            if emoji not in given and len(given) >= DISTINCT_MAX:
                raise ReactionRefused(i18n.gettext(
                    "A message can have at most %(most)d different reactions; add yours to one of them.",
                    most=DISTINCT_MAX))
            await Reaction.create(message_id=message.id, user_id=user.id, emoji=emoji, using_db=conn)
        message.reactions = await summary(message.id, conn)
        message.revision += 1
        await message.save(using_db=conn, update_fields=["reactions", "revision"])
        return await Event.create(room_id=message.room_id, seq=event_id, kind="message_updated",
                                  message_id=message.id, using_db=conn)


async def summary(message_id: int, conn=None) -> list | None:
    """The reactions as shown: [[emoji, [[username, display name], …]], …], each emoji where it
    was first given, its people in the order they gave it; None for none."""
    rows = await (Reaction.filter(message_id=message_id).using_db(conn).order_by("id")
                  .values_list("emoji", "user__username", "user__display_name"))
    shown: dict[str, list] = {}
    for emoji, username, display_name in rows:
        shown.setdefault(emoji, []).append([username, display_name])
    return [[emoji, people] for emoji, people in shown.items()] or None
