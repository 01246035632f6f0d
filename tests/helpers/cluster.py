"""Scale-out on one machine: several real `python -m webchat serve` processes sharing PostgreSQL and
Redis, a private redis-server a test may kill and restart, a TCP proxy a test may cut (PostgreSQL
unreachable). A person reaches any of the processes with `LiveUser.on(server)`
(tests/helpers/live.py).

Nothing is mocked: every byte goes over loopback sockets between real processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import ssl
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers.live import ROOT, LiveServer, wait_healthy
from tests.helpers.net import free_port


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
        wait_healthy([server.spawn() for server in self.servers], timeout)
        return self

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.servers)) as pool:
            list(pool.map(lambda server: server.stop(), self.servers))

    def logs(self) -> str:
        return "\n".join(f"--- server :{s.port} ---\n{s.log()}" for s in self.servers)
