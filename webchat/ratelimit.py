"""Fixed-window rate limits, in process or shared through Redis.

Keys are built by the callers from a user id or the proxy-corrected client address (never from a
raw `X-Forwarded-For`), so a client cannot reset its count by forging a header.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float


# name -> how many hits per window; tests and load tests may override them on the app.
DEFAULT_LIMITS = {
    "login": Limit(10, 300),  # failed sign-ins per client address
    # Failed sign-ins per account from browsers it never signed in from (its own browsers have
    # their own count, so a stranger cannot lock the owner out).
    "login_account": Limit(10, 600),
    "register": Limit(20, 3600),  # registration attempts per client address
    "post": Limit(30, 10),  # messages and edits per user
    "typing": Limit(10, 10),  # typing posts per user
    "read": Limit(120, 60),  # read markers per user (each visible tab posts every few seconds)
    "action": Limit(120, 60),  # every other write per user
    "suggest": Limit(120, 60),  # the composer's @name suggestions per user (a GET: counted by the view)
    "stream": Limit(240, 60),  # event streams opened per user (reconnects included)
    "email": Limit(5, 3600),  # verification emails asked for, per user
    "forgot": Limit(5, 3600),  # "Forgot password?" requests per client address
    "forgot_account": Limit(3, 3600),  # reset emails per account, whoever asks
}


class LocalRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: Limit) -> float | None:
        """Count one hit; return seconds to wait if over the limit, else None."""
        now = time.monotonic()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= limit.seconds:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 100_000:
            self._purge(now)
        if count > limit.count:
            return max(1.0, limit.seconds - (now - start))
        return None

    async def undo(self, key: str) -> None:
        """Take back one hit (a sign-in that turned out right is not a failed one)."""
        start, count = self._windows.get(key, (0.0, 0))
        if count > 0:
            self._windows[key] = (start, count - 1)

    def _purge(self, now: float) -> None:
        longest = max(limit.seconds for limit in DEFAULT_LIMITS.values())
        for key in [k for k, (start, _) in self._windows.items() if now - start >= longest]:
            del self._windows[key]


_UNDO = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisRateLimiter:
    def __init__(self, redis) -> None:
        self._redis = redis

    async def hit(self, key: str, limit: Limit) -> float | None:
        name = f"webchat:rl:{key}"
        # Not MULTI: after a Redis restart a transaction on a stale pooled connection is not retried.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(name)
            pipe.expire(name, math.ceil(limit.seconds), nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if count > limit.count:
            return float(max(1, ttl))
        return None

    async def undo(self, key: str) -> None:
        # In one step, and never below zero: a window that ended meanwhile stays ended.
        await self._redis.eval(_UNDO, 1, f"webchat:rl:{key}")


class DisabledRateLimiter:
    """WEBCHAT_RATE_LIMITS=off: for load tests on a private machine only."""

    async def hit(self, key: str, limit: Limit) -> float | None:
        return None

    async def undo(self, key: str) -> None:
        return None
