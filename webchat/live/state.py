"""Shared, expiring state: who has a room open (presence) and who is typing.

In process by default; Redis sorted sets (score = expiry time) under REDIS_URL, so that every
process sees the same set and a killed process's users disappear within seconds. Each method that
changes state says whether the visible set changed, so events are sent only on change.
"""

from __future__ import annotations

import os
import time
import uuid

TYPING_SECONDS = 6.0
PRESENCE_SECONDS = 15.0  # a process refreshes its entries every few seconds while streams are open

Person = tuple[int, str]  # (user id, display name)


def _sorted(people: dict[int, str]) -> list[Person]:
    return sorted(people.items(), key=lambda p: (p[1].lower(), p[0]))


class LocalState:
    def __init__(self) -> None:
        self._presence: dict[int, dict[int, int]] = {}  # room -> user -> open streams
        self._names: dict[int, str] = {}
        self._typing: dict[int, dict[int, float]] = {}  # room -> user -> expiry

    async def enter(self, room: int, user: int, name: str) -> bool:
        self._names[user] = name
        counts = self._presence.setdefault(room, {})
        counts[user] = counts.get(user, 0) + 1
        return counts[user] == 1

    async def leave(self, room: int, user: int) -> bool:
        counts = self._presence.get(room, {})
        if user not in counts:
            return False
        counts[user] -= 1
        if counts[user] > 0:
            return False
        del counts[user]
        if not counts:
            del self._presence[room]
        return True

    async def present(self, room: int) -> list[Person]:
        return _sorted({u: self._names.get(u, "?") for u in self._presence.get(room, {})})

    async def refresh(self, rooms: set[int]) -> set[int]:
        return set()  # nothing expires in process: streams leave explicitly

    async def start_typing(self, room: int, user: int, name: str) -> bool:
        self._names[user] = name
        typers = self._typing.setdefault(room, {})
        changed = user not in typers or typers[user] < time.monotonic()
        typers[user] = time.monotonic() + TYPING_SECONDS
        return changed

    async def stop_typing(self, room: int, user: int, name: str) -> bool:
        typers = self._typing.get(room, {})
        return typers.pop(user, None) is not None

    async def typing(self, room: int) -> list[Person]:
        now = time.monotonic()
        typers = self._typing.get(room, {})
        return _sorted({u: self._names.get(u, "?") for u, t in typers.items() if t > now})

    async def expire_typing(self, rooms: set[int]) -> set[int]:
        now = time.monotonic()
        changed = set()
        for room, typers in list(self._typing.items()):
            for user in [u for u, t in typers.items() if t <= now]:
                del typers[user]
                changed.add(room)
            if not typers:
                del self._typing[room]
        return changed


def _member(user: int, name: str) -> str:
    return f"{user}:{name}"


def _people(members: list[bytes]) -> list[Person]:
    people: dict[int, str] = {}
    for raw in members:
        text = raw.decode()
        head, _, name = text.partition(":")
        if head.isdigit():
            people[int(head)] = name
        else:  # presence entries are PROCESS:USER:NAME
            user, _, name = name.partition(":")
            people[int(user)] = name
    return _sorted(people)


class RedisState:
    def __init__(self, redis) -> None:
        self.redis = redis
        self.process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._local = LocalState()  # this process's own open streams, to refresh and release
        self._typing_rooms: set[int] = set()

    async def enter(self, room: int, user: int, name: str) -> bool:
        before = await self.present(room)
        await self._local.enter(room, user, name)
        await self.redis.zadd(
            f"webchat:presence:{room}",
            {f"{self.process}:{_member(user, name)}": time.time() + PRESENCE_SECONDS},
        )
        return user not in {u for u, _ in before}

    async def leave(self, room: int, user: int) -> bool:
        if not await self._local.leave(room, user):
            return False
        key = f"webchat:presence:{room}"
        await self.redis.zrem(key, f"{self.process}:{_member(user, self._local._names[user])}")
        return user not in {u for u, _ in await self.present(room)}

    async def present(self, room: int) -> list[Person]:
        members = await self.redis.zrangebyscore(f"webchat:presence:{room}", time.time(), "+inf")
        return _people(members)

    async def refresh(self, rooms: set[int]) -> set[int]:
        """Renew this process's entries; drop other processes' expired ones. Returns changed rooms."""
        changed = set()
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for room, counts in self._local._presence.items():
                entries = {
                    f"{self.process}:{_member(u, self._local._names[u])}": now + PRESENCE_SECONDS
                    for u in counts
                }
                pipe.zadd(f"webchat:presence:{room}", entries)
            await pipe.execute()
        for room in rooms:
            removed = await self.redis.zremrangebyscore(f"webchat:presence:{room}", "-inf", now)
            if removed:
                changed.add(room)
        return changed

    async def start_typing(self, room: int, user: int, name: str) -> bool:
        self._typing_rooms.add(room)
        key = f"webchat:typing:{room}"
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zscore(key, _member(user, name))
            pipe.zadd(key, {_member(user, name): now + TYPING_SECONDS})
            pipe.expire(key, 60)
            previous, _, _ = await pipe.execute()
        return previous is None or previous < now

    async def stop_typing(self, room: int, user: int, name: str) -> bool:
        return bool(await self.redis.zrem(f"webchat:typing:{room}", _member(user, name)))

    async def typing(self, room: int) -> list[Person]:
        return _people(await self.redis.zrangebyscore(f"webchat:typing:{room}", time.time(), "+inf"))

    async def expire_typing(self, rooms: set[int]) -> set[int]:
        """Sweep rooms this process serves or saw typing in (a killed process's typers too)."""
        changed = set()
        now = time.time()
        for room in self._typing_rooms | rooms:
            key = f"webchat:typing:{room}"
            stale = await self.redis.zrangebyscore(key, "-inf", now)
            # Only the process whose ZREM removes an entry announces the change.
            if stale and await self.redis.zrem(key, *stale):
                changed.add(room)
            if not await self.redis.exists(key):
                self._typing_rooms.discard(room)
        return changed
