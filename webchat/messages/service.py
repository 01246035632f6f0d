"""Messages: post, edit, delete and history, each write with its event in one transaction.

Event ids are a per-room sequence allocated by one UPDATE … RETURNING on the room's row, in the
writing transaction: the row lock makes ids commit in order, even across processes on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.api import outgoing
from webchat.db import placeholder
from webchat.files import service as files
from webchat.files import storage
from webchat.messages import notices
from webchat.models import Event, Membership, Message, Room, User
from webchat.text import render_body

BODY_MAX = 4000
PAGE = 50
NONCE_MAX = 64
# A room with unread messages opens at the first of them, with a few read ones above for context;
# the page then holds every unread message, up to this many (older ones behind "Show older").
UNREAD_CONTEXT = 3
OPENING_MAX = 200
# What a message is loaded with wherever it is shown: its author, and the message it answers
# (with that one's author), for the quoted excerpt.
SHOWN = ("author", "reply_to", "reply_to__author")


class ReplyRefused(Exception):
    """A reply that cannot be made, and why (shown as a 422)."""


async def reply_target(room: Room, raw: str | int | None) -> Message | None:
    """The message a new one answers, from the composer's `reply_to` (empty: none). Raises
    ReplyRefused unless it is a message of this room that is not deleted."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ReplyRefused(i18n.gettext("reply_to must be the number of a message in this room."))
    original = await Message.get_or_none(id=int(text), room_id=room.id).select_related(*SHOWN)
    if original is None:
        raise ReplyRefused(i18n.gettext("You can only reply to a message of this room; that one is not here."))
    if original.deleted:
        raise ReplyRefused(i18n.gettext("That message was deleted; it can no longer be replied to."))
    return original


def clean_body(raw: str) -> tuple[str, str | None]:
    """The body as it will be stored, and the problem with it if any."""
    body = raw.strip("\r\n\t ")
    if not body.strip():
        return body, i18n.gettext("Write a message before sending.")
    if len(body) > BODY_MAX:
        return body, i18n.gettext("Messages can be at most %(most)s characters; this one has %(count)s.",
                                  most=format(BODY_MAX, ","), count=format(len(body), ","))
    if "\x00" in body:
        return body, i18n.gettext("The message contains a null character.")
    return body, None


async def allocate(conn, room_id: int, new_message: bool) -> tuple[int, int]:
    sql = (
        "UPDATE rooms SET last_event = last_event + 1"
        + (", last_seq = last_seq + 1" if new_message else "")
        + f" WHERE id = {placeholder(conn, 1)} RETURNING last_event, last_seq"
    )
    rows = await conn.execute_query_dict(sql, [room_id])
    return rows[0]["last_event"], rows[0]["last_seq"]


async def _allocate_message(conn, room_id: int) -> tuple[int, int, tuple[int, ...]]:
    """allocate() for a new message, reading in the same statement the room's live outgoing
    webhooks, which its deliveries are queued for in the same transaction."""
    sql = (
        "UPDATE rooms SET last_event = last_event + 1, last_seq = last_seq + 1"
        f" WHERE id = {placeholder(conn, 1)} RETURNING last_event, last_seq, {outgoing.live_hooks_sql(conn)} AS hooks"
    )
    row = (await conn.execute_query_dict(sql, [room_id]))[0]
    return row["last_event"], row["last_seq"], outgoing.hook_ids(row["hooks"])


@dataclass(frozen=True, slots=True)
class _Post:
    room: Room
    author: User
    body: str
    html: str
    nonce: str | None
    files: tuple = ()  # webchat.files.service.Prepared, already in storage
    reply_to: Message | None = None


# Bodies longer than this are rendered in a worker thread: Markdown costs milliseconds for a long
# body (see docs/performance.md), and the event loop keeps serving streams meanwhile.
RENDER_INLINE_MAX = 500


async def render(body: str) -> str:
    """A body's HTML, rendered before any transaction opens, so a slow render never holds the
    room's row lock (nor a batch of other people's posts) while it runs."""
    if len(body) <= RENDER_INLINE_MAX:
        return str(render_body(body))
    return str(await asyncio.to_thread(render_body, body))


