"""GET /api/v1/events: one stream of JSON events for every room the account is in.

The id of every event is a cursor vector: the last event id sent of each room, written
"ROOM:SEQ,ROOM:SEQ" (rooms in order). Each room keeps its own gap-free sequence (webchat.messages),
so a client that resumes with that id (`Last-Event-ID`, or `?last_event_id=`) gets, in each room,
exactly the events after its number there: nothing lost, nothing twice, whatever the order in
which rooms' events interleaved. A room missing from the vector (joined since) starts at its
newest event; more than 1,000 events behind in a room, or ahead of it: `reload`, as on the pages.

The hub only wakes the stream: an envelope for a room means "this room has news". The stream then
reads that room's events after its cursor from the database and sends them as JSON. The database
is the truth and the broker the fast path, so a lost or reordered envelope costs nothing but a
moment. (The page streams' pre-rendered HTML frames are not what a program wants.) The streams
woken by one message ask the same question at the same moment: they share one query and one
JSON encoding of its answer (`shared_events_after`).
"""

from __future__ import annotations

import asyncio
import json
import itertools
import logging
import weakref
from datetime import datetime

from webchat.api.schemas import message_json
from webchat.api.tokens import still_usable
from webchat.live import sse, topics
from webchat.live.hub import Envelope
from webchat.messages.service import events_after, newest_event
from webchat.models import Membership, Room
from webchat.rooms.markers import read_markers
from webchat.rooms.service import entry_for
from webchat.runtime import Runtime
from webchat.streams import REPLAY_BATCH, REPLAY_LIMIT, STREAMS_PER_USER

log = logging.getLogger("webchat.api.streams")

QUEUE_LIMIT = 256
CURSOR_MAX_ROOMS = 5000
WAKING = ("message", "message_updated", "resync")


def token_topic(token_id: int):
    return topics.named(f"token:{token_id}")


async def token_revoked(rt: Runtime, token_id: int) -> None:
    """End every open event stream of this token, in every process, at once."""
    await rt.broker.publish(Envelope(token_topic(token_id), "revoked", room=0))


class CursorError(ValueError):
    pass


def encode_cursor(cursors: dict[int, int]) -> str:
    return ",".join(f"{room}:{seq}" for room, seq in sorted(cursors.items()))


def decode_cursor(raw: str) -> dict[int, int]:
    """A cursor vector as a client sends it back; CursorError for anything else."""
    if len(raw) > CURSOR_MAX_ROOMS * 23:
        raise CursorError(raw[:40])
    cursors = {}
    for part in raw.split(","):
        room, colon, seq = part.partition(":")
        if not colon or not all(x.isascii() and x.isdigit() and len(x) <= 10 for x in (room, seq)):
            raise CursorError(part[:40])
        cursors[int(room)] = int(seq)
    return cursors


def resume_from(raws: list[str | None]) -> dict[int, int] | None:
    """Last-Event-ID and ?last_event_id: per room, the larger wins (as on the page streams)."""
    merged: dict[int, int] | None = None
    for raw in raws:
        if raw:
            for room, seq in decode_cursor(raw).items():
                merged = merged or {}
                merged[room] = max(seq, merged.get(room, 0))
    return merged


class Wakeup:
    """This stream as the hub sees it: envelopes go into a bounded queue its loop reads."""

    __slots__ = ("user_id", "room_id", "topics", "version", "guarded", "closed", "buffering", "queue")

    def __init__(self, user_id: int, version: int, first_topics: tuple) -> None:
        self.user_id = user_id
        self.room_id = 0  # the hub and the audit treat it as the user's own stream
        self.topics = first_topics
        self.version = version
        self.guarded = False
        self.closed: str | None = None
        self.buffering = False
        self.queue: asyncio.Queue = asyncio.Queue()

    def push(self, envelope: Envelope) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.end("overflow")  # too far behind: the client resumes from its last id
            return
        self.queue.put_nowait((next(_ticks), envelope))  # when it arrived, for shared_events_after

    def heartbeat(self) -> None:
        pass  # the stream's own loop sends them

    def end(self, reason: str, frame: bytes = b"") -> None:
        if not self.closed:
            self.closed = reason
            self.queue.put_nowait(None)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def event(kind: str, data: dict, cursors: dict[int, int] | None = None) -> bytes:
    return sse.frame(kind, _json(data), encode_cursor(cursors) if cursors is not None else None)


Encoded = list[tuple[int, str, str]]  # (event id, kind, JSON data)
_in_flight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, int], tuple[int, asyncio.Future]]] = (
    weakref.WeakKeyDictionary())
_ticks = itertools.count(1)  # orders envelopes' arrivals and queries' starts in this process


async def _encoded_after(room: int, after: int) -> Encoded:
    return [(item.seq, item.kind, _json({"room": room, "event_id": item.seq, "message": message_json(item.message)}))
            for item in await events_after(room, after, REPLAY_BATCH)]


