"""Notices: a message that mentions someone (`@username`) or answers their message.

One row per (message, person): `mention` for a member of the room named in the body, `reply` for
the author of the message it answers (a reply that also names them is a `reply`). Written in the
message's own transaction by `record`, so a message is never without its notices; an edit
recomputes its mentions (`rerecord`), a deletion removes them (`forget`).

Read state: `seen_at`, set by `mark_seen` when the person opens /mentions (the page shown) or reads
the room past the message (its read marker moves past it). /mentions marks what is unseen; the
email digest sends what stays unseen for a while.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q

from webchat.i18n import lazy_gettext
from webchat.models import Ban, Membership, Message, Notice, Room, User
from webchat.text import mentions

PAGE = 30
KINDS = ("mention", "reply")
# What notifies a member of a room (browser notifications, email): every message, only mentions of
# them and replies to them, or nothing.
LEVELS = {"all": lazy_gettext("All messages"), "mentions": lazy_gettext("Mentions and replies only"),
          "none": lazy_gettext("Nothing")}


def _may_concern(message: Message) -> bool:
    """Cheap test for the hot path: only bodies with an @ or replies can have notices."""
    return "@" in message.body or message.reply_to_id is not None


async def _wanted(conn, message: Message) -> dict[int, str]:
    """Who this message should notify now, by user id, and why."""
    wanted: dict[int, str] = {}
    if message.deleted or not _may_concern(message):
        return wanted
    names = mentions(message.body) if "@" in message.body else []
    reply_author = None
    if message.reply_to_id is not None:
        rows = await Message.filter(id=message.reply_to_id).using_db(conn).values_list("author_id", flat=True)
        reply_author = rows[0] if rows else None
    if not names and reply_author is None:
        return wanted
    # Only people who can read the room (its members, accounts still active), never the author.
    query = Membership.filter(room_id=message.room_id, user__is_active=True).using_db(conn)
    if names:
        for user_id in await query.filter(user__username_key__in=names).values_list("user_id", flat=True):
            wanted[user_id] = "mention"
    if reply_author is not None and await query.filter(user_id=reply_author).exists():
        wanted[reply_author] = "reply"
    wanted.pop(message.author_id, None)
    return wanted


async def record(conn, message: Message) -> list[int]:
    """A new message's notices, in its writing transaction (one bulk insert, nothing at all for a
    message without `@` and not a reply). The ids of the people notified."""
    if not _may_concern(message):
        return []
    wanted = await _wanted(conn, message)
    if wanted:
        await Notice.bulk_create(
            [Notice(user_id=user_id, message_id=message.id, room_id=message.room_id, kind=kind)
             for user_id, kind in wanted.items()],
            using_db=conn,
        )
    return sorted(wanted)


async def rerecord(conn, message: Message) -> tuple[list[int], list[int]]:
    """After an edit: notices for people no longer named go, newly named people get one (unseen);
    those still named keep theirs as it was (seen or not). The ids of the people newly notified,
    and of those whose notice went."""
    wanted = await _wanted(conn, message)
    existing = dict(await Notice.filter(message_id=message.id).using_db(conn).values_list("user_id", "kind"))
    gone = [user_id for user_id in existing if user_id not in wanted]
    if gone:
        await Notice.filter(message_id=message.id, user_id__in=gone).using_db(conn).delete()
    new = {user_id: kind for user_id, kind in wanted.items() if user_id not in existing}
    if new:
        await Notice.bulk_create(
            [Notice(user_id=user_id, message_id=message.id, room_id=message.room_id, kind=kind)
             for user_id, kind in new.items()],
            using_db=conn,
        )
    return sorted(new), sorted(gone)


async def kind_of(message_id: int, user_id: int) -> str | None:
    rows = await Notice.filter(message_id=message_id, user_id=user_id).values_list("kind", flat=True)
    return rows[0] if rows else None


async def forget(conn, message: Message) -> list[int]:
    """A deleted message notifies nobody any more. The ids of the people it had notified."""
    notified = await Notice.filter(message_id=message.id).using_db(conn).values_list("user_id", flat=True)
    if notified:
        await Notice.filter(message_id=message.id).using_db(conn).delete()
    return sorted(notified)


async def for_user(user: User, before: int | None = None, count: int = PAGE) -> tuple[list[Notice], bool]:
    """This person's notices, newest first, `count` of them before notice id `before` (or the
    newest), each with its message, author and room; and whether older ones exist. Only rooms
    they may still read: theirs, and public ones they are not banned from."""
    mine = await Membership.filter(user_id=user.id).values_list("room_id", flat=True)
    banned = await Ban.filter(user_id=user.id).values_list("room_id", flat=True)
    query = Notice.filter(Q(room_id__in=list(mine)) | Q(room__kind="public"), user_id=user.id)
    if banned:
        query = query.exclude(room_id__in=list(banned))
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(count + 1).select_related("message", "message__author", "room")
    return list(rows[:count]), len(rows) > count


def _unseen_in_my_rooms(user_id: int):
    """Unseen notices in the rooms the person is in: those the navigation counts. A notice of a
    room they left or were removed from counts no more (a private room's is never shown again,
    so it would never be seen)."""
    return Notice.filter(user_id=user_id, seen_at=None, room__memberships__user_id=user_id)


async def unread_counts(user: User | int) -> dict[int, int]:
    """Unseen notices by room id, in the person's rooms (rooms with none are left out)."""
    user_id = user if isinstance(user, int) else user.id
    rows = await _unseen_in_my_rooms(user_id).values_list("room_id", flat=True)
    counts: dict[int, int] = {}
    for room_id in rows:
        counts[room_id] = counts.get(room_id, 0) + 1
    return counts


