"""Everything one webchat process holds between requests, created once by create_app(), and the
one way to reach it from a request: `current()`."""

from __future__ import annotations

import logging
from typing import Protocol

from quart import current_app
from redis.exceptions import RedisError

from webchat.config import Settings
from webchat.live.core import Live
from webchat.live.replay import ReplayFrames
from webchat.ratelimit import (
    DisabledRateLimiter,
    Limit,
    LocalRateLimiter,
    RedisRateLimiter,
)
from webchat.render import Renderer

log = logging.getLogger("webchat.runtime")


class Limiter(Protocol):
    async def hit(self, key: str, limit: Limit) -> float | None: ...
    async def undo(self, key: str) -> None: ...


class FailOpenLimiter:
    """Rate limits in Redis that let requests through while Redis is away.

    A limit is a guard against floods, not a reason to refuse every post during a Redis restart:
    the message is durable in the database either way.
    """

    def __init__(self, limiter: RedisRateLimiter) -> None:
        self._limiter = limiter
        self._failing = False

    async def hit(self, key: str, limit: Limit) -> float | None:
        try:
            wait = await self._limiter.hit(key, limit)
        except RedisError as error:
            if not self._failing:
                log.warning("rate limits not enforced while Redis is away: %s", error)
            self._failing = True
            return None
        if self._failing:
            log.info("rate limits enforced again")
            self._failing = False
        return wait

    async def undo(self, key: str) -> None:
        try:
            await self._limiter.undo(key)
        except RedisError:
            pass  # a failed sign-in too many is the worst it can do


class Runtime(Live):
    """The live transport, and what the layers above it share: settings, the renderer of shared
    fragments, rate limits, caches."""

    def __init__(self, settings: Settings, renderer: Renderer, limits: dict[str, Limit]) -> None:
        super().__init__(settings.redis_url)
        self.settings = settings
        self.renderer = renderer
        self.limits = limits  # name -> Limit (the app's RATE_LIMITS: tests may change them)
        limiter: Limiter
        if not settings.rate_limits:
            limiter = DisabledRateLimiter()
        elif self.redis is not None:
            limiter = FailOpenLimiter(RedisRateLimiter(self.redis))
        else:
            limiter = LocalRateLimiter()
        self.limiter = limiter
        self.pending_reads: set[int] = set()  # rooms whose read markers are due to be published
        self.replay_frames = ReplayFrames()
        self.filler = None  # how a stream fills a gap (webchat.streams.fill, given by create_app)
        # The site's settings as pages show them (name, welcome), and when they were read.
        self.site = None
        self.site_read = 0.0
        self.storage = None  # where uploaded files are kept (webchat.files.storage), opened at start


def current() -> Runtime:
    """The runtime of the app handling this request."""
    return current_app.extensions["webchat"]
