"""A lean event-stream client on raw sockets, for holding a thousand streams in one process.

No HTTP library: it writes the GET by hand, reads the status line and headers, de-chunks the body
and parses Server-Sent Events itself, so a client can also misbehave on purpose (hang up mid-event,
never read, send its request one byte at a time). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Event:
    event: str
    data: str
    id: int | None
    received: float  # time.monotonic() when the event's last byte was parsed


def request_bytes(path: str, cookie: str | None = None, headers: dict | None = None,
                  host: str = "127.0.0.1") -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: text/event-stream"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def cookie_header(jar) -> str:
    """The Cookie header for an httpx cookie jar (what a browser would send to this host)."""
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def hard_close(sock_or_writer) -> None:
    """Hang up abruptly: SO_LINGER 0 makes close() send RST instead of FIN."""
    sock = sock_or_writer
    if hasattr(sock_or_writer, "get_extra_info"):
        sock = sock_or_writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    if hasattr(sock_or_writer, "transport"):
        sock_or_writer.transport.abort()
    else:
        sock.close()


class SSEParser:
    """Incremental: feed() de-chunked bytes, get complete events back."""

    __slots__ = ("_buffer", "_event", "_data", "_id", "comments", "retry")

    def __init__(self) -> None:
        self._buffer = b""
        self._event = "message"
        self._data: list[str] = []
        self._id: int | None = None
        self.comments = 0
        self.retry: int | None = None

    def feed(self, data: bytes) -> list[Event]:
        self._buffer += data
        events = []
        *lines, self._buffer = self._buffer.split(b"\n")
        now = time.monotonic()
        for raw in lines:
            line = raw.decode("utf-8")
            if line.endswith("\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append(Event(self._event, "\n".join(self._data), self._id, now))
                self._event, self._data, self._id = "message", [], None
            elif line.startswith(":"):
                self.comments += 1
            else:
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "event":
                    self._event = value
                elif name == "data":
                    self._data.append(value)
                elif name == "id":
                    self._id = int(value) if value.isdigit() else None
                elif name == "retry" and value.isdigit():
                    self.retry = int(value)
        return events

    @property
    def in_event_data(self) -> bool:
        """True when some of an event's data lines have arrived, but not the blank line ending it."""
        return bool(self._data)


class ProtocolError(Exception):
    pass


@dataclass
class RawStream:
    """One open event stream. `status` and `headers` once open; then `read_events()`."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""  # the whole body, for a response that is not a stream
    parser: SSEParser = field(default_factory=SSEParser)
    _raw: bytes = b""
    _chunk_left: int = 0  # payload bytes still due in the current chunk
    _crlf_left: int = 0  # bytes of the CRLF after a chunk still due
    ended: bool = False

    @property
    def chunked(self) -> bool:
        return self.headers.get("transfer-encoding", "").lower() == "chunked"

    def _dechunk(self, data: bytes) -> bytes:
        """Payload bytes out of chunked transfer coding; sets `ended` at the last chunk."""
        self._raw += data
        out = []
        raw = self._raw
        pos = 0
        while pos < len(raw):
            if self._chunk_left:
                take = min(self._chunk_left, len(raw) - pos)
                out.append(raw[pos : pos + take])
                pos += take
                self._chunk_left -= take
                if not self._chunk_left:
                    self._crlf_left = 2
                continue
            if self._crlf_left:
                take = min(self._crlf_left, len(raw) - pos)
                pos += take
                self._crlf_left -= take
                continue
            end = raw.find(b"\r\n", pos)
            if end < 0:
                break
            size_text = raw[pos:end].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_text!r}") from None
            pos = end + 2
            if size == 0:
                self.ended = True
                pos = len(raw)
                break
            self._chunk_left = size
        self._raw = raw[pos:]
        return b"".join(out)

    async def read_events(self, max_bytes: int = 65536) -> list[Event] | None:
        """The next batch of complete events (possibly empty); None at the end of the stream."""
        if self.ended:
            return None
        data = await self.reader.read(max_bytes)
        if not data:
            self.ended = True
            return None
        payload = self._dechunk(data) if self.chunked else data
        return self.parser.feed(payload) if payload else []

    async def events_until(self, predicate, timeout: float) -> list[Event]:
        """Read until an event satisfies predicate (returned list ends with it); bounded in time."""
        seen: list[Event] = []
        async with asyncio.timeout(timeout):
            while True:
                batch = await self.read_events()
                if batch is None:
                    raise ProtocolError(f"stream ended before the awaited event; saw {seen!r}")
                for event in batch:
                    seen.append(event)
                    if predicate(event):
                        return seen

    def close(self, abrupt: bool = False) -> None:
        if abrupt:
            hard_close(self.writer)
        else:
            self.writer.close()


async def connect(port: int, host: str = "127.0.0.1", rcvbuf: int | None = None):
    """A connected (reader, writer); with rcvbuf, the receive buffer is set before connecting."""
    if rcvbuf is None:
        return await asyncio.open_connection(host, port, limit=2**20)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return await asyncio.open_connection(sock=sock, limit=2**20)


async def read_head(reader: asyncio.StreamReader, timeout: float = 10) -> tuple[int, dict[str, str]]:
    async with asyncio.timeout(timeout):
        head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def open_stream(port: int, path: str, cookie: str | None = None, headers: dict | None = None,
                      timeout: float = 10, host: str = "127.0.0.1") -> RawStream:
    """Open an event stream; on a non-200 answer the body is read whole (for its status page)."""
    reader, writer = await connect(port, host)
    writer.write(request_bytes(path, cookie, headers, host))
    try:
        status, response_headers = await read_head(reader, timeout)
    except BaseException:
        writer.close()
        raise
    stream = RawStream(reader, writer, status, response_headers)
    if status != 200:
        try:
            async with asyncio.timeout(timeout):
                if "content-length" in response_headers:
                    stream.body = await reader.readexactly(int(response_headers["content-length"]))
                else:
                    while (batch := await reader.read(65536)):
                        stream.body += stream._dechunk(batch) if stream.chunked else batch
                        if stream.ended:
                            break
        finally:
            writer.close()
        stream.ended = True
    return stream


def fd_count(pid: int) -> int:
    """Open file descriptors of a process, counted from outside through /proc."""
    import os

    return len(os.listdir(f"/proc/{pid}/fd"))


def server_connections(pid: int, port: int) -> dict[int, str]:
    """The process's TCP connections on its listening `port`, as {peer port: state}, read from
    outside through /proc (state: 01 established, 08 close-wait, ...; listening sockets left out)."""
    import os

    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
                    if state == "0A" or inode not in inodes or int(local.rsplit(":", 1)[1], 16) != port:
                        continue
                    found[int(remote.rsplit(":", 1)[1], 16)] = state
        except FileNotFoundError:
            continue
    return found


def local_port(stream) -> int:
    writer = stream.writer if hasattr(stream, "writer") else stream
    return writer.get_extra_info("sockname")[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll predicate() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return bool(value)
        await asyncio.sleep(interval)
