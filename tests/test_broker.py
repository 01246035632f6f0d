"""The Redis broker: events reach every process of one chat, and no other chat on the same Redis."""

from __future__ import annotations

import asyncio

from tests.helpers.proc import wait_until
from webchat.live import topics
from webchat.live.broker import RedisBroker, redis_client
from webchat.live.feed import Subscriber
from webchat.live.hub import Envelope, Hub


class Collect:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, frame: bytes, chunk: bytes | None = None) -> bool:
        self.frames.append(frame)
        return True

    def finish(self, frame: bytes = b"") -> None:
        pass

    async def drained(self) -> None:
        pass


async def _listening(url: str) -> tuple[RedisBroker, Collect]:
    hub, sink = Hub(), Collect()
    sub = Subscriber(1, 1, (topics.room(1),), sink, fill=lambda sub, upto: sub.resume())  # nothing to catch up
    hub.add(sub)
    sub.resume()
    broker = RedisBroker(hub, redis_client(url))
    await broker.start()
    return broker, sink


async def test_two_chats_on_one_redis_do_not_hear_each_other(redis_url):
    """Pub/sub channels are shared by every database of a Redis server (keys are not): a chat on
    database 15 and one on database 9 must each hear only their own events."""
    other_url = redis_url.rsplit("/", 1)[0] + "/9"
    ours, ours_heard = await _listening(redis_url)
    same_chat, same_heard = await _listening(redis_url)
    theirs, theirs_heard = await _listening(other_url)
    try:
        await ours.publish(Envelope(topics.room(1), "message", b"event: message\ndata: ours\n\n", seq=1, room=1))
        assert await wait_until(lambda: same_heard.frames and ours_heard.frames, 5)
        await asyncio.sleep(0.3)
        assert theirs_heard.frames == []
    finally:
        for broker in (ours, same_chat, theirs):
            await broker.stop()
            await broker.redis.aclose()


def test_an_envelope_keeps_its_languages_across_redis():
    """Encoded for Redis and decoded in another process, each language's frame and per-viewer
    variants arrive as they were published."""
    from webchat.live.broker import decode, encode

    thai = Envelope(topics.room(3), "typing", "ไทย\n".encode(), room=3, variants={7: "ไม่มี\n".encode()})
    sent = Envelope(topics.room(3), "typing", b"english\n", room=3, variants={7: b"none\n"}, languages={"th": thai})
    got = decode(encode(sent))
    assert (got.frame, got.variants, got.room, got.kind) == (b"english\n", {7: b"none\n"}, 3, "typing")
    assert got.speaking("th").frame == "ไทย\n".encode()
    assert got.speaking("th").frame_for(7) == "ไม่มี\n".encode()
    assert got.speaking("en") is got and got.speaking("fr") is got
