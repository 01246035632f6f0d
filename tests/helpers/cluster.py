"""Scale-out on one machine: several real `python -m webchat serve` processes sharing PostgreSQL and
Redis, a private redis-server a test may kill and restart, a TCP proxy a test may cut (PostgreSQL
unreachable), and a browser-like user that may talk to any of the processes.

Nothing is mocked: every byte goes over loopback sockets between real processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.live import ROOT, LiveServer, LiveUser, SSEEvent

_MESSAGE_ID = re.compile(r'<li id="m-(\d+)"')
_BODY = re.compile(r'<div class="body" dir="auto"[^>]*>(.*?)</div>', re.S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def webchat_command(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60):
    """Run `python -m webchat ARGS` as the platform would (a fresh process, this checkout)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for name in ("REDIS_URL", "DYNO", "PGSSLMODE"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run([sys.executable, "-m", "webchat", *args], env=full, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate, as Heroku Redis and Heroku Postgres present."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=webchat-test", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=30,
        )
    return cert, key


class RedisServer:
    """A private redis-server on a free port that a test may kill and start again (same port)."""

    def __init__(self, workdir: Path, tls: tuple[Path, Path] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.tls = tls
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        if self.tls:
            return redis.Redis(host="127.0.0.1", port=self.port, ssl=True, ssl_cert_reqs="none",
                               socket_timeout=2)
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self, timeout: float = 10) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no"]
        if self.tls:
            cert, key = self.tls
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert),
                     "--tls-key-file", str(key), "--tls-auth-clients", "no"]
        else:
            args += ["--port", str(self.port)]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.process.returncode}:\n{self.log()}")
            try:
                client = self.client()
                try:
                    if client.ping():
                        return self
                finally:
                    client.close()
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


class TcpProxy:
    """127.0.0.1:port -> target, run by its own thread and event loop.

    Blocking test code (a server starting, a synchronous health poll) never stalls it. `cut()`
    resets every connection and refuses new ones, as a database that went away does; `restore()`
    listens again on the same port. With `tls=(cert, key)` it also terminates PostgreSQL's TLS
    (answering the client's SSLRequest with a self-signed certificate, as Heroku Postgres does) and
    counts which connections asked for it.
    """

    SSL_REQUEST = 80877103
    GSS_REQUEST = 80877104

    def __init__(self, target_port: int, target_host: str = "127.0.0.1",
                 tls: tuple[Path, Path] | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.tls = tls
        self.tls_sessions = 0
        self.plain_sessions = 0
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    def url_for(self, url: str) -> str:
        """The same database URL, through this proxy."""
        return re.sub(r"@[^/]+/", f"@127.0.0.1:{self.port}/", url, count=1)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._cut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def _call(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._transports.add(writer.transport)
        upstream = None
        try:
            first = b""
            if self.tls:
                first = await reader.readexactly(8)
                length, code = struct.unpack("!ii", first)
                while length == 8 and code in (self.SSL_REQUEST, self.GSS_REQUEST):
                    if code == self.SSL_REQUEST:
                        writer.write(b"S")
                        await writer.drain()
                        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                        context.load_cert_chain(*self.tls)
                        await writer.start_tls(context)
                        self._transports.add(writer.transport)
                        self.tls_sessions += 1
                    else:
                        writer.write(b"N")
                        await writer.drain()
                    first = await reader.readexactly(8)
                    length, code = struct.unpack("!ii", first)
                if writer.get_extra_info("sslcontext") is None:
                    self.plain_sessions += 1
            up_reader, upstream = await asyncio.open_connection(*self.target)
            self._transports.add(upstream.transport)
            if first:
                upstream.write(first)
            await asyncio.gather(self._pipe(reader, upstream), self._pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ConnectionError):
            pass
        finally:
            for side in (writer, upstream):
                if side is not None:
                    self._transports.discard(side.transport)
                    side.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            sink.transport.abort()


def spawn(server: LiveServer) -> None:
    """Start a LiveServer's process without waiting for it (LiveServer.start waits)."""
    server.workdir.mkdir(parents=True, exist_ok=True)
    log = open(server.log_path, "ab")
    server.process = subprocess.Popen(
        [sys.executable, "-m", "webchat", "serve"], cwd=server.workdir, env=server.env,
        stdout=log, stderr=subprocess.STDOUT,
    )


def wait_healthy(servers: list[LiveServer], timeout: float = 30) -> None:
    waiting = list(servers)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1) as client:
        while waiting:
            server = waiting[0]
            if server.process.poll() is not None:
                raise RuntimeError(f"server exited {server.process.returncode}:\n{server.log()}")
            try:
                if client.get(server.url + "/healthz").status_code == 200:
                    waiting.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer within {timeout}s:\n{server.log()}")
            time.sleep(0.05)


class Cluster:
    """N webchat processes on N ports sharing one database and one Redis (a load balancer's view)."""

    def __init__(self, count: int, workdir: Path, database_url: str, redis_url: str | None,
                 **env: str) -> None:
        extra = {"WEBCHAT_RATE_LIMITS": "off", **env}
        if redis_url:
            extra["REDIS_URL"] = redis_url
        self.servers = [LiveServer(free_port(), workdir, database_url, **extra) for _ in range(count)]

    def __getitem__(self, index: int) -> LiveServer:
        return self.servers[index]

    def __iter__(self):
        return iter(self.servers)

    def start(self, timeout: float = 30) -> Cluster:
        """Start every process at once, then wait until each answers /healthz with 200."""
        for server in self.servers:
            spawn(server)
        wait_healthy(self.servers, timeout)
        return self

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.servers)) as pool:
            list(pool.map(lambda server: server.stop(), self.servers))

    def logs(self) -> str:
        return "\n".join(f"--- server :{s.port} ---\n{s.log()}" for s in self.servers)


