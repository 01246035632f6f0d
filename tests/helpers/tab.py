"""An open event stream through the Quart test client (the stream's generator runs in this process)."""

from __future__ import annotations

import asyncio


class Tab:
    """An open event stream through the Quart test client (the generator runs in this process)."""

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

    def events(self) -> list[tuple[str, str, str | None]]:
        """(event, data, id) for every complete event read so far."""
        out = []
        for block in self.data.decode("utf-8").split("\n\n")[:-1]:
            event, data, event_id = "message", [], None
            for line in block.split("\n"):
                name, _, value = line.partition(": ")
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    event_id = value
            if data:
                out.append((event, "\n".join(data), event_id))
        return out
