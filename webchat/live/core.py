"""The live transport of one process: its open streams (the hub), how events reach the other
processes (the broker), the shared expiring state (presence, typing), and the housekeeping that
keeps them right: heartbeats, expiry, and the rebuild after a Redis outage.

It knows nothing of rooms or messages: where it needs the layer above (to publish a change of
presence, to check that open streams may still read, to republish unread numbers), it calls the
hooks that layer gave it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from webchat.live import sse
from webchat.live.broker import Broker, LocalBroker, RedisBroker, redis_client
from webchat.live.feed import Subscriber
from webchat.live.hub import Hub
from webchat.live.state import PRESENCE_REFRESH, LocalState, RedisState, State

log = logging.getLogger("webchat.live")

TICK_SECONDS = 1.0
# How long a stopping process waits for its short tasks (announcing departures, flushing read
# markers) before cancelling them.
STOP_GRACE_SECONDS = 3.0
REBUILD_ATTEMPTS = 4
PRESENCE_SETTLE_SECONDS = PRESENCE_REFRESH + 0.5


async def _nothing(*_) -> None:
    return None


@dataclass
class Hooks:
    """What the transport asks of the layer above (given by create_app)."""

    presence_changed: Callable[[int], Awaitable[None]] = _nothing  # a room's set of people
    typing_changed: Callable[[int], Awaitable[None]] = _nothing  # a room's set of typers
    unread_stale: Callable[[set[int]], Awaitable[None]] = _nothing  # republish these rooms' numbers
    audit: Callable[[list[Subscriber]], Awaitable[None]] = _nothing  # may these streams still read?


class Live:
    def __init__(self, redis_url: str | None) -> None:
        self.hub = Hub()
        self.stopping = asyncio.Event()
        self.hooks = Hooks()
        self.tasks: set[asyncio.Task] = set()
        self._rebuilding: asyncio.Task | None = None
        self.broker: Broker
        self.state: State
        if redis_url:
            self.redis = redis_client(redis_url)
            broker = RedisBroker(self.hub, self.redis)
            broker.on_resubscribed = self._resubscribed
            self.broker, self.state = broker, RedisState(self.redis)
        else:
            self.redis = None
            self.broker, self.state = LocalBroker(self.hub), LocalState()

    async def start(self) -> None:
        await self.broker.start()
        self.spawn(self._end_streams_when_stopping())
        self.spawn(self._housekeeping())

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
        self.state.closing()

    async def _end_streams_when_stopping(self) -> None:
        await self.stopping.wait()
        self._begin_stopping()
        log.info("stopping: ending %d open streams", self.hub.count)
        self.hub.close_all("shutdown")

    # Housekeeping -------------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Once a second: heartbeats and the audit for a slice of the streams, expired typing
        swept (by any process serving the room, so a killed process's typers go too). Every
        PRESENCE_REFRESH seconds: this process renews its presence entries and drops expired ones
        in the rooms it serves, announcing rooms whose set of people changed."""
        tick = 0
        failing = False
        while not self.stopping.is_set():
            try:
                async with asyncio.timeout(TICK_SECONDS):
                    await self.stopping.wait()
                return  # a stopping process's viewers are reconnecting elsewhere: renew nothing
            except TimeoutError:
                pass
            tick += 1
            every = max(1, math.floor(PRESENCE_REFRESH / TICK_SECONDS))
            try:
                await self._heartbeats(tick)
                rooms = self.hub.rooms()
                for room in await self.state.expire_typing(rooms):
                    await self.hooks.typing_changed(room)
                if tick % every == 0:
                    for room in await self.state.refresh(rooms):
                        await self.hooks.presence_changed(room)
            except Exception as error:  # Redis away for a moment: try again next tick
                if not failing:
                    log.warning("housekeeping failed (retrying every second): %s", error)
                failing = True
            else:
                if failing:
                    log.info("housekeeping works again")
                failing = False

    async def _heartbeats(self, tick: int) -> None:
        """A heartbeat for one slice of the streams a tick (each stream once a period), instead
        of a timer per stream, spread out instead of all at once; the same slice is audited."""
        parts = max(1, round(sse.HEARTBEAT_SECONDS / TICK_SECONDS))
        due = self.hub.heartbeat(tick % parts, parts)
        if due:
            await self.hooks.audit(due)

    # After a Redis outage -----------------------------------------------------------------------

    def _resubscribed(self) -> None:
        """The broker is subscribed again after losing Redis (see RedisBroker)."""
        if self._rebuilding is not None:
            self._rebuilding.cancel()  # one rebuild at a time: the newest
        if not self.stopping.is_set():
            self._rebuilding = self.spawn(self._rebuild_shared_state())

    async def _rebuild_shared_state(self) -> None:
        """Re-add this process's presence, then republish what may be stale.

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
        await self.state.refresh(self.hub.rooms())
        for room in sorted(self.hub.rooms()):
            await self.hooks.typing_changed(room)  # typing a fresh Redis lost: nobody, until they type
        if unread := self.hub.unread_rooms():
            await self.hooks.unread_stale(unread)
        # Presence waits until every live process has renewed its entries (each does so every
        # PRESENCE_REFRESH seconds), so that pages do not briefly show half the room.
        await asyncio.sleep(PRESENCE_SETTLE_SECONDS)
        await self.state.refresh(self.hub.rooms())
        for room in sorted(self.hub.rooms()):
            await self.hooks.presence_changed(room)