@dataclass(eq=False)
class Stream:
    """An open event stream that keeps every event (for exactly-once checks) and how it ended.

    `ended` is set when the response ends; `error` is None when it ended cleanly (the chunked body
    was terminated properly), or the exception when the connection broke.
    """

    response: httpx.Response
    log: list[SSEEvent] = field(default_factory=list)
    last_id: str | None = None
    comments: int = 0
    error: BaseException | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _cursor: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None

    async def _read(self) -> None:
        event, data, event_id = "message", [], None
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if data:
                        self.log.append(SSEEvent(event, "\n".join(data), event_id))
                        if event_id is not None:
                            self.last_id = event_id
                        self._arrived.set()
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
        except httpx.HTTPError as error:
            self.error = error
        finally:
            self.ended.set()
            self._arrived.set()

    async def next_event(self, timeout: float = 10) -> SSEEvent | None:
        """The next event not yet consumed, or None when the stream has ended."""
        async with asyncio.timeout(timeout):
            while self._cursor >= len(self.log):
                if self.ended.is_set():
                    return None
                self._arrived.clear()
                await self._arrived.wait()
        self._cursor += 1
        return self.log[self._cursor - 1]

    async def until(self, kind: str, predicate=lambda data: True, timeout: float = 10) -> SSEEvent:
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next_event(timeout)
                if event is None:
                    raise AssertionError(f"stream ended before a matching {kind} event")
                if event.event == kind and predicate(event.data):
                    return event

    async def take(self, kind: str, count: int, timeout: float = 10) -> list[SSEEvent]:
        found = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                event = await self.next_event(timeout)
                if event is None:
                    break
                if event.event == kind:
                    found.append(event)
        return found

    async def quiet(self, kind: str, seconds: float) -> list[SSEEvent]:
        """Events of this kind that arrive within `seconds` (to assert that none do)."""
        found = []
        try:
            async with asyncio.timeout(seconds):
                while (event := await self.next_event(seconds + 1)) is not None:
                    if event.event == kind:
                        found.append(event)
        except TimeoutError:
            pass
        return found

    async def seen(self, kind: str, predicate=lambda data: True, timeout: float = 10) -> SSEEvent:
        """The first matching event in the whole log, waiting for it; consumes nothing."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.log:
                    if event.event == kind and predicate(event.data):
                        return event
                if self.ended.is_set():
                    raise AssertionError(f"stream ended before a matching {kind} event")
                self._arrived.clear()
                await self._arrived.wait()

    async def shows(self, kind: str, predicate, timeout: float = 10) -> SSEEvent:
        """Wait until the latest event of this kind (presence, typing: a state) satisfies the
        predicate; consumes nothing."""
        async with asyncio.timeout(timeout):
            while True:
                latest = self.of(kind)
                if latest and predicate(latest[-1].data):
                    return latest[-1]
                if self.ended.is_set():
                    raise AssertionError(f"stream ended before its {kind} matched")
                self._arrived.clear()
                await self._arrived.wait()

    def of(self, *kinds: str) -> list[SSEEvent]:
        """Every event of these kinds received so far, consumed or not."""
        return [event for event in self.log if event.event in kinds]


class Person(LiveUser):
    """One browser (one cookie jar) that may reach any process, as behind a load balancer."""

    async def post_to(self, server: LiveServer, path: str, data: dict | None = None,
                      htmx: bool = False) -> httpx.Response:
        return await self.post(server.url + path, data, htmx=htmx)

    async def say_to(self, server: LiveServer, room: int, body: str, nonce: str | None = None):
        data = {"body": body, **({"nonce": nonce} if nonce else {})}
        response = await self.post_to(server, f"/rooms/{room}/messages", data, htmx=True)
        assert response.status_code in (200, 204), (response.status_code, response.text)
        return response

    @asynccontextmanager
    async def events(self, server: LiveServer, room: int, last_id: str | None = None):
        """The room's event stream on this server, resuming after `last_id` when given."""
        headers = {"Last-Event-ID": last_id} if last_id is not None else {}
        request = self.http.build_request("GET", f"{server.url}/rooms/{room}/events",
                                          headers=headers, timeout=None)
        response = await self.http.send(request, stream=True)
        stream = Stream(response)
        if response.status_code == 200:
            stream._task = asyncio.create_task(stream._read())
        else:
            stream.ended.set()
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


def message_id(data: str) -> int:
    return int(_MESSAGE_ID.search(data).group(1))


def body_text(data: str) -> str | None:
    match = _BODY.search(data)
    return match.group(1).strip() if match else None


def event_ids(events: list[SSEEvent]) -> list[int]:
    return [int(event.id) for event in events]
