"""Actions that take something away from someone who may have the room open: deactivating an
account, resetting its password, banning from a room, deleting a room.

Each writes inside `revoking()` and publishes its `close` there, after the write and before the
commit (see webchat.streams): an open stream ends at once, in every process, and a stream being
opened at that moment either sees the write or is subscribed in time to get the `close`.
"""

from __future__ import annotations

from webchat.admin import audit
from webchat.admin import service as admin
from webchat.files import service as files
from webchat.files import storage
from webchat.i18n import lazy_gettext
from webchat.live import topics
from webchat.messages import broadcasts as message_broadcasts
from webchat.messages import service as messages
from webchat.models import Ban, Membership, Message, Room, User
from webchat.rooms import broadcasts
from webchat.runtime import Runtime
from webchat.streams import revoking

SIGN_IN = ("/login", lazy_gettext("Sign in again"))


async def _forget_everywhere(rt: Runtime, user_id: int) -> None:
    """Gone from "Here now" and typing in every room they are in, at once."""
    for room_id in await Membership.filter(user_id=user_id).values_list("room_id", flat=True):
        await broadcasts.forget(rt, room_id, user_id)


async def deactivate(rt: Runtime, actor: User, user: User) -> None:
    async with revoking() as conn:
        await admin.deactivate(actor, user, conn)
        await broadcasts.close_for(
            rt, user.id, 0, lazy_gettext("This account was deactivated by an administrator."), SIGN_IN)
    await _forget_everywhere(rt, user.id)


async def reset_password(rt: Runtime, reset, password_hash: str) -> bool:
    """Spend a reset link: the new password, and every old session (and stream) ended."""
    async with revoking() as conn:
        if not await admin.use_reset(reset, password_hash, conn):
            return False
        await broadcasts.revoke_user(rt, reset.user_id)
    return True


async def ban(rt: Runtime, actor: User, room: Room, user: User) -> bool:
    """Out of the room and kept out: no reading, joining or posting; open streams end now."""
    if await Ban.filter(room_id=room.id, user_id=user.id).exists():
        return False
    async with revoking() as conn:
        await Ban.create(room_id=room.id, user_id=user.id, using_db=conn)
        # The room's row lock: a stream confirming meanwhile waits for this commit (webchat.streams).
        await Room.select_for_update().using_db(conn).filter(id=room.id).first()
        await Membership.filter(room_id=room.id, user_id=user.id).using_db(conn).delete()
        await audit.record(actor, "room.ban", f"@{user.username} from room #{room.id} ({room.name})", using_db=conn)
        await broadcasts.close_for(rt, user.id, room.id, lazy_gettext("You were banned from this room."))
    await broadcasts.forget(rt, room.id, user.id)
    await broadcasts.room_removed(rt, user.id, room.id)
    return True


async def remove(rt: Runtime, actor: User, room: Room, user: User) -> bool:
    """Out of the room (they may join a public room again; a private one needs the owner)."""
    async with revoking() as conn:
        gone = await Membership.filter(room_id=room.id, user_id=user.id).using_db(conn).delete()
        if gone:
            await audit.record(actor, "room.remove", f"@{user.username} from room #{room.id} ({room.name})",
                               using_db=conn)
            if room.kind != "public":
                await broadcasts.close_for(rt, user.id, room.id, lazy_gettext("You were removed from this room."))
    if gone:
        await broadcasts.forget(rt, room.id, user.id)
        await broadcasts.room_removed(rt, user.id, room.id)
    return bool(gone)


async def delete_room(rt: Runtime, actor: User, room: Room) -> None:
    """The room and everything said in it, gone; every open stream of it ends."""
    envelope = broadcasts.close_envelope(rt, topics.room(room.id), room.id, lazy_gettext("This room was deleted."))
    async with revoking() as conn:
        await audit.record(actor, "room.delete", f"room #{room.id} ({room.name})", using_db=conn)
        erased = await files.keys_of_room(room.id, conn)
        await Room.filter(id=room.id).using_db(conn).delete()
        await rt.broker.publish(envelope)
    if erased:  # its files leave storage once the rows naming them are gone (as for a message)
        await files.delete_objects(storage.active(), erased)
    await broadcasts.room_deleted(rt, room.id)


async def remove_message(rt: Runtime, message: Message, by: str) -> None:
    """A message removed by someone other than its author (a moderator, the owner, the
    administrators): erased like any deletion, and the tombstone says by whom."""
    await Message.filter(id=message.id).update(removed_by=by)
    message.removed_by = by
    event = await messages.update(message, None)
    await message_broadcasts.message_event(rt, message, event)


async def delete_account(rt: Runtime, user: User, erase: bool) -> None:
    """The account is gone: signed out everywhere, out of every room, its name replaced by
    "deleted user" wherever its messages stay, or those messages erased too (`erase`). Rooms it
    owned pass to their longest-standing member (or have no owner, for the administrators)."""
    if erase:
        for message in await Message.filter(author_id=user.id, deleted=False).select_related("author"):
            event = await messages.update(message, None)
            await message_broadcasts.message_event(rt, message, event)
    rooms = await Membership.filter(user_id=user.id).values_list("room_id", flat=True)
    async with revoking() as conn:
        for room in await Room.filter(owner_id=user.id).using_db(conn):
            heir = await Membership.filter(room_id=room.id).exclude(user_id=user.id).using_db(conn).order_by("id").first()
            await Room.filter(id=room.id).using_db(conn).update(owner_id=heir.user_id if heir else None)
        await Membership.filter(user_id=user.id).using_db(conn).delete()
        await User.filter(id=user.id).using_db(conn).update(
            username=f"deleted-{user.id}", username_key=f"deleted-{user.id}", display_name="deleted user",
            password_hash="", bio="", is_active=False, is_admin=False, deleted=True,
            session_version=user.session_version + 1)
        await audit.record(None, "user.delete", f"@{user.username}",
                           "messages erased" if erase else "messages kept as deleted user", using_db=conn)
        await broadcasts.revoke_user(rt, user.id)
    for room_id in rooms:
        await broadcasts.forget(rt, room_id, user.id)
