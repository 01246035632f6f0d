"""The floor: the least any Python server on this machine can do for the same fan-out.

`python -m bench.floor PORT` is a bare asyncio server, no framework, no database. A GET of a path
ending in /events is a stream: it gets the response head and the same opening events webchat
sends (so the bench's client takes it for ready); it is then held. A POST takes the form's `body`
and writes one pre-framed chunk, the size of webchat's message event, straight to every held
stream's transport in one loop, then answers 200. Any other GET answers a small page with a
CSRF-token meta tag (the bench's client reads one before it posts). The bench runs it beside
webchat in the same run and prints each of webchat's figures as a ratio to it.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import parse_qs

import uvloop

HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")
OPENING = b"retry: 2000\n: connected\n\nevent: presence\ndata: <p>Here now</p>\n\nevent: typing\ndata: \n\n"
PAGE = b'<!doctype html><meta name="csrf-token" content="floor"><title>floor</title>'
# webchat's message event for the same body is about this long (its fragment, framed once).
MESSAGE_BYTES = 1000


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


class Floor(asyncio.Protocol):
    streams: set[asyncio.Transport] = set()
    last_id = 0

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        Floor.streams.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            method, target = head.split(b" ", 2)[:2]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            if method == b"GET" and target.split(b"?")[0].endswith(b"/events"):
                self.transport.write(HEAD + chunk(OPENING))
                Floor.streams.add(self.transport)
                return
            if method == b"POST":
                self.broadcast(parse_qs(body.decode()).get("body", [""])[0].encode())
                self.answer(b"")
            else:
                self.answer(PAGE)

    def broadcast(self, text: bytes) -> None:
        Floor.last_id += 1
        data = b"<li>" + text + b"</li>"
        data += b"x" * max(0, MESSAGE_BYTES - len(data))
        framed = chunk(b"event: message\nid: %d\ndata: %b\n\n" % (Floor.last_id, data))
        for transport in Floor.streams:  # the whole fan-out: one write per subscriber
            transport.write(framed)

    def answer(self, body: bytes) -> None:
        self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: %d\r\n"
                             b"set-cookie: floor=1\r\n\r\n%b" % (len(body), body))


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Floor, "127.0.0.1", port, backlog=2048)
    print(f"floor: serving on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