async def post(room: Room, author: User, body: str, nonce: str | None,
               attachments: tuple = (), reply_to: Message | None = None) -> tuple[Message, Event | None]:
    """Save a message; with a nonce seen before from this author, the first one instead (and no
    event). A reply (`reply_to`, from reply_target) also counts on its original, in the same
    transaction, with a `message_updated` event of its own: the message's `original_event`. Posts that arrive while a commit is under way are written together in the next one:
    one transaction and one flush to disk for all of them (group commit), each still with its own
    event id, allocated in order under the room's row lock."""
    return await _writer().submit(_Post(room, author, body, await render(body), nonce, attachments, reply_to))


class _Writer:
    """This process's post queue: a batch is written as soon as the one before it committed."""

    BATCH = 64

    def __init__(self) -> None:
        self.waiting: list[tuple[_Post, asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    async def submit(self, post: _Post) -> tuple[Message, Event | None]:
        done = asyncio.get_running_loop().create_future()
        self.waiting.append((post, done))
        if self.task is None:
            self.task = asyncio.create_task(self._write())
        # Shielded: a client that goes away must not undo a write made with others; its retry
        # carries the same nonce and gets this message back.
        return await asyncio.shield(done)

    async def _write(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[: self.BATCH], self.waiting[self.BATCH:]
                await asyncio.gather(*(_commit(part) for part in _transactions(batch)))
        finally:
            self.task = None


def _transactions(batch: list[tuple[_Post, asyncio.Future]]) -> list[list[tuple[_Post, asyncio.Future]]]:
    """How a batch is split into transactions. PostgreSQL: one per room, written side by side, so a
    room's row lock is held only while that room's posts are written and processes posting to
    other rooms never wait for it. SQLite has one writer: one transaction, one flush to disk."""
    if connections.get("default").capabilities.dialect != "postgres":
        return [batch]
    by_room: dict[int, list[tuple[_Post, asyncio.Future]]] = {}
    for item in batch:
        by_room.setdefault(item[0].room.id, []).append(item)
    return list(by_room.values())


async def _commit(batch: list[tuple[_Post, asyncio.Future]]) -> None:
    try:
        results = await _write_together([post for post, _ in batch])
    except Exception:  # one bad post must not sink the others: each on its own
        for post, done in batch:
            try:
                result = await _write_alone(post)
            except Exception as error:
                if not done.done():
                    done.set_exception(error)
            else:
                if not done.done():
                    done.set_result(result)
        return
    for (_, done), result in zip(batch, results, strict=True):
        if not done.done():
            done.set_result(result)


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writer] = weakref.WeakKeyDictionary()


def _writer() -> _Writer:
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = _Writer()
    return writer


async def _existing(posts: list[_Post]) -> dict[tuple[int, str], Message]:
    """Messages already saved under these posts' nonces, by (author, nonce)."""
    nonces = sorted({post.nonce for post in posts if post.nonce})
    if not nonces:
        return {}
    rows = await Message.filter(nonce__in=nonces)
    return {(m.author_id, m.nonce): m for m in rows}


async def _write_together(posts: list[_Post]) -> list[tuple[Message, Event | None]]:
    seen = await _existing(posts)
    results: list[tuple[Message, Event | None] | None] = [None] * len(posts)
    # Rooms are locked in id order, whatever order the posts came in: two processes writing
    # batches for the same rooms then queue behind each other instead of deadlocking (which
    # PostgreSQL breaks only after a second, failing a whole batch).
    in_lock_order = sorted(range(len(posts)), key=lambda n: posts[n].room.id)
    hooked: list[tuple[Message, int, tuple[int, ...]]] = []
    async with in_transaction() as conn:
        for n in in_lock_order:
            post = posts[n]
            key = (post.author.id, post.nonce)
            if post.nonce and key in seen:
                continue  # a double submit: answered below with the first one
            message, event, hooks = await _insert(conn, post)
            results[n] = message, event
            hooked.append((message, event.seq, hooks))
            if post.nonce:
                seen[key] = message
        await outgoing.queue_messages(conn, hooked)
    for n, post in enumerate(posts):
        if results[n] is None:
            results[n] = (seen[(post.author.id, post.nonce)], None)
        else:
            message, event = results[n]
            post.room.last_event, post.room.last_seq = event.seq, message.seq
    return results


async def _write_alone(post: _Post) -> tuple[Message, Event | None]:
    if post.nonce and (existing := await Message.get_or_none(author_id=post.author.id, nonce=post.nonce)):
        return existing, None
    try:
        async with in_transaction() as conn:
            message, event, hooks = await _insert(conn, post)
            await outgoing.queue_messages(conn, [(message, event.seq, hooks)])
    except IntegrityError:
        if post.nonce and (existing := await Message.get_or_none(author_id=post.author.id, nonce=post.nonce)):
            return existing, None  # a concurrent double submit won
        raise
    post.room.last_event, post.room.last_seq = event.seq, message.seq
    return message, event


async def _insert(conn, post: _Post) -> tuple[Message, Event, tuple[int, ...]]:
    """The message, its event and its room's live outgoing webhooks."""
    room, author = post.room, post.author
    event_id, seq, hooks = await _allocate_message(conn, room.id)
    original = None
    if post.reply_to is not None:
        # Checked again under the room's row lock: a delete may have committed since.
        original = await Message.get_or_none(id=post.reply_to.id, room_id=room.id).using_db(conn)
        if original is None or original.deleted:
            raise ReplyRefused(i18n.gettext("That message was deleted; it can no longer be replied to."))
    message = await Message.create(
        room_id=room.id, author_id=author.id, seq=seq, body=post.body, html=post.html,
        nonce=post.nonce, reply_to_id=original.id if original else None, using_db=conn,
    )
    if post.files:
        message.files = await files.record(conn, message, author.id, list(post.files))
        await Message.filter(id=message.id).using_db(conn).update(files=message.files)
    event = await Event.create(room_id=room.id, seq=event_id, kind="message", message_id=message.id, using_db=conn)
    message.original_event = None
    if original is not None:
        update_id, _ = await allocate(conn, room.id, new_message=False)
        await Message.filter(id=original.id).using_db(conn).update(
            reply_count=F("reply_count") + 1, revision=F("revision") + 1)
        original = await Message.get(id=original.id).using_db(conn).select_related(*SHOWN)
        message.original_event = await Event.create(
            room_id=room.id, seq=update_id, kind="message_updated", message_id=original.id, using_db=conn)
        message.original_event.message = original
        message.reply_to = original
    # Mentions and replies: the people notified (nothing to do for most messages).
    message.notified = message.recounted = await notices.record(conn, message)
    # Your own message is read by you.
    await Membership.filter(room_id=room.id, user_id=author.id).using_db(conn).update(
        read_seq=seq, read_message_id=message.id
    )
    message.author = author
    return message, event, hooks


async def update(message: Message, body: str | None) -> Event:
    """Edit (a new body) or delete (None: the text is erased, a tombstone stays)."""
    html = "" if body is None else await render(body)
    erased: list[str] = []
    async with in_transaction() as conn:
        event_id, _ = await allocate(conn, message.room_id, new_message=False)
        if body is None:
            message.body, message.html, message.deleted, message.files = "", "", True, None
            erased = await files.forget(conn, message.id)  # its files go with it
        else:
            message.body, message.html, message.edited_at = body, html, datetime.now(UTC)
        message.revision += 1
        await message.save(using_db=conn, update_fields=["body", "html", "deleted", "edited_at", "revision", "files"])
        # Who gains a notice (and may be notified), and whose count of notices changes.
        if body is None:
            message.notified, message.recounted = [], await notices.forget(conn, message)
        else:
            message.notified, gone = await notices.rerecord(conn, message)
            message.recounted = sorted(set(message.notified) | set(gone))
        event = await Event.create(
            room_id=message.room_id, seq=event_id, kind="message_updated", message_id=message.id,
            using_db=conn,
        )
    if erased:
        await files.delete_objects(storage.active(), erased)
    return event


async def get_message(room: Room, message_id: int) -> Message | None:
    return await Message.get_or_none(id=message_id, room_id=room.id).select_related(*SHOWN)


async def replies(message: Message, after: int | None = None, count: int = PAGE) -> tuple[list[Message], bool]:
    """Up to `count` replies to a message (deleted ones too: their tombstones), oldest first, after
    reply `after` when given, and whether later ones exist."""
    query = Message.filter(reply_to_id=message.id, room_id=message.room_id)
    if after is not None:
        query = query.filter(id__gt=after)
    rows = await query.order_by("id").limit(count + 1).select_related(*SHOWN)
    return list(rows[:count]), len(rows) > count


async def reply_total(message: Message) -> int:
    """How many replies a message has, deleted ones too (as its "N replies" counts them)."""
    return await Message.filter(reply_to_id=message.id, room_id=message.room_id).count()


async def history(room: Room, before: int | None = None, count: int = PAGE) -> tuple[list[Message], bool]:
    """Up to `count` messages before `before` (or the latest), oldest first, and whether older exist."""
    query = Message.filter(room_id=room.id)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(count + 1).select_related(*SHOWN)
    more = len(rows) > count
    return list(reversed(rows[:count])), more


async def newer(room: Room, after: int, count: int = PAGE) -> tuple[list[Message], bool]:
    """Up to `count` messages after `after`, oldest first, and whether newer ones exist."""
    rows = await (Message.filter(room_id=room.id, id__gt=after).order_by("id").limit(count + 1)
                  .select_related(*SHOWN))
    return list(rows[:count]), len(rows) > count


async def around(room: Room, message_id: int, count: int = PAGE) -> tuple[list[Message], bool, bool]:
    """A message's permanent link: it and about `count // 2` messages either side, oldest first,
    and whether older and newer ones exist beyond them."""
    half = count // 2
    before, more_older = await history(room, message_id, half)
    after, more_newer = await newer(room, message_id - 1, half + 1)
    return before + after, more_older, more_newer


async def opening(room: Room, read_seq: int | None) -> tuple[list[Message], bool, int | None]:
    """What a reader sees on opening the room: the latest page, or, with unread messages, every
    one of them (up to OPENING_MAX) and a few before; and the id of the first unread one shown,
    where the "New messages" divider goes (None when nothing is unread)."""
    unread = room.last_seq - read_seq if read_seq is not None else 0
    if unread <= 0:
        shown, more = await history(room)
        return shown, more, None
    shown, more = await history(room, count=min(max(PAGE, unread + UNREAD_CONTEXT), OPENING_MAX))
    first = next((m.id for m in shown if m.seq > read_seq), None)
    return shown, more, first


async def events_after(room_id: int, after: int, limit: int) -> list[Event]:
    """The room's events after id `after`, in order, each with its message as it is now."""
    return (
        await Event.filter(room_id=room_id, seq__gt=after)
        .order_by("seq")
        .limit(limit)
        .select_related("message", *(f"message__{name}" for name in SHOWN))
    )


async def newest_event(room_id: int) -> int:
    rows = await Room.filter(id=room_id).values_list("last_event", flat=True)
    return rows[0] if rows else 0


async def from_day(room: Room, day: date, count: int = PAGE, zone: tzinfo = UTC) -> tuple[list[Message], bool, bool]:
    """The history opened at a day (in the reader's `zone`): up to `count` messages from its first
    one on, oldest first, whether older ones exist and whether newer ones do. A day after the last
    message opens at the latest page instead."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)  # stored in UTC (SQLite compares text)
    first = await Message.filter(room_id=room.id, created_at__gte=start).order_by("id").first()
    if first is None:
        shown, older = await history(room, count=count)
        return shown, older, False
    return await _from_message(room, first.id, count)


async def _from_message(room: Room, first_id: int, count: int) -> tuple[list[Message], bool, bool]:
    rows = await (Message.filter(room_id=room.id, id__gte=first_id).order_by("id").limit(count + 1)
                  .select_related(*SHOWN))
    older = await Message.filter(room_id=room.id, id__lt=first_id).exists()
    return rows[:count], older, len(rows) > count


async def history_after(room: Room, after: int, count: int = PAGE) -> tuple[list[Message], bool]:
    """Up to `count` messages after message `after`, oldest first, and whether newer exist."""
    rows = await Message.filter(room_id=room.id, id__gt=after).order_by("id").limit(count + 1).select_related(*SHOWN)
    return rows[:count], len(rows) > count


async def event_of(message: Message) -> int | None:
    """The id of the event that announced the message (its `message` event)."""
    rows = await Event.filter(message_id=message.id, kind="message").values_list("seq", flat=True)
    return rows[0] if rows else None
