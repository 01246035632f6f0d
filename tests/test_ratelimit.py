"""The rate limiter's two engines behave alike: in process, and shared through Redis."""

from __future__ import annotations

import pytest

from webchat.live.broker import redis_client
from webchat.ratelimit import Limit, LocalRateLimiter, RedisRateLimiter


@pytest.fixture(params=["local", "redis"])
async def limiter(request):
    if request.param == "local":
        yield LocalRateLimiter()
        return
    client = redis_client(request.getfixturevalue("redis_url"))
    yield RedisRateLimiter(client)
    await client.aclose()


async def test_hits_beyond_the_limit_are_told_how_long_to_wait(limiter):
    limit = Limit(3, 60)
    assert [await limiter.hit("login:203.0.113.5", limit) for _ in range(3)] == [None, None, None]
    wait = await limiter.hit("login:203.0.113.5", limit)
    assert wait is not None and 1 <= wait <= 60
    assert await limiter.hit("login:203.0.113.6", limit) is None  # keys are counted apart


async def test_undo_gives_back_a_hit(limiter):
    limit = Limit(2, 60)
    await limiter.hit("k", limit)
    await limiter.hit("k", limit)
    await limiter.undo("k")
    assert await limiter.hit("k", limit) is None
    assert await limiter.hit("k", limit) is not None


async def test_undo_of_a_key_never_hit_does_not_grant_extra(limiter):
    limit = Limit(1, 60)
    await limiter.undo("fresh")
    assert await limiter.hit("fresh", limit) is None
    assert await limiter.hit("fresh", limit) is not None
