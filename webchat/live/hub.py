"""This process's open streams, by topic, and the bounded queue of each.

The hub never renders: it hands the same pre-framed bytes to every subscriber of a topic. A
subscriber whose queue fills is closed (its client resumes from its last id) instead of growing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

QUEUE_LIMIT = 256


@dataclass(slots=True)
class Envelope:
    """One published event: the SSE bytes, rendered and framed once, and where they go."""

    topic: str  # room:ID, unread:ID, user:ID
    kind: str  # message, message_updated, typing, presence, read, unread, close, resync,
    # room_added, room_removed, room_updated (the reader's list of rooms)
    frame: bytes = b""
    seq: int = 0  # the room's event id, for message and message_updated
    room: int = 0
    # Per-viewer alternatives by user id (typing leaves the typer out); the frame is the default.
    variants: dict[int, bytes] | None = None


@dataclass(eq=False, slots=True)
class Subscriber:
    """One open stream. Kept small: an idle chat holds thousands of these.

    `frames` is a plain list (the stream drains it whole); waiting is one future, made only while
    the stream waits, instead of an asyncio.Event and a timeout per wait.
    """

    user_id: int
    room_id: int  # 0 for the user's own stream (/events)
    topics: tuple[str, ...]
    frames: list = field(default_factory=list)
    # The session version it was opened with, and whether membership is what lets it read (a
    # private or direct room): what the periodic audit checks again.
    version: int = 0
    guarded: bool = False
    closed: str | None = None  # why the stream must end: overflow, shutdown, removed, revoked
    beat: bool = False  # a heartbeat is due (set by the hub's once-a-period sweep)
    waiter: asyncio.Future | None = None

    def push(self, envelope: Envelope) -> None:
        if self.closed:
            return
        if len(self.frames) >= QUEUE_LIMIT:
            self.close("overflow")
            return
        self.frames.append(envelope)
        self._wake()

    def close(self, reason: str) -> None:
        if not self.closed:
            self.closed = reason
        self._wake()

    def heartbeat(self) -> None:
        self.beat = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until there are frames, the stream is closed, or a heartbeat is due."""
        if self.frames or self.closed or self.beat:
            return
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    def take(self) -> list:
        frames, self.frames = self.frames, []
        self.beat = False
        return frames

    def frame_for(self, envelope: Envelope) -> bytes:
        if envelope.variants:
            return envelope.variants.get(self.user_id, envelope.frame)
        return envelope.frame


class Hub:
    def __init__(self) -> None:
        self._topics: dict[str, set[Subscriber]] = {}
        self._all: set[Subscriber] = set()
        self._per_user: dict[int, int] = {}
        self._empty = asyncio.Event()
        self._empty.set()
        # The newest typing and presence envelope per room, so a new stream starts from them.
        self.latest: dict[tuple[str, str], Envelope] = {}

    @property
    def count(self) -> int:
        return len(self._all)

    def subscribers(self) -> Iterable[Subscriber]:
        return tuple(self._all)

    def rooms(self) -> set[int]:
        return {sub.room_id for sub in self._all if sub.room_id}

    def count_for(self, user_id: int) -> int:
        return self._per_user.get(user_id, 0)

    def add(self, sub: Subscriber) -> None:
        self._all.add(sub)
        self._per_user[sub.user_id] = self._per_user.get(sub.user_id, 0) + 1
        self._empty.clear()
        for topic in sub.topics:
            self._topics.setdefault(topic, set()).add(sub)

    def remove(self, sub: Subscriber) -> None:
        if sub not in self._all:
            return
        self._all.discard(sub)
        left = self._per_user[sub.user_id] - 1
        if left:
            self._per_user[sub.user_id] = left
        else:
            del self._per_user[sub.user_id]
        for topic in sub.topics:
            subs = self._topics.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._topics[topic]
                    self.latest.pop((topic, "typing"), None)
                    self.latest.pop((topic, "presence"), None)
        if not self._all:
            self._empty.set()

    def subscribe(self, sub: Subscriber, topics: Iterable[str]) -> None:
        """More topics for a subscriber already added."""
        if sub not in self._all or sub.closed:
            return
        new = [topic for topic in topics if topic not in sub.topics]
        sub.topics = sub.topics + tuple(new)
        for topic in new:
            self._topics.setdefault(topic, set()).add(sub)

    def _unsubscribe(self, sub: Subscriber, topic: str) -> None:
        if topic not in sub.topics:
            return
        sub.topics = tuple(t for t in sub.topics if t != topic)
        subs = self._topics.get(topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._topics[topic]

    def dispatch(self, envelope: Envelope) -> None:
        subs = self._topics.get(envelope.topic)
        if not subs:
            return
        if envelope.kind in ("typing", "presence"):
            self.latest[(envelope.topic, envelope.kind)] = envelope
        if envelope.kind == "close":
            # A member removed from a room, or a revoked session (room 0): end their streams of
            # that room; their other streams stop carrying the room's unread numbers.
            for sub in tuple(subs):
                if envelope.room in (0, sub.room_id):
                    sub.push(envelope)
                    sub.close("removed")
                else:
                    self._unsubscribe(sub, f"unread:{envelope.room}")
            return
        if envelope.kind in ("room_added", "room_removed"):
            # The reader's list of rooms changed: from now on their streams carry the room's
            # unread numbers (or no longer do), as if the room had been theirs (or not) when
            # they opened.
            unread = f"unread:{envelope.room}"
            for sub in tuple(subs):
                if envelope.kind == "room_added":
                    self.subscribe(sub, [unread])
                else:
                    self._unsubscribe(sub, unread)
                sub.push(envelope)
            return
        for sub in subs:
            sub.push(envelope)

    def broadcast(self, envelope: Envelope) -> None:
        """Deliver to every subscriber (used after a broker outage to make streams catch up)."""
        for sub in tuple(self._all):
            sub.push(envelope)

    def heartbeat(self, part: int, parts: int) -> list[Subscriber]:
        """Mark a heartbeat due on one of `parts` fixed slices of the streams; that slice."""
        due = [sub for sub in self._all if hash(sub) % parts == part]
        for sub in due:
            sub.heartbeat()
        return due

    def close_all(self, reason: str) -> None:
        for sub in tuple(self._all):
            sub.close(reason)

    async def wait_empty(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._empty.wait()
            return True
        except TimeoutError:
            return False
