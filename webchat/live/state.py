"""Shared, expiring state: who has a room open (presence) and who is typing.

In process by default; Redis sorted sets (score = expiry time) under REDIS_URL, so that every
process sees the same set and a killed process's users disappear within seconds. Each method that
changes state says whether the visible set changed, so events are sent only on change.

Under Redis this state is a convenience, never a reason to fail a request: while Redis is away,
presence shows this process's own viewers, typing shows nobody, and changes are not announced.
When the broker is subscribed again the runtime re-adds this process's entries and republishes
presence and typing (Runtime.resubscribed), so every page is right again within a moment.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Protocol

from redis.exceptions import RedisError

log = logging.getLogger("webchat.state")

TYPING_SECONDS = 6.0
# Each process renews its presence entries every PRESENCE_REFRESH seconds while its streams are
# open (live/background.py); an entry not renewed for PRESENCE_SECONDS is gone, so the viewers of a
# process that was killed disappear within PRESENCE_SECONDS + PRESENCE_REFRESH (8 s).
PRESENCE_SECONDS = 6.0
PRESENCE_REFRESH = 2.0

Person = tuple[int, str]  # (user id, display name)


def _sorted(people: dict[int, str]) -> list[Person]:
    return sorted(people.items(), key=lambda p: (p[1].lower(), p[0]))


class State(Protocol):
    """Presence and typing, whichever engine holds them. Changes say whether the visible set
    changed, so that events are sent only on change."""

    async def enter(self, room: int, user: int, name: str) -> bool: ...
    async def leave(self, room: int, user: int) -> bool: ...
    async def forget(self, room: int, user: int) -> tuple[bool, bool]: ...
    async def present(self, room: int) -> list[Person]: ...
    async def refresh(self, rooms: set[int]) -> set[int]: ...
    async def start_typing(self, room: int, user: int, name: str) -> bool: ...
    async def stop_typing(self, room: int, user: int, name: str) -> bool: ...
    async def typing(self, room: int) -> list[Person]: ...
    async def expire_typing(self, rooms: set[int]) -> set[int]: ...

    def closing(self) -> None:
        """The process is stopping: its viewers reconnect elsewhere, so leaving is not news."""


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

    async def forget(self, room: int, user: int) -> tuple[bool, bool]:
        """The user lost the room (removed, left): out of its presence and typing at once.
        Whether each of the two changed."""
        counts = self._presence.get(room, {})
        present = counts.pop(user, None) is not None
        if not counts:
            self._presence.pop(room, None)
        typing = self._typing.get(room, {}).pop(user, None) is not None
        return present, typing

    async def refresh(self, rooms: set[int]) -> set[int]:
        return set()  # nothing expires in process: streams leave explicitly

    def closing(self) -> None:
        pass

    def name_of(self, user: int) -> str:
        return self._names.get(user, "?")

    def entries(self) -> dict[int, list[int]]:
        """Who has the room open through this process, by room."""
        return {room: list(counts) for room, counts in self._presence.items()}

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


def _entry_user(raw: bytes) -> int | None:
    people = _people([raw])
    return people[0][0] if people else None


def _presence_key(room: int) -> str:
    return f"webchat:presence:{room}"


def _typing_key(room: int) -> str:
    return f"webchat:typing:{room}"


class RedisState:
    """Presence and typing in Redis sorted sets whose scores are expiry times (Unix seconds).

    A presence entry is PROCESS:USER:NAME, so each process renews and removes only its own; a
    typing entry is USER:NAME. Keys expire as a whole too, so rooms nobody serves leave nothing.
    """

    def __init__(self, redis) -> None:
        self.redis = redis
        self.process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._local = LocalState()  # this process's own open streams, to refresh and release
        self._typing_rooms: set[int] = set()
        # Set when this process is shutting down: its viewers are about to reconnect elsewhere, so
        # their leaving is not announced (no flicker); entries not renewed by another process
        # expire within PRESENCE_SECONDS.
        self._closing = False

    def closing(self) -> None:
        self._closing = True

    def _entry(self, user: int) -> str:
        return f"{self.process}:{_member(user, self._local.name_of(user))}"

    async def enter(self, room: int, user: int, name: str) -> bool:
        await self._local.enter(room, user, name)
        key, now = _presence_key(room), time.time()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrangebyscore(key, now, "+inf")
                pipe.zadd(key, {self._entry(user): now + PRESENCE_SECONDS})
                pipe.expire(key, int(PRESENCE_SECONDS * 2))
                before, _, _ = await pipe.execute()
        except RedisError as error:
            log.warning("presence not recorded (Redis: %s); it will be when Redis is back", error)
            return False
        return user not in {u for u, _ in _people(before)}

    async def leave(self, room: int, user: int) -> bool:
        entry = self._entry(user)
        if not await self._local.leave(room, user) or self._closing:
            return False
        key = _presence_key(room)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(key, entry)
                pipe.zrangebyscore(key, time.time(), "+inf")
                _, after = await pipe.execute()
        except RedisError as error:
            log.warning("leaving not recorded (Redis: %s); the entry expires by itself", error)
            return False
        return user not in {u for u, _ in _people(after)}

    async def present(self, room: int) -> list[Person]:
        try:
            members = await self.redis.zrangebyscore(_presence_key(room), time.time(), "+inf")
        except RedisError:
            return await self._local.present(room)  # at least who is here through this process
        return _people(members)

    async def forget(self, room: int, user: int) -> tuple[bool, bool]:
        """As LocalState.forget, for every process's entries of the user (their streams of the
        room end by the `close` each process receives, so none renews them)."""
        await self._local.forget(room, user)
        try:
            presence = await self.redis.zrange(_presence_key(room), 0, -1)
            typing = await self.redis.zrange(_typing_key(room), 0, -1)
            gone_presence = [raw for raw in presence if _entry_user(raw) == user]
            gone_typing = [raw for raw in typing if _entry_user(raw) == user]
            async with self.redis.pipeline(transaction=False) as pipe:
                if gone_presence:
                    pipe.zrem(_presence_key(room), *gone_presence)
                if gone_typing:
                    pipe.zrem(_typing_key(room), *gone_typing)
                await pipe.execute()
        except RedisError as error:
            log.warning("could not forget a member's presence (Redis: %s); it expires by itself", error)
            return False, False
        return bool(gone_presence), bool(gone_typing)

    async def refresh(self, rooms: set[int]) -> set[int]:
        """Renew this process's entries; drop expired ones (a killed process's) in `rooms`.

        Returns the rooms whose visible set changed. Raises RedisError while Redis is away.
        """
        now = time.time()
        mine = self._local.entries()
        served = [room for room in rooms if room not in mine]
        async with self.redis.pipeline(transaction=False) as pipe:
            for room, users in mine.items():
                pipe.zremrangebyscore(_presence_key(room), "-inf", now)
                pipe.zadd(_presence_key(room), {self._entry(u): now + PRESENCE_SECONDS for u in users})
                pipe.expire(_presence_key(room), int(PRESENCE_SECONDS * 2))
            for room in served:
                pipe.zremrangebyscore(_presence_key(room), "-inf", now)
            results = await pipe.execute()
        removed = [results[3 * i] for i in range(len(mine))] + results[3 * len(mine):]
        return {room for room, count in zip([*mine, *served], removed, strict=True) if count}

    async def start_typing(self, room: int, user: int, name: str) -> bool:
        self._typing_rooms.add(room)
        key = _typing_key(room)
        now = time.time()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zscore(key, _member(user, name))
                pipe.zadd(key, {_member(user, name): now + TYPING_SECONDS})
                pipe.expire(key, 60)
                previous, _, _ = await pipe.execute()
        except RedisError:
            return False  # typing is a hint: not shown while Redis is away
        return previous is None or previous < now

    async def stop_typing(self, room: int, user: int, name: str) -> bool:
        try:
            return bool(await self.redis.zrem(_typing_key(room), _member(user, name)))
        except RedisError:
            return False

    async def typing(self, room: int) -> list[Person]:
        try:
            return _people(await self.redis.zrangebyscore(_typing_key(room), time.time(), "+inf"))
        except RedisError:
            return []

    async def expire_typing(self, rooms: set[int]) -> set[int]:
        """Sweep rooms this process serves or saw typing in (a killed process's typers too).

        Raises RedisError while Redis is away.
        """
        now = time.time()
        candidates = list(self._typing_rooms | rooms)
        if not candidates:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for room in candidates:
                pipe.zrangebyscore(_typing_key(room), "-inf", now)
                pipe.zcard(_typing_key(room))
            found = await pipe.execute()
        stale = {room: found[2 * i] for i, room in enumerate(candidates) if found[2 * i]}
        for i, room in enumerate(candidates):
            if found[2 * i + 1] == len(found[2 * i]):  # nothing left once the stale go
                self._typing_rooms.discard(room)
        if not stale:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for room, members in stale.items():
                pipe.zrem(_typing_key(room), *members)
            removed = await pipe.execute()
        # Only the process whose ZREM removes an entry announces the change.
        return {room for room, count in zip(stale, removed, strict=True) if count}
