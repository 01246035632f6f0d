"""What a room publishes: who is here, who is typing, who has read what, unread numbers, and the
`close` that ends a member's streams. Rendered and framed once, published after the write it
reports (or, for `close`, inside its transaction: see webchat.streams).
"""

from __future__ import annotations

import asyncio

from types import SimpleNamespace

from webchat.i18n import lazy_gettext
from webchat.live import sse, topics
from webchat.live.hub import Envelope
from webchat.messages import notices
from markupsafe import escape

from webchat.models import Message, Room
from webchat.render import typing_text
from webchat.rooms.markers import read_markers
from webchat.rooms.service import entry_for
from webchat.runtime import Runtime

READ_COALESCE_SECONDS = 1.0
ROOMS_LINK = ("/rooms", lazy_gettext("Go to your rooms"))


def unread_envelope(room_id: int, latest_seq: int, message: Message | None = None) -> Envelope:
    """One fragment per room for every member's page: the newest message number, and (after a new
    message) its id and author, for the browser notifications of members whose level is "all".

    Each page works out its own count (newest minus its read number), so no per-member render.
    """
    about = ""
    if message is not None:
        about = (f' data-message="{message.id}" data-author="{escape(message.author.username)}"'
                 f' data-from="{escape(message.author.display_name)}"')
    html = f'<data id="latest-{room_id}" value="{latest_seq}"{about} hx-swap-oob="true"></data>'
    return Envelope(topics.unread(room_id), "unread", sse.frame("unread", html), room=room_id)


async def unread_latest(rt: Runtime, room_id: int, latest_seq: int, message: Message | None = None) -> None:
    await rt.broker.publish(unread_envelope(room_id, latest_seq, message))


async def unread_refreshed(rt: Runtime, rooms: set[int]) -> None:
    """After a Redis outage: this process's streams get each room's newest number again."""
    for room, seq in await Room.filter(id__in=sorted(rooms)).values_list("id", "last_seq"):
        rt.hub.dispatch(unread_envelope(room, seq))


async def own_read(rt: Runtime, user_id: int, room_id: int, read_seq: int) -> None:
    """The reader's marker moved: their other tabs update their count for this room (and of
    mentions: those read past are seen)."""
    marker = f'<data id="read-{room_id}" value="{read_seq}" hx-swap-oob="true"></data>'
    counts = await notices.unread_counts(user_id)
    await rt.broker.publish(rt.renderer.in_every_language(lambda: Envelope(
        topics.user(user_id), "unread", sse.frame("unread", marker + _mention_fragments(rt, counts, [room_id])),
        room=room_id)))


async def do_not_disturb(rt: Runtime, user_id: int, on: bool) -> None:
    """Do not disturb turned on or off: every open page of the person's knows at once, so none of
    them notifies in the meantime (static/js/notifications.js reads it)."""
    value = "on" if on else "off"
    await rt.broker.publish(Envelope(topics.user(user_id), "unread", sse.frame(
        "unread", f'<data id="do-not-disturb-state" value="{value}" hx-swap-oob="true"></data>')))


def _mention_fragments(rt: Runtime, counts: dict[int, int], room_ids: list[int]) -> str:
    parts = [rt.renderer.fragment("rooms/_nav_mentions.html", oob=True,
                                  e=SimpleNamespace(room=SimpleNamespace(id=room_id), mentions=counts.get(room_id, 0)))
             for room_id in room_ids]
    parts.append(rt.renderer.fragment("rooms/_mentions_link.html", oob=True, mentions_total=sum(counts.values())))
    return "".join(parts)


async def mention_counts(rt: Runtime, user_id: int, room_ids: list[int], notice: dict | None = None) -> None:
    """This person's unseen mentions changed (a message named them, an edit or deletion took that
    back, they opened /mentions): the counts in their open pages' lists of rooms follow. Rendered
    for them alone: only the people concerned get one, each of their pages in its own language
    (whoever caused it). With `notice` (a message that now names or answers them), what their
    pages need for a browser notification."""
    counts = await notices.unread_counts(user_id)

    def envelope() -> Envelope:
        html = _mention_fragments(rt, counts, room_ids)
        if notice is not None:
            html += rt.renderer.fragment("rooms/_notice.html", **notice)
        return Envelope(topics.user(user_id), "unread", sse.frame("unread", html))

    await rt.broker.publish(rt.renderer.in_every_language(envelope))


async def typing_envelope(rt: Runtime, room_id: int) -> Envelope:
    people = await rt.state.typing(room_id)

    def frame(exclude: int | None) -> bytes:
        shown = [(uid, name) for uid, name in people if uid != exclude]
        html = rt.renderer.fragment(
            "live/_typing.html", people=shown, text=typing_text([name for _, name in shown])
        )
        return sse.frame("typing", html)

    # A handful of variants: everyone's view, and each typer's view without themselves.
    def envelope() -> Envelope:
        variants = {uid: frame(uid) for uid, _ in people} or None
        return Envelope(topics.room(room_id), "typing", frame(None), variants=variants, room=room_id)

    return rt.renderer.in_every_language(envelope)


