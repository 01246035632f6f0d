"""An open event stream through the Quart test client: the stream's generator runs in this process.

A different transport from tests/helpers/streams.py (no socket, no Hypercorn, the body already
de-chunked), for tests that look inside the process while a stream is open (its tasks, the hub,
presence); its bytes are parsed by the same SSE parser.
"""

from __future__ import annotations

import asyncio

from tests.helpers.sse import Event, SSEParser


class Tab:
    """One room tab's stream, opened by a `Browser` (tests/helpers/browser.py); `data` holds every
    byte received so far, `events()` what they said."""

    def __init__(self, browser, path: str) -> None:
        self.browser, self.path = browser, path
        self.data = b""

    async def __aenter__(self):
        self._context = self.browser.client.request(self.path, method="GET")
        self.connection = await self._context.__aenter__()
        await self.connection.send_complete()
        await self.read_until(b"connected")
        return self

    async def read_until(self, marker: bytes, timeout: float = 5) -> bytes:
        async with asyncio.timeout(timeout):
            while marker not in self.data:
                self.data += await self.connection.receive()
        return self.data

    async def __aexit__(self, *exc):
        await self.connection.disconnect()
        try:
            await self._context.__aexit__(None, None, None)
        except Exception:
            pass

    def events(self) -> list[Event]:
        """Every complete event read so far."""
        return SSEParser().feed(self.data)
