"""Rooms, memberships, direct rooms and read markers: the queries, and who may do what."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.accounts.people import blocked_by_someone_in
from webchat.clock import clock_for
from webchat.messages import notices
from webchat.models import Ban, Membership, Message, Room, User
from webchat.refusals import Refused

NAME_MAX = 80
TOPIC_MAX = 200
# Group conversations: direct rooms of this many people, named by their members.
GROUP_MIN = 3
GROUP_MAX = 8


@dataclass
class Access:
    """What one user may do in one room."""

    room: Room
    membership: Membership | None

    @property
    def member(self) -> bool:
        return self.membership is not None

    def owner(self, user: User) -> bool:
        return self.room.owner_id == user.id

    def moderates(self, user: User) -> bool:
        """The owner and the moderators they appointed: remove any message, mute, ban."""
        return self.owner(user) or (self.membership is not None and self.membership.role == "moderator"
                                    and self.room.kind != "direct")

    @property
    def muted_until(self) -> datetime | None:
        until = self.membership.muted_until if self.membership is not None else None
        return until if until is not None and until > datetime.now(UTC) else None


# Ids and sequence numbers are 32-bit integer columns on PostgreSQL: a larger number in a query
# is an error there, not an empty answer.
MAX_ID = 2**31 - 1


def whole_number(raw: str | None, limit: int = MAX_ID) -> int | None:
    """A count written in ASCII digits, at most `limit`; None for anything else.

    (str.isdigit() alone also accepts "²" and "١٢", which int() refuses or reads as 12.)
    """
    if not raw or len(raw) > len(str(limit)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= limit else None


def parse_id(raw: str) -> int:
    value = whole_number(raw)
    if value is None:
        raise Refused(404, i18n.gettext("There is no such room or message: the address has a malformed number."))
    return value


async def access(room_id: int, user: User) -> Access:
    """The room and the user's membership; 404 if no room, 403 if the user may not read it."""
    # One query for the usual case, a member (their membership brings the room along).
    membership = await Membership.get_or_none(room_id=room_id, user_id=user.id).select_related("room")
    room = membership.room if membership is not None else await Room.get_or_none(id=room_id)
    if room is None:
        raise Refused(404, i18n.gettext("There is no such room. It may have been removed."),
                      i18n.gettext("Room not found"))
    if membership is None and room.kind != "public":
        raise Refused(403, i18n.gettext("This room is private: only its members can see it."),
                      i18n.gettext("Private room"))
    if membership is None and await Ban.filter(room_id=room_id, user_id=user.id).exists():
        raise Refused(403, i18n.gettext("You were banned from this room."), i18n.gettext("Banned from this room"))
    return Access(room, membership)


def until_text(when: datetime) -> str:
    """For the audit log, which is read by people in every zone: UTC, always."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def until_for(user: User, when: datetime) -> str:
    """"Until when", said to one person: in their time zone and clock (UTC, labelled, if they
    chose none), as the pages they read show times."""
    return clock_for(user.time_zone if user.time_zone_set else None, user.clock, i18n.current()).time(when)


async def require_member(room_id: int, user: User) -> Access:
    """A member who may post now: not in an archived room, not muted."""
    found = await access(room_id, user)
    if not found.member:
        raise Refused(403, i18n.gettext("Join the room to post in it."), i18n.gettext("Join the room to post"))
    if found.room.archived:
        raise Refused(403, i18n.gettext("This room is archived: it can be read, but nobody can post in it."),
                      i18n.gettext("Archived room"))
    one_to_one = found.room.kind == "direct" and not (found.room.direct_key or "").startswith("g:")
    if one_to_one and await blocked_by_someone_in(found.room.id, user):
        raise Refused(403, i18n.gettext("You cannot send messages here: someone in this conversation blocked you."),
                      i18n.gettext("Blocked"))
    if (until := found.muted_until) is not None:
        raise Refused(403, i18n.gettext("You are muted in this room until %(time)s: you can read, but not post.",
                                        time=until_for(user, until)), i18n.gettext("Muted"))
    return found


def direct_title(others: list[str]) -> str:
    """A direct room is named by the people in it besides the reader: in the language it is shown
    in, so lazily (a room list entry may be rendered for every language, webchat.rooms.broadcasts)."""
    others = sorted(others, key=str.lower)
    if not others:
        return i18n.lazy_gettext("Direct: just you")
    if len(others) == 1:
        return i18n.lazy_gettext("Direct: %(name)s", name=others[0])
    return i18n.lazy_gettext("Group: %(names)s and %(last)s", names=", ".join(others[:-1]), last=others[-1])


async def display_name(room: Room, viewer: User) -> str:
    if room.kind != "direct":
        return room.name
    others = await User.filter(memberships__room_id=room.id).exclude(id=viewer.id).values_list(
        "display_name", flat=True)
    return direct_title(list(others))


@dataclass
class RoomEntry:
    """One room in a reader's list of rooms (the navigation), with the numbers for its count."""

    room: Room
    title: str
    unread: int
    read_seq: int
    mentions: int = 0  # unseen mentions of the reader and replies to them
    notify: str = "all"  # the reader's notification level here (webchat.messages.notices)

    @property
    def sort_key(self) -> str:
        """Where it goes in the list: rooms by name, then direct rooms by the other's name. The
        page keeps the same order when a room is added live (it compares these strings)."""
        return ("1" if self.room.kind == "direct" else "0") + self.title.lower()


