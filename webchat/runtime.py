"""Everything one webchat process holds between requests, created once by create_app()."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from webchat.config import Settings
from webchat.live.broker import LocalBroker, RedisBroker, redis_client
from webchat.live.hub import Hub
from webchat.live.state import PRESENCE_REFRESH, LocalState, RedisState
from webchat.ratelimit import DisabledRateLimiter, LocalRateLimiter, RedisRateLimiter

log = logging.getLogger("webchat.runtime")

# How long a stopping process waits for its short tasks (announcing departures, flushing read
# markers) before cancelling them.
STOP_GRACE_SECONDS = 3.0
REBUILD_ATTEMPTS = 4
PRESENCE_SETTLE_SECONDS = PRESENCE_REFRESH + 0.5


class FailOpenLimiter:
    """Rate limits in Redis that let requests through while Redis is away.

    A limit is a guard against floods, not a reason to refuse every post during a Redis restart:
    the message is durable in the database either way.
    """

    def __init__(self, limiter) -> None:
        self._limiter = limiter
        self._failing = False

    async def _call(self, method: str, key: str, limit) -> float | None:
        try:
            wait = await getattr(self._limiter, method)(key, limit)
        except RedisError as error:
            if not self._failing:
                log.warning("rate limits not enforced while Redis is away: %s", error)
            self._failing = True
            return None
        if self._failing:
            log.info("rate limits enforced again")
            self._failing = False
        return wait

    async def hit(self, key: str, limit) -> float | None:
        return await self._call("hit", key, limit)

    async def undo(self, key: str) -> None:
        try:
            await self._limiter.undo(key)
        except RedisError:
            pass  # a failed sign-in too many is the worst it can do


@dataclass
class Runtime:
    settings: Settings
    hub: Hub = field(default_factory=Hub)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    redis: object | None = None
    broker: LocalBroker | RedisBroker | None = None
    state: LocalState | RedisState | None = None
    limiter: object | None = None
    renderer: object | None = None
    # Re-checks a slice of the open streams on each heartbeat sweep (webchat.streams.sweep).
    auditor: object | None = None
    replay_frames: object | None = None
    limits: dict = field(default_factory=dict)  # name -> Limit (the app's RATE_LIMITS)
    tasks: set[asyncio.Task] = field(default_factory=set)
    pending_reads: set[int] = field(default_factory=set)
    _rebuilding: asyncio.Task | None = None

    def __post_init__(self) -> None:
        if self.settings.redis_url:
            self.redis = redis_client(self.settings.redis_url)
            self.broker = RedisBroker(self.hub, self.redis)
            self.broker.on_resubscribed = self.resubscribed
            self.state = RedisState(self.redis)
            limiter = FailOpenLimiter(RedisRateLimiter(self.redis))
        else:
            self.broker = LocalBroker(self.hub)
            self.state = LocalState()
            limiter = LocalRateLimiter()
        self.limiter = limiter if self.settings.rate_limits else DisabledRateLimiter()

    async def start(self) -> None:
        await self.broker.start()
        self.spawn(self._end_streams_when_stopping())

    async def stop(self) -> None:
        self._begin_stopping()
        self.hub.close_all("shutdown")
        if self._rebuilding is not None:
            self._rebuilding.cancel()
        # Streams that just ended leave their rooms and read markers flush: let those finish
        # (the housekeeping loop ends by itself once `stopping` is set), then cancel the rest.
        tasks = list(self.tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()
        await self.broker.stop()
        if self.redis is not None:
            await self.redis.aclose()

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _begin_stopping(self) -> None:
        self.stopping.set()
        if isinstance(self.state, RedisState):
            self.state.closing = True

    async def _end_streams_when_stopping(self) -> None:
        await self.stopping.wait()
        self._begin_stopping()
        log.info("stopping: ending %d open streams", self.hub.count)
        self.hub.close_all("shutdown")

    def resubscribed(self) -> None:
        """The broker is subscribed again after losing Redis (see RedisBroker)."""
        if self._rebuilding is not None:
            self._rebuilding.cancel()  # one rebuild at a time: the newest
        if not self.stopping.is_set():
            self._rebuilding = self.spawn(self._rebuild_shared_state())

    async def _rebuild_shared_state(self) -> None:
        """After a Redis outage: re-add this process's presence, then republish what may be stale.

        Streams already caught up with the room's events (the broker's `resync`); what was lost is
        everything Redis held or carried that the database does not: presence and typing (a fresh
        Redis has neither, and changes during the outage were not announced) and unread numbers.
        Each process re-adds its own entries before publishing, so whichever publishes last shows
        everyone.
        """
        for attempt in range(REBUILD_ATTEMPTS):
            try:
                await self._rebuild_once()
                return
            except Exception as error:  # Redis or the database away again for a moment
                if attempt == REBUILD_ATTEMPTS - 1:
                    log.warning("could not rebuild shared state after the Redis outage: %s", error)
                    return
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _rebuild_once(self) -> None:
        from webchat.live import publish
        from webchat.models import Room

        await self.state.refresh(self.hub.rooms())
        for room in sorted(self.hub.rooms()):
            await publish.typing(room, self)  # typing a fresh Redis lost: nobody, until they type
        unread = sorted({int(t.split(":", 1)[1]) for s in self.hub.subscribers()
                         for t in s.topics if t.startswith("unread:")})
        if unread:
            latest = await Room.filter(id__in=unread).values_list("id", "last_seq")
            for room, seq in latest:
                self.hub.dispatch(publish.unread_envelope(room, seq))
        # Presence waits until every live process has renewed its entries (each does so every
        # PRESENCE_REFRESH seconds), so that pages do not briefly show half the room.
        await asyncio.sleep(PRESENCE_SETTLE_SECONDS)
        await self.state.refresh(self.hub.rooms())
        for room in sorted(self.hub.rooms()):
            await publish.presence(room, self)