async def presence_envelope(rt: Runtime, room_id: int) -> Envelope:
    people = await rt.state.present(room_id)
    names = [name for _, name in people]
    return rt.renderer.in_every_language(lambda: Envelope(
        topics.room(room_id), "presence", sse.frame("presence", rt.renderer.fragment("live/_presence.html", names=names)),
        room=room_id))


async def typing(rt: Runtime, room_id: int) -> None:
    await rt.broker.publish(await typing_envelope(rt, room_id))


async def presence(rt: Runtime, room_id: int) -> None:
    await rt.broker.publish(await presence_envelope(rt, room_id))


async def forget(rt: Runtime, room_id: int, user_id: int) -> None:
    """Whoever left is gone from "Here now" and typing at once, in every process."""
    gone_present, gone_typing = await rt.state.forget(room_id, user_id)
    if gone_present:
        await presence(rt, room_id)
    if gone_typing:
        await typing(rt, room_id)


def close_frame(rt: Runtime, notice: str, link: tuple[str, str] = ROOMS_LINK) -> bytes:
    """The `close` event's notice. Give `notice` and the link's words as `lazy_gettext`: they are
    translated as each language's version is rendered (see Renderer.in_every_language)."""
    return sse.frame("close", rt.renderer.fragment("live/_closed.html", notice=notice, link=link))


def close_envelope(rt: Runtime, topic, room_id: int, notice: str, link: tuple[str, str] = ROOMS_LINK) -> Envelope:
    return rt.renderer.in_every_language(
        lambda: Envelope(topic, "close", close_frame(rt, notice, link), room=room_id))


async def close_for(rt: Runtime, user_id: int, room_id: int, notice: str,
                    link: tuple[str, str] = ROOMS_LINK) -> None:
    """End this user's streams of the room (room 0: all their streams), with a short notice.

    Call it inside the transaction of the write, after the write (webchat.streams.revoking).
    """
    await rt.broker.publish(close_envelope(rt, topics.user(user_id), room_id, notice, link))


async def revoke_user(rt: Runtime, user_id: int) -> None:
    await close_for(rt, user_id, 0, lazy_gettext("You were signed out."), ("/login", lazy_gettext("Sign in again")))


def read_markers_soon(rt: Runtime, room_id: int) -> None:
    """Coalesce: at most one `read` event per room per second, carrying the newest markers."""
    if room_id in rt.pending_reads:
        return
    rt.pending_reads.add(room_id)
    rt.spawn(_flush_read_markers(rt, room_id))


async def _flush_read_markers(rt: Runtime, room_id: int) -> None:
    try:
        async with asyncio.timeout(READ_COALESCE_SECONDS):
            await rt.stopping.wait()
        return  # stopping: the markers are in the database; pages read them on load
    except TimeoutError:
        pass
    rt.pending_reads.discard(room_id)
    markers = await read_markers(room_id)
    await rt.broker.publish(rt.renderer.in_every_language(lambda: Envelope(
        topics.room(room_id), "read", sse.frame("read", rt.renderer.fragment("live/_read.html", markers=markers)),
        room=room_id)))


# The reader's list of rooms, live: one `rooms` event on their own topic (or, for what every
# member sees alike, on the room's unread topic). Its data is list entries that the page puts in
# its list, in order: a whole entry (a room added), only the name (`data-update="name"`: renamed)
# or nothing (`data-update="remove"`: left, removed or deleted). The hub makes the reader's
# streams follow (or stop following) the room's unread numbers as these pass (Hub.dispatch).


async def room_added(rt: Runtime, user_id: int, room_id: int) -> None:
    """The user is now in the room (a new direct room, added by its owner, joined, created): their
    open pages list it, with its count. Rendered for them alone: a direct room is named after the
    other person. Call it after the write has committed."""
    entry = await entry_for(user_id, room_id)
    if entry is None:
        return  # left again meanwhile
    await rt.broker.publish(rt.renderer.in_every_language(lambda: Envelope(
        topics.user(user_id), "room_added",
        sse.frame("rooms", rt.renderer.fragment("rooms/_nav_entry.html", e=entry, current=False)), room=room_id)))


def _gone(room_id: int) -> bytes:
    return sse.frame("rooms", f'<li id="nav-room-{room_id}" data-update="remove"></li>')


async def room_removed(rt: Runtime, user_id: int, room_id: int) -> None:
    """The user left the room or was removed from it: it goes from their open pages' lists."""
    await rt.broker.publish(Envelope(topics.user(user_id), "room_removed", _gone(room_id), room=room_id))


async def room_renamed(rt: Runtime, room_id: int, name: str) -> None:
    """A room (not a direct one) has a new name: one fragment for every member's list."""
    await rt.broker.publish(rt.renderer.in_every_language(lambda: Envelope(
        topics.unread(room_id), "room_updated",
        sse.frame("rooms", rt.renderer.fragment("rooms/_nav_name.html", room_id=room_id, name=name)), room=room_id)))


async def room_deleted(rt: Runtime, room_id: int) -> None:
    """A room is gone: it leaves every member's list (their open streams of it are closed apart)."""
    await rt.broker.publish(Envelope(topics.unread(room_id), "room_removed", _gone(room_id), room=room_id))
