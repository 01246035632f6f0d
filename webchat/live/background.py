"""Per-process housekeeping: typing that expires, presence kept fresh across processes."""

from __future__ import annotations

import asyncio
import logging

from webchat.live import publish

log = logging.getLogger("webchat.background")
TICK_SECONDS = 1.0
PRESENCE_EVERY = 5  # ticks


def start(app, rt) -> None:
    rt.spawn(_housekeeping(app, rt))


async def _housekeeping(app, rt) -> None:
    tick = 0
    while not rt.stopping.is_set():
        await asyncio.sleep(TICK_SECONDS)
        tick += 1
        try:
            rooms = rt.hub.rooms()
            for room in await rt.state.expire_typing(rooms):
                await publish.typing(room, rt)
            if tick % PRESENCE_EVERY == 0:
                for room in await rt.state.refresh(rooms):
                    await publish.presence(room, rt)
        except Exception as error:  # Redis away for a moment: try again next tick
            log.warning("housekeeping failed: %s", error)
