"""HTTP/1.1 by hand on asyncio sockets: requests written as bytes, responses read back, chunked
bodies undone, one keep-alive connection at a time.

The tests, the soak and the benchmark all speak HTTP through this module (tests/helpers/live.py
builds its users on it, tests/helpers/streams.py and bench/sse.py their event streams). No HTTP
library: the benchmark must measure the server, not a client library, and a test may need to
misbehave on the wire in ways a library would not let it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


class ProtocolError(Exception):
    """The server's bytes are not HTTP/1.1 as we expect them."""


# What a request may fail with on the way: a refused, reset or closed connection, a timeout.
NETWORK_ERRORS = (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError)


class Headers:
    """A response's headers: names compared without case, repeated names kept in order."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items  # (lower-case name, value)

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.items:
            if key == name:
                return value
        return default

    def get_list(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.items if key == name]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __repr__(self) -> str:
        return f"Headers({self.items!r})"


@dataclass
class Response:
    status_code: int
    headers: Headers
    content: bytes
    elapsed: float = 0.0  # seconds from writing the request to the end of the body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def encode_request(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                   body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_head(head: bytes) -> tuple[int, Headers]:
    """The status and headers of a response head (its bytes up to the blank line)."""
    status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {status_line!r}")
    items = []
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            items.append((name.strip().lower(), value.strip()))
    return int(parts[1]), Headers(items)


async def read_head(reader: asyncio.StreamReader, timeout: float = 30) -> tuple[int, Headers]:
    async with asyncio.timeout(timeout):
        return parse_head(await reader.readuntil(b"\r\n\r\n"))


def is_chunked(headers: Headers) -> bool:
    return (headers.get("transfer-encoding") or "").lower() == "chunked"


class ChunkedDecoder:
    """Chunked transfer coding undone as the bytes arrive: feed() them in any pieces, get the
    payload back. `done` once the last chunk and its trailer have passed; `rest` then holds any
    bytes that came after them."""

    __slots__ = ("_pending", "_left", "_crlf", "_trailer", "done", "rest")

    def __init__(self) -> None:
        self._pending = b""  # an incomplete size or trailer line
        self._left = 0  # payload bytes still due in the current chunk
        self._crlf = 0  # bytes of the CRLF after a chunk's payload still due
        self._trailer = False  # past the last (zero-size) chunk
        self.done = False
        self.rest = b""

    def feed(self, data: bytes) -> bytes:
        raw = self._pending + data if self._pending else data
        self._pending = b""
        out = []
        pos, end = 0, len(raw)
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                out.append(raw[pos:pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._crlf = 2
            elif self._crlf:
                take = min(self._crlf, end - pos)
                pos += take
                self._crlf -= take
            else:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    self._pending = raw[pos:]
                    break
                line = raw[pos:eol]
                pos = eol + 2
                if self._trailer:
                    if not line:  # the blank line after the trailer fields: the body is over
                        self.done, self.rest = True, raw[pos:]
                        break
                    continue
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size line {line[:80]!r}") from None
                if size:
                    self._left = size
                else:
                    self._trailer = True
        return out[0] if len(out) == 1 else b"".join(out)


async def read_body(reader: asyncio.StreamReader, headers: Headers, read_size: int = 65536) -> tuple[bytes, bool]:
    """The whole body after a head: (body, whether the connection may be used again)."""
    if is_chunked(headers):
        decoder, parts = ChunkedDecoder(), []
        while not decoder.done:
            data = await reader.read(read_size)
            if not data:
                raise ProtocolError("the connection closed inside a chunked body")
            parts.append(decoder.feed(data))
        if decoder.rest:
            raise ProtocolError(f"bytes after the response: {decoder.rest[:80]!r}")
        return b"".join(parts), True
    length = headers.get("content-length")
    if length is not None:
        return await reader.readexactly(int(length)), True
    return await reader.read(), False  # the body ends where the connection does


class HTTPConnection:
    """One keep-alive connection to host:port; requests on it take turns (one at a time)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._turn = asyncio.Lock()

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"", timeout: float = 30) -> Response:
        async with self._turn, asyncio.timeout(timeout):
            if self.writer is None or self.writer.is_closing() or self.reader.at_eof():
                if self.writer is not None:  # the server closed it while it was idle
                    self.writer.close()
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            started = time.perf_counter()
            try:
                self.writer.write(encode_request(method, path, f"{self.host}:{self.port}", headers, body))
                status, response_headers = parse_head(await self.reader.readuntil(b"\r\n\r\n"))
                keep = True
                content = b""
                if method != "HEAD" and status not in (204, 304) and status >= 200:
                    content, keep = await read_body(self.reader, response_headers)
            except BaseException:
                await self.aclose()
                raise
            response = Response(status, response_headers, content, time.perf_counter() - started)
            if not keep or (response_headers.get("connection") or "").lower() == "close":
                await self.aclose()
            return response
