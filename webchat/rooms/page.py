"""The room page, shown by the room's own address and again (with the composer's error) when a
post is refused."""

from __future__ import annotations

from quart import g, render_template

from webchat import i18n, web
from webchat.accounts.people import blocked_usernames
from webchat.messages import notices
from webchat.messages import service as messages
from webchat.rooms import broadcasts, service
from webchat.rooms.markers import read_markers
from webchat.refusals import Refused
from webchat.render import excerpt
from webchat.rooms.service import Access
from webchat.runtime import current


async def your_rooms() -> list:
    """The reader's rooms for the navigation every signed-in page shows (a Jinja global: only a
    whole page asks, never a fragment)."""
    return await service.rooms_of(g.user) if g.get("user") else []


def reply_state(original) -> dict | None:
    """The composer's "Replying to Ana: …" for an original message (None: not a reply)."""
    if original is None:
        return None
    # The same sentence as each message's Reply action (data-reply-label), one catalog entry.
    label = i18n.gettext("Replying to %(name)s: %(text)s", name=original.author.display_name,
                         text=excerpt(original.body))
    return {"id": original.id, "label": label}


async def reply_composer(found: Access, raw: str | None) -> dict | None:
    """The composer for the room page's `?reply_to=MID` (a Reply link without script), or None
    without one. A message of another room, or a deleted one, is refused with a 422."""
    if not raw:
        return None
    try:
        original = await messages.reply_target(found.room, raw)
    except messages.ReplyRefused as refusal:
        raise Refused(422, str(refusal), i18n.gettext("Cannot reply")) from None
    return web.composer(found.room.id, reply=reply_state(original))


async def room_page(found: Access, composer: dict | None = None, errors: web.FormErrors | None = None,
                    mark_read: bool = False, around: int | None = None) -> str:
    """The room: its latest messages (from the first unread one, if any), the reader's rooms,
    members, read markers, the composer. With `around` (a message id of this room: its permanent
    link), the messages either side of that one instead, which is marked as the current one; the
    page then follows new messages only if it reaches the newest."""
    room = found.room
    rt = current()
    # The newest event first: anything committed after it is replayed by the stream.
    last_event = await messages.newest_event(room.id)
    read_seq = found.membership.read_seq if found.member else None
    more_newer = False
    if around is not None:
        history, more, more_newer = await messages.around(room, around)
        first_unread = None
    else:
        history, more, first_unread = await messages.opening(room, read_seq)
    if mark_read and found.member and history:
        if await service.mark_read(found.membership, history[-1].id):
            await broadcasts.own_read(rt, g.user.id, room.id, found.membership.read_seq)
            broadcasts.read_markers_soon(rt, room.id)
    return await render_template(
        "rooms/room.html",
        room=room,
        access=found,
        title=await service.display_name(room, g.user),
        messages=history,
        more=more,
        first_unread=first_unread,
        current=around,
        more_newer=more_newer,
        last_event=last_event,
        entries=await service.rooms_of(g.user),
        members=await service.members(room),
        markers=await read_markers(room.id),
        names=[name for _, name in await rt.state.present(room.id)],
        is_owner=found.owner(g.user),
        can_moderate=found.moderates(g.user),
        blocked=await blocked_usernames(g.user),
        composer=composer or web.composer(room.id),
        levels=notices.LEVELS,
        notify_level=notices.level_of(found.membership, room) if found.member else None,
        default_level=notices.default_level(room),
        errors=errors or web.FormErrors(),
    )
