"""This process's open streams, by topic.

The hub never renders: it hands the same pre-framed bytes to every subscriber of a topic, and each
subscriber passes them on to its client at once (webchat.live.feed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from webchat.live import sse, topics
from webchat.live.feed import Subscriber
from webchat.live.topics import Topic

SHOWN_KINDS = ("typing", "presence")


@dataclass(slots=True)
class Envelope:
    """One published event: the SSE bytes, rendered and framed once, and where they go."""

    topic: Topic
    kind: str  # message, message_updated, typing, presence, read, unread, close, resync,
    # room_added, room_removed, room_updated (the reader's list of rooms)
    frame: bytes = b""
    seq: int = 0  # the room's event id, for message and message_updated
    room: int = 0
    # Per-viewer alternatives by user id (typing leaves the typer out); the frame is the default.
    variants: dict[int, bytes] | None = None
    # The same event for streams in other languages (frame and variants above: the default
    # language's), where its words differ; rendered once per language, like the default.
    languages: dict[str, Envelope] | None = None
    _chunk: bytes | None = None

    def speaking(self, language: str) -> Envelope:
        if self.languages:
            return self.languages.get(language, self)
        return self

    def frame_for(self, user_id: int) -> bytes:
        if self.variants:
            return self.variants.get(user_id, self.frame)
        return self.frame

    @property
    def chunk(self) -> bytes:
        """The default frame as one HTTP chunk, made once for every subscriber that takes it."""
        if self._chunk is None:
            self._chunk = sse.chunk(self.frame)
        return self._chunk


RESYNC = Envelope(Topic("*"), "resync")


class Hub:
    def __init__(self) -> None:
        self._topics: dict[Topic, set[Subscriber]] = {}
        self._all: set[Subscriber] = set()
        self._per_user: dict[int, int] = {}
        self._empty = asyncio.Event()
        self._empty.set()
        # The newest typing and presence envelope per room, so a new stream starts from them.
        self.latest: dict[tuple[Topic, str], Envelope] = {}

    @property
    def count(self) -> int:
        return len(self._all)

    def subscribers(self) -> tuple[Subscriber, ...]:
        return tuple(self._all)

    def rooms(self) -> set[int]:
        return {sub.room_id for sub in self._all if sub.room_id}

    def unread_rooms(self) -> set[int]:
        """Rooms whose unread numbers some stream here follows."""
        return {room for topic in self._topics if (room := topics.unread_room(topic)) is not None}

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
            self._drop(sub, topic)
        if not self._all:
            self._empty.set()

    def subscribe(self, sub: Subscriber, more: Iterable[Topic]) -> None:
        """More topics for a subscriber already added."""
        if sub not in self._all or sub.closed:
            return
        new = [topic for topic in more if topic not in sub.topics]
        sub.topics = sub.topics + tuple(new)
        for topic in new:
            self._topics.setdefault(topic, set()).add(sub)

    def _drop(self, sub: Subscriber, topic: Topic) -> None:
        subs = self._topics.get(topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._topics[topic]
                for kind in SHOWN_KINDS:
                    self.latest.pop((topic, kind), None)

    def _unsubscribe(self, sub: Subscriber, topic: Topic) -> None:
        if topic in sub.topics:
            sub.topics = tuple(t for t in sub.topics if t != topic)
            self._drop(sub, topic)

    def dispatch(self, envelope: Envelope) -> None:
        subs = self._topics.get(envelope.topic)
        if not subs:
            return
        if envelope.kind in SHOWN_KINDS:
            self.latest[(envelope.topic, envelope.kind)] = envelope
        if envelope.kind == "close":
            # A member removed from a room, or a revoked session (room 0): end their streams of
            # that room; their other streams stop carrying the room's unread numbers.
            for sub in tuple(subs):
                if envelope.room in (0, sub.room_id):
                    sub.end("removed", envelope.speaking(sub.language).frame)
                else:
                    self._unsubscribe(sub, topics.unread(envelope.room))
            return
        if envelope.kind in ("room_added", "room_removed"):
            # The reader's list of rooms changed: from now on their streams carry the room's
            # unread numbers (or no longer do), as if the room had been theirs (or not) when
            # they opened.
            unread = topics.unread(envelope.room)
            for sub in tuple(subs):
                if envelope.kind == "room_added":
                    self.subscribe(sub, [unread])
                else:
                    self._unsubscribe(sub, unread)
                sub.push(envelope)
            return
        for sub in tuple(subs):
            sub.push(envelope)

    def broadcast(self, envelope: Envelope) -> None:
        """Deliver to every subscriber (used after a broker outage to make streams catch up)."""
        for sub in tuple(self._all):
            sub.push(envelope)

    def heartbeat(self, part: int, parts: int) -> list[Subscriber]:
        """A heartbeat for one of `parts` fixed slices of the streams; that slice."""
        due = [sub for sub in self._all if hash(sub) % parts == part]
        for sub in due:
            sub.heartbeat()
        return due

    def close_all(self, reason: str) -> None:
        for sub in tuple(self._all):
            sub.end(reason)

    async def wait_empty(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._empty.wait()
            return True
        except TimeoutError:
            return False
