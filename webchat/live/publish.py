"""Render once, frame once, publish: the only way anything reaches the streams.

Called after the database write has committed (durable first, then live).
"""

from __future__ import annotations

import asyncio

from quart import current_app

from webchat.live import sse
from webchat.live.hub import Envelope
from webchat.render import typing_text

READ_COALESCE_SECONDS = 1.0


def runtime():
    return current_app.extensions["webchat"]


async def message_event(message, event) -> None:
    rt = runtime()
    frame = rt.renderer.message_frame(event.kind, message, event.seq)
    room = message.room_id
    await rt.broker.publish(
        Envelope(topic=f"room:{room}", kind=event.kind, frame=frame, seq=event.seq, room=room)
    )
    if event.kind == "message":
        await unread_latest(room, message.seq)
        author = message.author
        if await rt.state.stop_typing(room, author.id, author.display_name):
            await typing(room)


def unread_envelope(room_id: int, latest_seq: int) -> Envelope:
    """One fragment per room for every member's page: the newest message number.

    Each page works out its own count (newest minus its read number), so no per-member render.
    """
    html = f'<data id="latest-{room_id}" value="{latest_seq}" hx-swap-oob="true"></data>'
    return Envelope(topic=f"unread:{room_id}", kind="unread", frame=sse.frame("unread", html), room=room_id)


async def unread_latest(room_id: int, latest_seq: int) -> None:
    await runtime().broker.publish(unread_envelope(room_id, latest_seq))


async def own_read(user_id: int, room_id: int, read_seq: int) -> None:
    """The reader's marker moved: their other tabs update their count for this room."""
    html = f'<data id="read-{room_id}" value="{read_seq}" hx-swap-oob="true"></data>'
    await runtime().broker.publish(
        Envelope(topic=f"user:{user_id}", kind="unread", frame=sse.frame("unread", html), room=room_id)
    )


async def typing_envelope(rt, room_id: int) -> Envelope:
    people = await rt.state.typing(room_id)

    def frame(exclude: int | None) -> bytes:
        shown = [(uid, name) for uid, name in people if uid != exclude]
        html = rt.renderer.fragment(
            "live/_typing.html", people=shown, text=typing_text([name for _, name in shown])
        )
        return sse.frame("typing", html)

    # A handful of variants: everyone's view, and each typer's view without themselves.
    variants = {uid: frame(uid) for uid, _ in people} or None
    return Envelope(topic=f"room:{room_id}", kind="typing", frame=frame(None), variants=variants, room=room_id)


async def presence_envelope(rt, room_id: int) -> Envelope:
    people = await rt.state.present(room_id)
    html = rt.renderer.fragment("live/_presence.html", names=[name for _, name in people])
    return Envelope(topic=f"room:{room_id}", kind="presence", frame=sse.frame("presence", html), room=room_id)


async def typing(room_id: int, rt=None) -> None:
    rt = rt or runtime()
    await rt.broker.publish(await typing_envelope(rt, room_id))


async def presence(room_id: int, rt=None) -> None:
    rt = rt or runtime()
    await rt.broker.publish(await presence_envelope(rt, room_id))


# The reader's list of rooms, live: one `rooms` event on their own topic (or, for what every
# member sees alike, on the room's unread topic). Its data is list entries that the page puts in
# its list, in order: a whole entry (a room added), only the name (`data-update="name"`: renamed)
# or nothing (`data-update="remove"`: left, removed or deleted). The hub makes the reader's
# streams follow the room's unread numbers from `room_added` on, and stop at `room_removed`.


async def room_added(user_id: int, room_id: int) -> None:
    """The user is now in the room (a new direct room, added by its owner, joined, created): their
    open pages list it, with its count. Rendered for them alone: a direct room is named after the
    other person. Call it after the write has committed."""
    from webchat.rooms.service import entry_for

    rt = runtime()
    entry = await entry_for(user_id, room_id)
    if entry is None:
        return  # left again meanwhile
    html = rt.renderer.fragment("rooms/_nav_entry.html", e=entry, current=False)
    await rt.broker.publish(
        Envelope(topic=f"user:{user_id}", kind="room_added", frame=sse.frame("rooms", html), room=room_id)
    )


async def room_removed(user_id: int, room_id: int) -> None:
    """The user left the room or was removed from it: it goes from their open pages' lists."""
    html = f'<li id="nav-room-{room_id}" data-update="remove"></li>'
    await runtime().broker.publish(
        Envelope(topic=f"user:{user_id}", kind="room_removed", frame=sse.frame("rooms", html), room=room_id)
    )


async def room_renamed(room_id: int, name: str) -> None:
    """A room (not a direct one) has a new name: one fragment for every member's list."""
    rt = runtime()
    html = rt.renderer.fragment("rooms/_nav_name.html", room_id=room_id, name=name)
    await rt.broker.publish(
        Envelope(topic=f"unread:{room_id}", kind="room_updated", frame=sse.frame("rooms", html), room=room_id)
    )


async def room_deleted(room_id: int) -> None:
    """A room is gone: it leaves every member's list (their open streams of it are closed apart)."""
    html = f'<li id="nav-room-{room_id}" data-update="remove"></li>'
    await runtime().broker.publish(
        Envelope(topic=f"unread:{room_id}", kind="room_removed", frame=sse.frame("rooms", html), room=room_id)
    )


ROOMS_LINK = ("/rooms", "Go to your rooms")


def close_frame(rt, notice: str, link=ROOMS_LINK) -> bytes:
    return sse.frame("close", rt.renderer.fragment("live/_closed.html", notice=notice, link=link))


async def close_for(user_id: int, room_id: int, notice: str, link=ROOMS_LINK) -> None:
    """End this user's streams of the room (room 0: all their streams), with a short notice.

    Call it inside the transaction of the write, after the write (webchat.streams.revoking).
    """
    rt = runtime()
    await rt.broker.publish(
        Envelope(topic=f"user:{user_id}", kind="close", frame=close_frame(rt, notice, link), room=room_id)
    )


async def revoke_user(user_id: int) -> None:
    await close_for(user_id, 0, "You were signed out.", ("/login", "Sign in again"))


def read_markers_soon(room_id: int) -> None:
    """Coalesce: at most one `read` event per room per second, carrying the newest markers."""
    rt = runtime()
    if room_id in rt.pending_reads:
        return
    rt.pending_reads.add(room_id)
    rt.spawn(_flush_read_markers(rt, room_id))


async def _flush_read_markers(rt, room_id: int) -> None:
    from webchat.live.markers import read_markers

    try:
        async with asyncio.timeout(READ_COALESCE_SECONDS):
            await rt.stopping.wait()
        return  # stopping: the markers are in the database; pages read them on load
    except TimeoutError:
        pass
    rt.pending_reads.discard(room_id)
    html = rt.renderer.fragment("live/_read.html", markers=await read_markers(room_id))
    await rt.broker.publish(
        Envelope(topic=f"room:{room_id}", kind="read", frame=sse.frame("read", html), room=room_id)
    )
