"""Per-process housekeeping: typing that expires, presence kept fresh across processes.

Once a second: expired typing is swept (by any process serving the room, so a killed process's
typers go too). Every PRESENCE_REFRESH seconds: this process renews its presence entries and drops
expired ones in the rooms it serves, announcing rooms whose set of people changed.
"""

from __future__ import annotations

import asyncio
import logging
import math

from webchat.live import publish, sse, state

log = logging.getLogger("webchat.background")
TICK_SECONDS = 1.0


async def _heartbeats(rt, tick: int) -> None:
    """One sweep a tick over a slice of the streams (each stream once a period), instead of a
    timer per stream per wait, and spread out instead of all at once; the same slice is audited
    (each open stream re-checked once a period)."""
    parts = max(1, round(sse.HEARTBEAT_SECONDS / TICK_SECONDS))
    due = rt.hub.heartbeat(tick % parts, parts)
    if due and rt.auditor is not None:
        await rt.auditor(rt, due)


def start(app, rt) -> None:
    rt.spawn(_housekeeping(app, rt))


async def _housekeeping(app, rt) -> None:
    tick = 0
    failing = False
    while not rt.stopping.is_set():
        try:
            async with asyncio.timeout(TICK_SECONDS):
                await rt.stopping.wait()
            return  # a stopping process's viewers are reconnecting elsewhere: renew nothing
        except TimeoutError:
            pass
        tick += 1
        every = max(1, math.floor(state.PRESENCE_REFRESH / TICK_SECONDS))
        try:
            await _heartbeats(rt, tick)
            rooms = rt.hub.rooms()
            for room in await rt.state.expire_typing(rooms):
                await publish.typing(room, rt)
            if tick % every == 0:
                for room in await rt.state.refresh(rooms):
                    await publish.presence(room, rt)
        except Exception as error:  # Redis away for a moment: try again next tick
            if not failing:
                log.warning("housekeeping failed (retrying every second): %s", error)
            failing = True
        else:
            if failing:
                log.info("housekeeping works again")
            failing = False
