"""Everything one webchat process holds between requests, created once by create_app()."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from webchat.config import Settings
from webchat.live.broker import LocalBroker, RedisBroker, redis_client
from webchat.live.hub import Hub
from webchat.live.state import LocalState, RedisState
from webchat.ratelimit import DisabledRateLimiter, LocalRateLimiter, RedisRateLimiter

log = logging.getLogger("webchat.runtime")


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
    tasks: set[asyncio.Task] = field(default_factory=set)
    pending_reads: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.settings.redis_url:
            self.redis = redis_client(self.settings.redis_url)
            self.broker = RedisBroker(self.hub, self.redis)
            self.state = RedisState(self.redis)
            limiter = RedisRateLimiter(self.redis)
        else:
            self.broker = LocalBroker(self.hub)
            self.state = LocalState()
            limiter = LocalRateLimiter()
        self.limiter = limiter if self.settings.rate_limits else DisabledRateLimiter()

    async def start(self) -> None:
        await self.broker.start()
        self.spawn(self._end_streams_when_stopping())

    async def stop(self) -> None:
        self.stopping.set()
        self.hub.close_all("shutdown")
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

    async def _end_streams_when_stopping(self) -> None:
        await self.stopping.wait()
        log.info("stopping: ending %d open streams", self.hub.count)
        self.hub.close_all("shutdown")
