"""One interface, two engines: how an event reaches every process that has subscribers.

LocalBroker hands envelopes straight to this process's hub. RedisBroker publishes them on Redis
pub/sub and keeps one PSUBSCRIBE connection per process that feeds the hub. Redis drops what is
published while a subscriber is away, so after an outage every stream is told to catch up from the
database (a `resync` envelope): the broker is the fast path, the database the truth.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from webchat.live.hub import RESYNC, Envelope, Hub
from webchat.live.topics import Topic

log = logging.getLogger("webchat.broker")


def channel_prefix(redis: aioredis.Redis) -> str:
    """Channels are named for the Redis database too: unlike keys, Redis's pub/sub channels are
    shared by every database of a server, and two chats on one Redis (two apps, or two test runs
    on different database numbers) must not hear each other's events."""
    return f"webchat:{redis.connection_pool.connection_kwargs.get('db', 0)}:ev:"


class Broker(Protocol):
    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, envelope: Envelope) -> None: ...
    async def health(self) -> str: ...


class LocalBroker:
    name = "local"

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, envelope: Envelope) -> None:
        self.hub.dispatch(envelope)

    async def health(self) -> str:
        return "local"


def redis_client(url: str) -> aioredis.Redis:
    options: dict = {
        "retry": Retry(ExponentialBackoff(cap=2, base=0.05), retries=3),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "socket_connect_timeout": 3,
        # A Redis that stops answering must not hang a request: fail, and let callers degrade.
        "socket_timeout": 3,
        "health_check_interval": 15,
        "max_connections": 50,
    }
    if url.startswith("rediss://"):
        # Heroku Redis presents a self-signed certificate.
        options["ssl_cert_reqs"] = ssl.CERT_NONE
    return aioredis.from_url(url, **options)


def encode(envelope: Envelope) -> bytes:
    head = _head(envelope)
    head.update({"t": envelope.topic, "k": envelope.kind, "s": envelope.seq, "r": envelope.room})
    if envelope.languages:
        head["l"] = {language: {"f": other.frame.decode(), **_head(other)}
                     for language, other in envelope.languages.items()}
    return json.dumps(head, separators=(",", ":")).encode() + b"\n" + envelope.frame


def _head(envelope: Envelope) -> dict:
    if envelope.variants:
        return {"v": {str(uid): frame.decode() for uid, frame in envelope.variants.items()}}
    return {}


def _variants(head: dict) -> dict[int, bytes] | None:
    variants = head.get("v")
    return {int(uid): v.encode() for uid, v in variants.items()} if variants else None


def decode(data: bytes) -> Envelope:
    head_bytes, _, frame = data.partition(b"\n")
    head = json.loads(head_bytes)
    topic, kind, seq, room = Topic(head["t"]), head["k"], head["s"], head["r"]
    languages = head.get("l")
    return Envelope(
        topic=topic, kind=kind, frame=frame, seq=seq, room=room, variants=_variants(head),
        languages={
            language: Envelope(topic=topic, kind=kind, frame=other["f"].encode(), seq=seq, room=room,
                               variants=_variants(other))
            for language, other in languages.items()
        } if languages else None,
    )


class RedisBroker:
    """Redis pub/sub: publish to `webchat:DB:ev:TOPIC`; one PSUBSCRIBE per process feeds the hub.

    Every time the subscription is confirmed after the first (our own reconnect, or redis-py's
    silent one inside get_message after a Redis restart), whatever was published meanwhile is
    lost: every stream is told to catch up from the database (`resync`), and `on_resubscribed`
    lets the runtime rebuild this process's presence and republish it. The confirmation is the
    moment from which every publish reaches us, so reading the database after it leaves no gap.
    """

    name = "redis"

    def __init__(self, hub: Hub, redis: aioredis.Redis) -> None:
        self.hub = hub
        self.redis = redis
        self.prefix = channel_prefix(redis)
        self._listener: asyncio.Task | None = None
        self._subscribed = asyncio.Event()
        self._ever_subscribed = False
        self.connected = False
        self.on_resubscribed: Callable[[], None] | None = None  # each time the subscription is back

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="webchat-redis-listener")
        try:
            async with asyncio.timeout(5):
                await self._subscribed.wait()
        except TimeoutError:
            log.warning("Redis is not answering yet; streams will catch up when it does")

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass

    async def publish(self, envelope: Envelope) -> None:
        try:
            await self.redis.publish(self.prefix + envelope.topic, encode(envelope))
        except RedisError:
            # Saved already; subscribers catch up from the database when Redis returns.
            log.warning("publish of %s to %s failed", envelope.kind, envelope.topic)

    async def health(self) -> str:
        await self.redis.ping()
        return "ok"

    def _on_subscribed(self) -> None:
        self.connected = True
        self._subscribed.set()
        if not self._ever_subscribed:
            self._ever_subscribed = True
            # Streams may have opened before the first subscription was confirmed (Redis slow to
            # answer at start-up): what was published meanwhile never reached them.
            self.hub.broadcast(RESYNC)
            return
        log.info("Redis subscription is back: streams catch up from the database")
        self.hub.broadcast(RESYNC)
        if self.on_resubscribed is not None:
            self.on_resubscribed()

    def _dispatch(self, data: bytes) -> None:
        try:
            envelope = decode(data)
        except (ValueError, KeyError, TypeError):  # not ours, or from an incompatible version
            log.warning("ignored a malformed event of %d bytes", len(data))
            return
        self.hub.dispatch(envelope)

    async def _listen(self) -> None:
        delay = 0.1
        prefix = self.prefix.encode()
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                while True:
                    message = await pubsub.get_message(timeout=30)
                    if message is None:
                        continue
                    kind = message["type"]
                    if kind == "pmessage":
                        channel = message["channel"]
                        if isinstance(channel, bytes) and channel.startswith(prefix):
                            self._dispatch(message["data"])
                    elif kind == "psubscribe":
                        self._on_subscribed()
                        delay = 0.1
            except asyncio.CancelledError:
                await _quietly(pubsub.aclose())
                raise
            except (RedisError, OSError) as error:
                if self.connected:
                    log.warning("Redis subscription lost (%s); retrying", error)
                self.connected = False
                await _quietly(pubsub.aclose())
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:  # closing a broken connection may fail again; nothing left to do
        pass
