"""The one entrance to the event streams, and what each stream carries.

Every transport asks `admit` whether a stream may open (session and its version, access to the
room, resume point, rate limit) and gets a Plan or a Refusal; `subscribe` then checks the cap,
subscribes, and only then confirms the session and the membership against the database. The order
is what makes removal and revocation airtight: the writer publishes its `close` after its write
and before its commit (see `revoking`), and the confirmation reads those rows under a share lock.
So a confirmation either sees the write, or ran before it, and then the stream was subscribed in
time to receive the `close`. A stream never sends anything before its confirmation.

Then `start` opens it: a room stream shows who is here and typing, replays what the client
missed, and goes live (webchat.live.feed drops anything already sent, by event id, and fills any
gap from the database through `fill`): no loss, no repeat, whatever order the broker delivers in.
A transport calls `release` when the connection ends, however it ends.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tortoise import connections
from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.accounts.sessions import user_for
from webchat.live import sse, topics
from webchat.live.feed import Sink, Subscriber
from webchat.messages.service import events_after, newest_event
from webchat.models import Membership
from webchat.refusals import Refused
from webchat.rooms import broadcasts
from webchat.rooms.service import access, whole_number
from webchat.runtime import Runtime

log = logging.getLogger("webchat.streams")

STREAMS_PER_USER = 24
# Every signed-in page holds a stream for its list of rooms (`/events`): those stop short of the
# cap, so that tabs of other pages can never take the last places from a room's own stream.
ROOMLESS_STREAMS_PER_USER = 16
REPLAY_LIMIT = 1000
# A replay or gap fill reads and renders this many events at a time, letting everyone else run
# between batches, so that a long catch-up never holds the event loop or the database for long.
REPLAY_BATCH = 100


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A stream that may open: whose, which room (0: the user's own stream), from where."""

    user_id: int
    version: int
    name: str
    room_id: int
    guarded: bool  # a private or direct room: membership is what grants reading
    after: int | None
    language: str = i18n.DEFAULT  # the words its events come in


def resume_point(raws: list[str | None]) -> int | None:
    """The larger of Last-Event-ID and ?last_event_id, or None; ValueError for anything but a count."""
    values = []
    for raw in raws:
        if raw is None or raw == "":
            continue
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            raise ValueError(raw)
        values.append(int(raw))
    return max(values) if values else None


async def admit(rt: Runtime, identity: str | None, room_raw: str | None, resume: list[str | None], *,
                languages: tuple[str | None, str | None] = (None, None)) -> Plan | Refusal:
    """May this request open a stream? Everything but the cap, which `subscribe` checks.
    `languages`: the request's Cookie and Accept-Language headers, for the account without a
    language of its own (the stream speaks as the page did)."""
    if rt.stopping.is_set():
        return Refusal(503, "Server restarting; reconnect shortly.", retry_after=1)
    user = await user_for(identity)
    if user is None:
        return Refusal(401, "Sign in first.")
    room_id, guarded = 0, False
    if room_raw is not None:
        room_id = whole_number(room_raw)
        if room_id is None:
            return Refusal(404, "There is no such room: the address has a malformed number.")
        try:
            found = await access(room_id, user)
        except Refused as refused:
            return Refusal(refused.code, refused.description)
        guarded = found.room.kind != "public"
    try:
        after = resume_point(resume)
    except ValueError:
        return Refusal(400, "last_event_id must be a whole number of 0 or more.")
    if (wait := await rt.limiter.hit(f"stream:{user.id}", rt.limits["stream"])) is not None:
        return Refusal(429, "Too many streams opened in a short time. Try again shortly.", retry_after=round(wait))
    return Plan(user.id, user.session_version, user.display_name, room_id, guarded, after,
                i18n.from_headers(user.language, *languages))


async def subscribe(rt: Runtime, plan: Plan, sink: Sink) -> Subscriber | Refusal:
    """Subscribe, then confirm (see the module's docstring); the subscriber, or a refusal."""
    # The cap is checked with no await between it and hub.add(): streams opened at the same
    # moment cannot all pass the check before any of them is counted.
    cap = STREAMS_PER_USER if plan.room_id else ROOMLESS_STREAMS_PER_USER
    if rt.settings.rate_limits and rt.hub.count_for(plan.user_id) >= cap:
        return Refusal(429, "Too many open rooms at once (close some tabs).", retry_after=30)
    mine = topics.user(plan.user_id)
    sub = Subscriber(plan.user_id, plan.room_id, (topics.room(plan.room_id), mine) if plan.room_id else (mine,),
                     sink, version=plan.version, guarded=plan.guarded, language=plan.language, fill=rt.filler)
    rt.hub.add(sub)
    try:
        rooms = await _confirm(plan)
    except BaseException:
        rt.hub.remove(sub)
        raise
    if rooms is None or (plan.guarded and plan.room_id not in rooms) or -plan.room_id in rooms:
        rt.hub.remove(sub)
        if rooms is None:
            return Refusal(401, "Sign in first.")
        if -plan.room_id in rooms:
            return Refusal(403, "You were banned from this room.")
        return Refusal(403, "This room is private: only its members can see it.")
    # Unread numbers of the user's rooms: those the confirmation found, so none that a removal
    # committed before it took away (a later removal's `close` unsubscribes it).
    rt.hub.subscribe(sub, [topics.unread(room) for room in sorted(rooms)])
    return sub


