"""Everything one webchat process holds between requests, created once by create_app(), and the
one way to reach it from a request: `current()`."""

from __future__ import annotations

import logging
import time
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

# A counter bumped by every change of the site settings (keys are per Redis database).
SITE_VERSION_KEY = "webchat:site-version"
SITE_VERSION_PAUSE = 5.0  # seconds without asking Redis after it failed to answer


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
        # The site's settings as pages show them (name, welcome), when they were read, and the
        # version they were read at (a counter in Redis that every change bumps).
        self.site = None
        self.site_read = 0.0
        self.site_version: int | None = None
        self.storage = None  # where uploaded files are kept (webchat.files.storage), opened at start
        self._site_version_resume = 0.0

    async def site_version_now(self) -> int | None:
        """The site settings' version, shared by every process through Redis (one GET); None with
        one process (no Redis: its own change clears its cache) or while Redis is away (then the
        cache expires by time)."""
        if self.redis is None or time.monotonic() < self._site_version_resume:
            return None
        try:
            return int(await self.redis.get(SITE_VERSION_KEY) or 0)
        except (RedisError, ValueError):
            # Pages go on without it, and do not wait on Redis again for a while.
            self._site_version_resume = time.monotonic() + SITE_VERSION_PAUSE
            return None

    async def site_changed(self) -> None:
        """The site settings changed: this process reads them again at once, and so does every
        other at its next page (the version moved)."""
        self.site = None
        if self.redis is not None:
            try:
                await self.redis.incr(SITE_VERSION_KEY)
            except RedisError as error:
                log.warning("other processes show the old site settings for up to 30 s: %s", error)


def current() -> Runtime:
    """The runtime of the app handling this request."""
    return current_app.extensions["webchat"]