async def unread_total(user: User | int) -> int:
    user_id = user if isinstance(user, int) else user.id
    return await _unseen_in_my_rooms(user_id).count()


async def mark_seen(user: User | int, *, room_id: int | None = None, up_to: int | None = None,
                    ids: list[int] | None = None) -> int:
    """Mark this person's unseen notices seen: those with these notice `ids`, or those of a room
    up to message id `up_to` (the room read that far), or, with neither, all of them. How many
    were marked."""
    query = Notice.filter(user_id=user if isinstance(user, int) else user.id, seen_at=None)
    if ids is not None:
        if not ids:
            return 0
        query = query.filter(id__in=ids)
    if room_id is not None:
        query = query.filter(room_id=room_id)
    if up_to is not None:
        query = query.filter(message_id__lte=up_to)
    return await query.update(seen_at=datetime.now(UTC))


async def unseen_since(cutoff: datetime) -> list[Notice]:
    """Notices not seen and older than `cutoff` (the email digest's "not seen within N minutes"),
    oldest first, with their message, author, room and person."""
    return await (Notice.filter(seen_at=None, created_at__lte=cutoff).order_by("id")
                  .select_related("user", "message", "message__author", "room"))


def default_level(room: Room) -> str:
    """Direct and group conversations are addressed to you: every message notifies. In other rooms
    only mentions and replies do, so that a busy room stays quiet until it concerns you."""
    return "all" if room.kind == "direct" else "mentions"


def level_of(membership: Membership, room: Room) -> str:
    return membership.notify if membership.notify in LEVELS else default_level(room)


async def set_level(membership: Membership, level: str) -> None:
    membership.notify = level
    await Membership.filter(id=membership.id).update(notify=level)


async def levels_of(user: User) -> dict[int, str]:
    """This person's level in each of their rooms, by room id."""
    rows = await Membership.filter(user_id=user.id).select_related("room")
    return {m.room_id: level_of(m, m.room) for m in rows}


def notifies(level: str, kind: str, do_not_disturb: bool = False) -> bool:
    """Whether a message of this kind (`message`, `mention` or `reply`) notifies at this level."""
    if do_not_disturb or level == "none":
        return False
    return level == "all" or kind in KINDS


async def should_notify(user: User, room: Room, kind: str) -> bool:
    """Whether this message (`kind`: `message` for any other one, `mention`, `reply`) in this room
    should notify this person, by browser notification or email: never under "do not disturb",
    never for a room they are not in, else as their level for the room says."""
    if user.do_not_disturb:
        return False
    membership = await Membership.get_or_none(user_id=user.id, room_id=room.id)
    if membership is None:
        return False
    return notifies(level_of(membership, room), kind)