async def rooms_of(user: User | int, room_id: int | None = None) -> list[RoomEntry]:
    """The user's rooms (or just the one, if they are in it), in the order the list shows them."""
    user_id = user if isinstance(user, int) else user.id
    query = Membership.filter(user_id=user_id)
    if room_id is not None:
        query = query.filter(room_id=room_id)
    memberships = await query.select_related("room")
    direct_ids = [m.room_id for m in memberships if m.room.kind == "direct"]
    others: dict[int, list[str]] = {}
    if direct_ids:
        rows = await Membership.filter(room_id__in=direct_ids).exclude(user_id=user_id).select_related("user")
        for m in rows:
            others.setdefault(m.room_id, []).append(m.user.display_name)
    counts = await notices.unread_counts(user_id)
    entries = []
    for m in memberships:
        title = m.room.name if m.room.kind != "direct" else direct_title(others.get(m.room_id, []))
        entries.append(RoomEntry(m.room, title, max(0, m.room.last_seq - m.read_seq), m.read_seq,
                                 counts.get(m.room_id, 0), notices.level_of(m, m.room)))
    entries.sort(key=lambda e: e.sort_key)
    return entries


async def entry_for(user_id: int, room_id: int) -> RoomEntry | None:
    entries = await rooms_of(user_id, room_id)
    return entries[0] if entries else None


async def public_rooms_to_join(user: User, limit: int = 100) -> list[Room]:
    mine = await Membership.filter(user_id=user.id).values_list("room_id", flat=True)
    banned = await Ban.filter(user_id=user.id).values_list("room_id", flat=True)
    return await Room.filter(kind="public").exclude(id__in=mine + banned).order_by("name").limit(limit)


async def create_room(owner: User, name: str, topic: str, visibility: str) -> Room:
    async with in_transaction():
        room = await Room.create(name=name, topic=topic, kind=visibility, owner_id=owner.id)
        await Membership.create(room_id=room.id, user_id=owner.id)
    return room


async def join(room: Room, user: User) -> bool:
    if room.kind != "public":
        raise Refused(403, i18n.gettext("Only public rooms can be joined. Ask the owner to add you."),
                      i18n.gettext("Private room"))
    if await Ban.filter(room_id=room.id, user_id=user.id).exists():
        raise Refused(403, i18n.gettext("You were banned from this room."), i18n.gettext("Banned from this room"))
    try:
        await Membership.create(room_id=room.id, user_id=user.id, read_seq=room.last_seq)
    except IntegrityError:
        return False  # already a member: joining twice is harmless
    return True


async def leave(room: Room, user: User) -> bool:
    return bool(await Membership.filter(room_id=room.id, user_id=user.id).delete())


async def add_member(room: Room, user: User) -> bool:
    """Add the user to the room; False if they were in it already."""
    try:
        await Membership.create(room_id=room.id, user_id=user.id, read_seq=0)
    except IntegrityError:
        return False
    return True