async def shared_events_after(room: int, after: int, since: int | None = None) -> Encoded:
    """The room's events after `after`, encoded as JSON. One message wakes every program stream of
    its room at once, each at the same cursor: they share one query and its JSON instead of
    repeating them. A stream shares only a query that started after the envelope that woke it
    arrived (`since`, a tick of `_ticks`), so the answer includes that event; without `since`,
    it starts its own. Nothing is kept once answered."""
    waiting = _in_flight.setdefault(asyncio.get_running_loop(), {})
    key = (room, after)
    current = waiting.get(key)
    if since is not None and current is not None and current[0] > since:
        answer = current[1]
    else:
        answer = asyncio.ensure_future(_encoded_after(room, after))
        entry = waiting[key] = (next(_ticks), answer)
        answer.add_done_callback(lambda _: waiting.pop(key, None) if waiting.get(key) is entry else None)
    return await asyncio.shield(answer)  # one stream going away does not cancel it for the others


class EventStream:
    def __init__(self, rt: Runtime, token_id: int, user) -> None:
        self.rt = rt
        self.token_id = token_id
        self.user = user
        self.cursors: dict[int, int] = {}
        self.sub = Wakeup(user.id, user.session_version, (topics.user(user.id), token_topic(token_id)))

    def full(self) -> bool:
        return self.rt.settings.rate_limits and self.rt.hub.count_for(self.user.id) >= STREAMS_PER_USER

    async def frames(self, resume: dict[int, int] | None):
        rt, sub = self.rt, self.sub
        rt.hub.add(sub)
        try:
            yield sse.OPENING
            rooms = await Membership.filter(user_id=self.user.id).values_list("room_id", flat=True)
            rt.hub.subscribe(sub, [topics.room(room) for room in rooms])
            newest = dict(await Room.filter(id__in=list(rooms)).values_list("id", "last_event")) if rooms else {}
            for room, latest in newest.items():
                after = latest if resume is None else resume.get(room, latest)
                if after > latest or latest - after > REPLAY_LIMIT:
                    yield event("reload", {"room": room, "reason": "too far behind or ahead: fetch afresh"})
                    return
                self.cursors[room] = after
            yield event("connected", {"user": {"id": self.user.id, "username": self.user.username,
                                               "display_name": self.user.display_name, "bot": self.user.is_bot},
                                      "rooms": sorted(self.cursors)}, self.cursors)
            for room in sorted(self.cursors):
                async for frame in self.catch_up(room):
                    yield frame
            async for frame in self.live():
                yield frame
        finally:
            sub.end("gone")
            rt.hub.remove(sub)

    async def live(self):
        sub, rt = self.sub, self.rt
        while True:
            try:
                async with asyncio.timeout(sse.HEARTBEAT_SECONDS):
                    arrival = await sub.queue.get()
            except TimeoutError:
                if not await still_usable(self.token_id):  # expired meanwhile
                    yield event("close", {"reason": "token expired or revoked"})
                    return
                yield sse.HEARTBEAT
                continue
            if arrival is None:  # ended: revoked session, shutdown, overflow
                if sub.closed in ("removed", "revoked"):
                    yield event("close", {"reason": "signed out"})
                return
            arrived, envelope = arrival
            kind, room = envelope.kind, envelope.room
            if kind == "revoked":
                yield event("close", {"reason": "token revoked"})
                return
            if kind == "resync":
                rooms = sorted(self.cursors)
            elif kind in WAKING and room in self.cursors:
                rooms = [room]
            else:
                rooms = []
            for room_id in rooms:
                async for frame in self.catch_up(room_id, arrived):
                    yield frame
            if kind == "room_added" and room not in self.cursors:
                rt.hub.subscribe(sub, [topics.room(room)])
                self.cursors[room] = await newest_event(room)
                entry = await entry_for(self.user.id, room)
                if entry is not None:
                    yield event("room_added", {"room": {"id": room, "name": str(entry.title), "kind": entry.room.kind}},
                                self.cursors)
            elif kind == "room_removed" and room in self.cursors:
                del self.cursors[room]
                yield event("room_removed", {"room": room}, self.cursors)
            elif kind == "read" and room in self.cursors:
                markers = await read_markers(room)
                yield event("read", {"room": room, "markers": [
                    {"username": m.username, "message_id": m.message_id} for m in markers]})
            elif kind == "typing" and room in self.cursors:
                people = await rt.state.typing(room)
                yield event("typing", {"room": room, "users": [name for uid, name in people if uid != self.user.id]})

    async def catch_up(self, room: int, since: int | None = None):
        """The room's events after this stream's cursor, as JSON, in order; the cursor follows."""
        if not await Membership.filter(room_id=room, user_id=self.user.id).exists():
            self.cursors.pop(room, None)  # removed meanwhile: its `room_removed` may still come
            return
        while room in self.cursors:
            batch = await shared_events_after(room, self.cursors[room], since)
            since = None  # the next batch of a long catch-up: its own query
            for seq, kind, data in batch:
                self.cursors[room] = seq
                yield sse.frame(kind, data, encode_cursor(self.cursors))
            if len(batch) < REPLAY_BATCH:
                return