async def _confirm(plan: Plan) -> set[int] | None:
    """The user's rooms, or None if the session was revoked; read under share locks (PostgreSQL),
    or behind any open transaction (SQLite's one connection), so that a removal or revocation
    being committed is waited for, not missed."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    mark = "$1" if postgres else "?"
    versions = await conn.execute_query_dict(
        f"SELECT session_version FROM users WHERE id = {mark}" + (" FOR SHARE" if postgres else ""),
        [plan.user_id],
    )
    if not versions or versions[0]["session_version"] != plan.version:
        return None
    rows = await conn.execute_query_dict(
        f"SELECT room_id FROM memberships WHERE user_id = {mark}" + (" FOR KEY SHARE" if postgres else ""),
        [plan.user_id],
    )
    rooms = {row["room_id"] for row in rows}
    if plan.room_id and not plan.guarded:
        # A public room: is the reader banned? A ban being committed holds the room's row (see
        # webchat.enforce.ban): wait for it, then look. A banned room comes back as -ID.
        if postgres:
            await conn.execute_query_dict("SELECT id FROM rooms WHERE id = $1 FOR SHARE", [plan.room_id])
        mark2 = "$2" if postgres else "?"
        banned = await conn.execute_query_dict(
            f"SELECT room_id FROM room_bans WHERE room_id = {mark} AND user_id = {mark2}", [plan.room_id, plan.user_id])
        if banned:
            rooms.add(-plan.room_id)
    return rooms


@asynccontextmanager
async def revoking():
    """The transaction of a removal or revocation. Publish its `close` inside it, after the write:
    a stream confirming meanwhile waits for the commit and then sees the write (see above)."""
    async with in_transaction() as conn:
        yield conn


async def audit(subscribers: list[Subscriber]) -> list[tuple[Subscriber, str]]:
    """The backstop: which of these open streams may no longer read (a `close` that was lost,
    with Redis away, say). Two queries for any number of streams; run on each heartbeat sweep."""
    if not subscribers:
        return []
    conn = connections.get("default")
    users = sorted({sub.user_id for sub in subscribers})
    versions = {
        row["id"]: row["session_version"]
        for row in await conn.execute_query_dict(
            f"SELECT id, session_version FROM users WHERE id IN ({_marks(conn, len(users))})", users
        )
    }
    guarded = [sub for sub in subscribers if sub.guarded]
    open_rooms = [sub for sub in subscribers if not sub.guarded and sub.room_id]
    banned: set[tuple[int, int]] = set()
    if open_rooms:
        rooms = sorted({sub.room_id for sub in open_rooms})
        rows = await conn.execute_query_dict(
            f"SELECT room_id, user_id FROM room_bans WHERE room_id IN ({_marks(conn, len(rooms))})", rooms)
        banned = {(row["room_id"], row["user_id"]) for row in rows}
    members: set[tuple[int, int]] = set()
    if guarded:
        rooms = sorted({sub.room_id for sub in guarded})
        guarded_users = sorted({sub.user_id for sub in guarded})
        rows = await conn.execute_query_dict(
            f"SELECT room_id, user_id FROM memberships WHERE room_id IN ({_marks(conn, len(rooms))}) "
            f"AND user_id IN ({_marks(conn, len(guarded_users), len(rooms) + 1)})",
            rooms + guarded_users,
        )
        members = {(row["room_id"], row["user_id"]) for row in rows}
    ended = []
    for sub in subscribers:
        if versions.get(sub.user_id) != sub.version:
            ended.append((sub, "revoked"))
        elif sub.guarded and (sub.room_id, sub.user_id) not in members:
            ended.append((sub, "removed"))
        elif (sub.room_id, sub.user_id) in banned:
            ended.append((sub, "removed"))
    return ended


async def sweep(rt: Runtime, subscribers: list[Subscriber]) -> None:
    """End the streams among these that `audit` finds may no longer read, with their notice."""
    for sub, why in await audit([sub for sub in subscribers if not sub.closed]):
        if why == "revoked":
            with i18n.speaking(sub.language):
                frame = broadcasts.close_frame(
                    rt, i18n.gettext("You were signed out."), ("/login", i18n.gettext("Sign in again")))
                sub.end(why, frame)
        else:
            sub.end(why, _no_longer_a_member(rt, sub.language))


def _no_longer_a_member(rt: Runtime, language: str) -> bytes:
    with i18n.speaking(language):
        return broadcasts.close_frame(rt, i18n.gettext("You are no longer a member of this room."))


def _marks(conn, count: int, first: int = 1) -> str:
    if conn.capabilities.dialect == "postgres":
        return ", ".join(f"${n}" for n in range(first, first + count))
    return ", ".join("?" * count)


# ---------------------------------------------------------------------------------------------
# What a stream carries


def _revision(message) -> str:
    if message.deleted:
        return "deleted"
    return message.edited_at.isoformat() if message.edited_at else ""


async def _events(rt: Runtime, rid: int, after: int, upto: int | None, language: str, *, replayed: bool):
    """Frames of the room's events after `after` (up to `upto`), as the messages are now: yields
    (frames, last event id) a batch at a time. Small batches keep each database read short (on
    SQLite every query waits its turn on one connection) and yield to everyone else in between."""
    last = after
    cache = rt.replay_frames if replayed else None
    while upto is None or last < upto:
        batch = await events_after(rid, last, REPLAY_BATCH)
        frames = []
        for event in batch:
            if upto is not None and event.seq > upto:
                break
            revision = f"{language}:{_revision(event.message)}"
            frame = cache.get(rid, event.seq, revision) if cache else None
            if frame is None:
                with i18n.speaking(language):
                    frame = rt.renderer.message_frame(event.kind, event.message, event.seq, replayed=replayed)
                if cache:
                    cache.put(rid, event.seq, revision, frame)
            frames.append(frame)
            last = event.seq
        yield b"".join(frames), last
        if len(batch) < REPLAY_BATCH or (upto is not None and last >= upto):
            return


async def start(rt: Runtime, plan: Plan, sub: Subscriber) -> None:
    """Open the stream, catch it up, and let it go live. Ends it (its client reconnects and
    resumes) if anything fails on the way."""
    try:
        if plan.room_id:
            await _open_room(rt, plan, sub)
        else:
            sub.send(sse.OPENING)
            sub.resume()
    except Exception as error:
        log.warning("a stream of room %s ended while opening: %s: %s", plan.room_id, type(error).__name__, error)
        sub.end("failed")


async def _open_room(rt: Runtime, plan: Plan, sub: Subscriber) -> None:
    rid = plan.room_id
    latest = await newest_event(rid)
    sub.send(sse.OPENING)
    sub.entered = True  # the state counts this stream before enter() first suspends
    if await rt.state.enter(rid, plan.user_id, plan.name):
        await broadcasts.presence(rt, rid)
    sub.show(await _current(rt, sub, "presence"), await _current(rt, sub, "typing"))
    after = plan.after
    if after is not None and (after > latest or latest - after > REPLAY_LIMIT):
        sub.end("reload", sse.frame("reload", ""))
        return
    sub.last = latest if after is None else after
    if sub.last < latest:
        async for frames, last in _events(rt, rid, sub.last, latest, sub.language, replayed=True):
            sub.send(frames)
            sub.last = last
            await sub.sink.drained()
    sub.resume()


def fill(rt: Runtime, sub: Subscriber, upto: int | None) -> None:
    """The feed found a gap (or the broker lost events): fill it from the database."""
    rt.spawn(_fill(rt, sub, upto))


async def _fill(rt: Runtime, sub: Subscriber, upto: int | None) -> None:
    try:
        if sub.guarded and not await _still_member(sub.room_id, sub.user_id):
            sub.end("removed", _no_longer_a_member(rt, sub.language))
            return
        async for frames, last in _events(rt, sub.room_id, sub.last, upto, sub.language, replayed=False):
            sub.send(frames)
            sub.last = last
        sub.resume()
    except Exception as error:  # the database away: the client resumes from its last id later
        log.warning("could not fill a gap in room %s: %s", sub.room_id, type(error).__name__)
        sub.end("failed")


def release(rt: Runtime, sub: Subscriber) -> None:
    """The connection ended, however: unsubscribe, and leave the room's presence."""
    rt.hub.remove(sub)
    if sub.entered:  # a stream that never entered must not take another tab's presence away
        sub.entered = False
        rt.spawn(_leave(rt, sub.room_id, sub.user_id))


async def _leave(rt: Runtime, rid: int, user_id: int) -> None:
    try:
        if await rt.state.leave(rid, user_id):
            await broadcasts.presence(rt, rid)
    except Exception:  # Redis away: the entry expires by itself
        log.warning("could not record leaving room %s", rid)


async def _current(rt: Runtime, sub: Subscriber, kind: str) -> bytes:
    """The room's current presence or typing: the newest one this process saw, or a fresh render."""
    key = (topics.room(sub.room_id), kind)
    envelope = rt.hub.latest.get(key)
    if envelope is None:
        make = broadcasts.presence_envelope if kind == "presence" else broadcasts.typing_envelope
        envelope = rt.hub.latest[key] = await make(rt, sub.room_id)
    return envelope.speaking(sub.language).frame_for(sub.user_id)


async def _still_member(rid: int, user_id: int) -> bool:
    return await Membership.filter(room_id=rid, user_id=user_id).exists()
