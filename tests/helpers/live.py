"""A real `python -m webchat serve` process, real HTTP users, and an SSE client that parses the wire.

Nothing here is mocked: requests go over loopback sockets to Hypercorn.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.browser import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class LiveServer:
    def __init__(self, port: int, workdir: Path, database_url: str, **env: str) -> None:
        self.port = port
        self.workdir = workdir
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "live-test-secret",
            "WEBCHAT_ENV": "development",
            "WEBCHAT_INSTANCE": str(workdir / "instance"),
            "PYTHONPATH": str(ROOT),
            **env,
        }
        if "REDIS_URL" not in env:
            self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"server-{port}.log"

    def start(self, timeout: float = 30) -> LiveServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webchat", "serve"], cwd=self.workdir, env=self.env,
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop(signal.SIGKILL if exc[0] else signal.SIGTERM)


@dataclass
class SSEEvent:
    event: str
    data: str
    id: str | None = None


@dataclass
class SSEStream:
    """An open event stream: `next()` returns the next event (comments are counted, not returned)."""

    response: httpx.Response
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    comments: int = 0
    retry: int | None = None
    last_id: str | None = None
    _task: asyncio.Task | None = None

    async def _read(self) -> None:
        event, data, event_id = "message", [], None
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if data:
                        self.events.put_nowait(SSEEvent(event, "\n".join(data), event_id))
                        if event_id is not None:
                            self.last_id = event_id
                    event, data, event_id = "message", [], None
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        event_id = value
                    elif name == "retry":
                        self.retry = int(value)
        except (httpx.HTTPError, asyncio.CancelledError):
            pass
        finally:
            self.events.put_nowait(None)  # end of stream

    async def next(self, timeout: float = 5, skip: tuple[str, ...] = ()) -> SSEEvent | None:
        while True:
            async with asyncio.timeout(timeout):
                event = await self.events.get()
            if event is None or event.event not in skip:
                return event

    async def collect(self, kind: str, count: int, timeout: float = 10) -> list[SSEEvent]:
        found = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                event = await self.events.get()
                if event is None:
                    break
                if event.event == kind:
                    found.append(event)
        return found

    async def until(self, kind: str, predicate, timeout: float = 10) -> SSEEvent:
        """The first event of this kind whose data satisfies the predicate."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if event is None:
                    raise AssertionError(f"stream ended before a matching {kind}")
                if event.event == kind and predicate(event.data):
                    return event

    async def quiet(self, kind: str, seconds: float) -> list[SSEEvent]:
        """Events of this kind that arrive within `seconds` (for asserting that none do)."""
        found = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    event = await self.events.get()
                    if event is None:
                        break
                    if event.event == kind:
                        found.append(event)
        except TimeoutError:
            pass
        return found


class LiveUser:
    """A person with a cookie jar, talking to a live server over HTTP."""

    def __init__(self, base_url: str, username: str) -> None:
        self.username = username
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=15)
        self.token: str | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def page(self, path: str) -> httpx.Response:
        response = await self.http.get(path)
        if match := _TOKEN.search(response.text):
            self.token = match.group(1)
        return response

    async def post(self, path: str, data: dict | None = None, htmx: bool = False) -> httpx.Response:
        if self.token is None:
            await self.page("/login")
        headers = {"X-CSRF-Token": self.token}
        if htmx:
            headers["HX-Request"] = "true"
        return await self.http.post(path, data=data or {}, headers=headers)

    async def register(self, display_name: str = "") -> LiveUser:
        response = await self.post(
            "/register", {"username": self.username, "password": PASSWORD, "display_name": display_name}
        )
        assert response.status_code == 303, response.text
        return self

    async def login(self) -> LiveUser:
        response = await self.post("/login", {"username": self.username, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return self

    async def create_room(self, name: str, visibility: str = "public") -> int:
        response = await self.post("/rooms", {"name": name, "visibility": visibility})
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    async def say(self, room: int, body: str, nonce: str | None = None) -> httpx.Response:
        data = {"body": body}
        if nonce:
            data["nonce"] = nonce
        response = await self.post(f"/rooms/{room}/messages", data, htmx=True)
        assert response.status_code in (200, 204), response.text
        return response

    @asynccontextmanager
    async def stream(self, path: str, headers: dict | None = None):
        request = self.http.build_request("GET", path, headers=headers or {}, timeout=None)
        response = await self.http.send(request, stream=True)
        stream = SSEStream(response)
        if response.status_code == 200:
            stream._task = asyncio.create_task(stream._read())
        try:
            yield stream
        finally:
            if stream._task:
                stream._task.cancel()
                try:
                    await stream._task
                except asyncio.CancelledError:
                    pass
            await response.aclose()


def message_id(fragment: str) -> int:
    return int(re.search(r'<li id="m-(\d+)"', fragment).group(1))
