"""One open stream: what it has shown, and how it passes each event on to its client.

A subscriber hands every event straight to its sink (the client's connection) as the hub
dispatches it: no task wakes per subscriber. What it keeps is what exactly-once needs: the newest
event id it sent, and the presence and typing it last showed (those repeat themselves: only
changes are sent). While the stream opens, or fills a gap the broker left, events wait in
`pending` and are passed on in order once it has caught up; past QUEUE_LIMIT of them, or a client
that does not read what it is sent, the stream ends and its client resumes from its last id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from webchat.live import sse
from webchat.live.topics import Topic

if TYPE_CHECKING:  # the hub imports this module (a cycle at run time); envelopes only pass here
    from webchat.live.hub import Envelope

QUEUE_LIMIT = 256
HEARTBEAT_CHUNK = sse.chunk(sse.HEARTBEAT)


class Sink(Protocol):
    """A client connection, as a stream writes to it."""

    def write(self, frame: bytes, chunk: bytes | None = None) -> bool:
        """Send a frame (`chunk`: the same, already framed as an HTTP chunk, when the sink
        frames chunks itself); False when the client is too far behind to take more."""

    def finish(self, frame: bytes = b"") -> None:
        """End the response, after a last frame."""

    async def drained(self) -> None:
        """Until what was written has mostly reached the client (for long catch-ups)."""


class Subscriber:
    __slots__ = ("user_id", "room_id", "topics", "version", "guarded", "sink", "fill", "closed",
                 "buffering", "pending", "last", "shown_presence", "shown_typing", "entered", "language")

    def __init__(self, user_id: int, room_id: int, topics: tuple[Topic, ...], sink: Sink, *,
                 version: int = 0, guarded: bool = False, language: str = "",
                 fill: Callable[[Subscriber, int | None], None] | None = None) -> None:
        self.user_id = user_id
        self.room_id = room_id  # 0 for the user's own stream (/events)
        self.topics = topics
        # The session version it was opened with, and whether membership is what lets it read
        # (a private or direct room): what the periodic audit checks again.
        self.version = version
        self.guarded = guarded
        self.language = language  # the words of its events ("": the default language's)
        self.sink = sink
        self.fill = fill  # starts filling a gap from the database, up to an event id (None: all)
        self.closed: str | None = None  # why it ended: removed, revoked, overflow, shutdown
        self.buffering = True  # until it has opened: events wait in `pending`
        self.pending: list[Envelope] = []
        self.last = 0  # the newest event id sent (room streams)
        self.shown_presence = b""
        self.shown_typing = b""
        self.entered = False  # counted in the room's presence

    def push(self, envelope: Envelope) -> None:
        if self.closed:
            return
        if self.buffering:
            if len(self.pending) >= QUEUE_LIMIT:
                self.end("overflow")
            else:
                self.pending.append(envelope)
            return
        self._deliver(envelope)

    def _deliver(self, envelope: Envelope) -> None:
        if envelope.languages:
            envelope = envelope.speaking(self.language)
        seq = envelope.seq
        if seq:
            if seq <= self.last:
                return  # already sent (replayed, or filled)
            if seq > self.last + 1:  # the broker lost or reordered something: the database has it
                self._start_fill(envelope)
                return
            self.last = seq
            self._send(envelope.frame, envelope.chunk)
            return
        kind = envelope.kind
        if kind == "resync":
            if self.room_id:
                self._start_fill(None)
            return
        frame = envelope.frame_for(self.user_id)
        if kind == "presence":
            if frame == self.shown_presence:
                return
            self.shown_presence = frame
        elif kind == "typing":
            if frame == self.shown_typing:
                return
            self.shown_typing = frame
        self._send(frame, envelope.chunk if frame is envelope.frame else None)

    def _start_fill(self, envelope: Envelope | None) -> None:
        self.buffering = True
        if envelope is not None:
            self.pending.append(envelope)
        if self.fill is None:
            self.end("overflow")  # nothing to fill from: the client resumes from its last id
            return
        self.fill(self, envelope.seq - 1 if envelope is not None else None)

    def resume(self) -> None:
        """Opened, or the gap is filled: pass on what arrived meanwhile, in order, and go live."""
        pending, self.pending = self.pending, []
        self.buffering = False
        for n, envelope in enumerate(pending):
            if self.closed:
                return
            self._deliver(envelope)
            if self.buffering:  # another gap: the rest waits behind it
                self.pending.extend(pending[n + 1:])
                return

    def send(self, frame: bytes) -> None:
        """A frame of the stream's own (opening, replay, filled gap)."""
        if not self.closed:
            self.sink.write(frame)

    def show(self, presence: bytes, typing: bytes) -> None:
        """The room's presence and typing as the stream opens: sent, and remembered."""
        self.shown_presence, self.shown_typing = presence, typing
        self.send(presence + typing)

    def _send(self, frame: bytes, chunk: bytes | None = None) -> None:
        if not self.sink.write(frame, chunk):
            self.end("overflow")

    def heartbeat(self) -> None:
        if not self.closed and not self.buffering:
            self._send(sse.HEARTBEAT, HEARTBEAT_CHUNK)

    def end(self, reason: str, frame: bytes = b"") -> None:
        if self.closed:
            return
        self.closed = reason
        self.buffering = False
        self.pending = []
        self.sink.finish(frame)
