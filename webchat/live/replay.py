"""Frames of past events, kept so that catching up does not render them again."""

from __future__ import annotations

from collections import OrderedDict


class ReplayFrames:
    """Replayed frames, by room, event id and the message's revision, bounded (least recently
    used rooms go first). Keyed by revision, so an edit or a delete is never served stale: the
    replay reads the events from the database (cheap) and renders only what it has not framed."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._rooms: OrderedDict[int, dict[tuple[int, str], bytes]] = OrderedDict()

    def get(self, room: int, seq: int, revision: str) -> bytes | None:
        frames = self._rooms.get(room)
        if frames is None:
            return None
        self._rooms.move_to_end(room)
        return frames.get((seq, revision))

    def put(self, room: int, seq: int, revision: str, frame: bytes) -> None:
        frames = self._rooms.setdefault(room, {})
        self._rooms.move_to_end(room)
        old = frames.pop((seq, revision), None)
        self.size += len(frame) - (len(old) if old else 0)
        frames[(seq, revision)] = frame
        while self.size > self.max_bytes and self._rooms:
            _, dropped = self._rooms.popitem(last=False)
            self.size -= sum(map(len, dropped.values()))