async def direct_room(me: User, other: User) -> tuple[Room, set[int]]:
    """The one direct room of these two people (a room with yourself is a notebook), and the ids
    of the people who were not in it before (whose lists of rooms gain it)."""
    low, high = sorted((me.id, other.id))
    key = f"{low}:{high}"
    room = await Room.get_or_none(direct_key=key)
    if room:
        if not await Membership.filter(room_id=room.id, user_id=me.id).exists():
            # Opening it again after leaving it brings you back (to read it now: nothing unread).
            newest = await Message.filter(room_id=room.id).order_by("-id").first()
            try:
                await Membership.create(
                    room_id=room.id, user_id=me.id, read_seq=room.last_seq,
                    read_message_id=newest.id if newest else 0,
                )
            except IntegrityError:
                return room, set()  # a second tab did the same at the same moment
            return room, {me.id}
        return room, set()
    try:
        async with in_transaction():
            room = await Room.create(name="Direct", kind="direct", direct_key=key)
            for uid in {low, high}:
                await Membership.create(room_id=room.id, user_id=uid)
    except IntegrityError:  # both opened it at once: the other request made it
        return await Room.get(direct_key=key), set()
    return room, {low, high}


def group_key(user_ids: set[int]) -> str:
    """One key per set of people (it fits the 40 characters of direct_key)."""
    digest = hashlib.sha256(",".join(str(n) for n in sorted(user_ids)).encode()).hexdigest()
    return "g:" + digest[:38]


async def group_room(me: User, others: list[User]) -> tuple[Room, set[int]]:
    """The one group conversation of these people (as Campfire does), and the ids of those who
    were not in it before (whose lists of rooms gain it)."""
    people = {me.id} | {user.id for user in others}
    key = group_key(people)
    room = await Room.get_or_none(direct_key=key)
    if room is not None:
        if await Membership.exists(room_id=room.id, user_id=me.id):
            return room, set()
        try:
            await Membership.create(room_id=room.id, user_id=me.id, read_seq=room.last_seq)
        except IntegrityError:
            return room, set()
        return room, {me.id}
    try:
        async with in_transaction():
            room = await Room.create(name="Group", kind="direct", direct_key=key)
            for uid in sorted(people):
                await Membership.create(room_id=room.id, user_id=uid)
    except IntegrityError:  # made by someone else at the same moment
        return await Room.get(direct_key=key), set()
    return room, people


SUGGESTED = 8


async def suggest_members(room: Room, typed: str, limit: int = SUGGESTED) -> list[User]:
    """Members of the room whose username or display name starts with what was typed after an
    "@" (any case), active accounts only, usernames first: the composer's suggestions."""
    typed = typed.strip().lstrip("@").lower()[:32]
    query = User.filter(memberships__room_id=room.id, is_active=True, deleted=False)
    if typed:
        by_name = await query.filter(username_key__startswith=typed).order_by("username_key").limit(limit)
        more = await (query.filter(display_name__istartswith=typed).exclude(id__in=[u.id for u in by_name])
                      .order_by("display_name").limit(limit - len(by_name))) if len(by_name) < limit else []
        return list(by_name) + list(more)
    return await query.order_by("display_name").limit(limit)


async def members(room: Room) -> list[User]:
    return await User.filter(memberships__room_id=room.id).order_by("display_name")


async def mark_read(membership: Membership, message_id: int) -> bool:
    """Move the read marker forward to message_id (never back). True if it moved."""
    if message_id <= membership.read_message_id:
        return False
    message = await Message.filter(room_id=membership.room_id, id__lte=message_id).order_by("-id").first()
    if message is None:
        return False
    moved = await Membership.filter(id=membership.id, read_message_id__lt=message.id).update(
        read_message_id=message.id, read_seq=message.seq
    )
    if moved:
        membership.read_message_id, membership.read_seq = message.id, message.seq
        # Read that far: the mentions and replies up to there are seen.
        await notices.mark_seen(membership.user_id, room_id=membership.room_id, up_to=message.id)
    return bool(moved)
