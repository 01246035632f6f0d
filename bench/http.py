"""A small HTTP/1.1 client on asyncio streams: keep-alive, Content-Length and chunked bodies, cookies.

Lean on purpose: the benchmark must measure the server, not an HTTP library.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

_TOKEN = re.compile(rb'<meta name="csrf-token" content="([^"]+)">')
PASSWORD = "bench-password-1234"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float = 0.0  # seconds from writing the request to the end of the body

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def cookies(self) -> dict[str, str]:
        found = {}
        for key, value in self.headers:
            if key == "set-cookie":
                pair = value.split(";", 1)[0]
                k, _, v = pair.partition("=")
                found[k.strip()] = v.strip().strip('"')
        return found


class HTTPConnection:
    """One keep-alive connection; requests on it run one at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (OSError, ConnectionError):
                pass
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"", timeout: float = 30) -> Response:
        async with asyncio.timeout(timeout):
            return await self._request(method, path, headers or {}, body)

    async def _request(self, method, path, headers, body) -> Response:
        if self.writer is None or self.writer.is_closing():
            await self._connect()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        started = time.perf_counter()
        try:
            self.writer.write(head + body)
            response = await self._read_response(method)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            raise
        response.elapsed = time.perf_counter() - started
        if (response.header("connection") or "").lower() == "close":
            await self.close()
        return response

    async def _read_response(self, method: str) -> Response:
        reader = self.reader
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = []
        for line in header_lines:
            if line:
                k, _, v = line.partition(":")
                headers.append((k.strip().lower(), v.strip()))
        response = Response(status, headers, b"")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return response
        length = response.header("content-length")
        if (response.header("transfer-encoding") or "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers from Hypercorn
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            response.body = b"".join(parts)
        elif length is not None:
            response.body = await reader.readexactly(int(length))
        else:
            response.body = await reader.read()
            await self.close()
        return response


@dataclass
class User:
    """A person with a cookie jar and a CSRF token, on one keep-alive connection."""

    host: str
    port: int
    username: str
    cookies: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    conn: HTTPConnection | None = None

    def __post_init__(self) -> None:
        self.conn = HTTPConnection(self.host, self.port)

    def on(self, port: int) -> User:
        """The same person (same cookies) talking to another server process."""
        return User(self.host, port, self.username, dict(self.cookies), self.token)

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def close(self) -> None:
        await self.conn.close()

    async def request(self, method: str, path: str, form: dict | None = None, htmx: bool = False,
                      timeout: float = 30) -> Response:
        headers = {}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = b""
        if method == "POST":
            if self.token is None:
                await self.page("/login")
            headers["X-CSRF-Token"] = self.token
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form or {}).encode()
        if htmx:
            headers["HX-Request"] = "true"
        try:
            response = await self.conn.request(method, path, headers, body, timeout)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed an idle keep-alive connection: one retry on a new one. Posts carry
            # a nonce, so a retried post can never create a second message.
            response = await self.conn.request(method, path, headers, body, timeout)
        self.cookies.update(response.cookies())
        return response

    async def page(self, path: str) -> Response:
        response = await self.request("GET", path)
        if match := _TOKEN.search(response.body):
            self.token = match.group(1).decode()
        return response

    async def register(self) -> User:
        r = await self.request("POST", "/register", {"username": self.username, "password": PASSWORD,
                                                     "display_name": self.username.title()})
        if r.status != 303 or not any(name.endswith("webchat_session") for name in self.cookies):
            raise RuntimeError(f"register {self.username}: {r.status} {r.body[:500]!r}")
        return self

    async def create_room(self, name: str) -> int:
        r = await self.request("POST", "/rooms", {"name": name, "visibility": "public"})
        if r.status != 303:
            raise RuntimeError(f"create room: {r.status} {r.body[:500]!r}")
        return int(r.header("location").rsplit("/", 1)[1])

    async def join(self, room: int) -> None:
        r = await self.request("POST", f"/rooms/{room}/join")
        if r.status != 303:
            raise RuntimeError(f"join room {room}: {r.status} {r.body[:500]!r}")

    async def say(self, room: int, body: str, nonce: str, timeout: float = 30) -> Response:
        """An htmx post, as the composer sends it (200 with a fresh composer)."""
        return await self.request("POST", f"/rooms/{room}/messages", {"body": body, "nonce": nonce},
                                  htmx=True, timeout=timeout)
