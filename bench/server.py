"""Real webchat server processes for the benchmark, and the databases they use.

Each server is `python -m webchat serve` in its own process, with its open-file limit raised, in a
temporary directory. Everything started here is stopped by `stop()` (and, as a backstop, at exit),
so a failed run leaves no process or database behind.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import proc
from tests.helpers.http1 import HTTPConnection
from tests.helpers.net import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
_LIVE: set[subprocess.Popen] = set()


def _kill_leftovers() -> None:
    for process in list(_LIVE):
        if process.poll() is None:
            process.kill()
            process.wait()


atexit.register(_kill_leftovers)


def _raise_limit() -> None:  # runs in the child between fork and exec
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Server:
    """One `python -m webchat serve` process on a port of 127.0.0.1."""

    def __init__(self, workdir: Path, database_url: str, redis_url: str | None = None,
                 name: str = "server", command: list[str] | None = None, root: Path = ROOT,
                 **env: str) -> None:
        self.port = free_port()
        self.name = name
        self.workdir = workdir
        self.command = command or [PYTHON, "-m", "webchat", "serve"]
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-" + secrets.token_hex(16),
            "WEBCHAT_ENV": "development",
            "WEBCHAT_RATE_LIMITS": "off",
            "WEBCHAT_INSTANCE": str(workdir / "instance"),
            "PYTHONPATH": str(root),
            **env,
        }
        self.env.pop("DYNO", None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.log_path = workdir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def share_secret_with(self, other: Server) -> None:
        """Two processes of one chat must sign cookies alike."""
        self.env["SECRET_KEY"] = other.env["SECRET_KEY"]

    async def start(self, timeout: float = 60) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_raise_limit, start_new_session=True,
            )
        _LIVE.add(self.process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                conn = HTTPConnection("127.0.0.1", self.port)
                response = await conn.request("GET", "/healthz", timeout=2)
                await conn.aclose()
                if response.status_code == 200:
                    return self
            except (OSError, asyncio.TimeoutError, ConnectionError):
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_kib(self) -> int:
        return proc.rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        """The process's CPU time, and its worker processes' (WEB_CONCURRENCY) too."""
        return sum(proc.cpu_seconds(pid) for pid in self.pids())

    def pids(self) -> list[int]:
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return [self.pid] + [int(child) for child in f.read().split()]
        except OSError:
            return [self.pid]

    def rss_tree_kib(self) -> int:
        return sum(proc.rss_kib(pid) for pid in self.pids())

    def stop(self, timeout: float = 20) -> int | None:
        process = self.process
        if process is None:
            return None
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            return process.returncode
        finally:
            _LIVE.discard(process)


def migrate(database_url: str, workdir: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "WEBCHAT_INSTANCE": str(workdir / "instance"), "SECRET_KEY": "bench-migrate"}
    env.pop("REDIS_URL", None)
    subprocess.run([PYTHON, "-m", "webchat", "migrate"], cwd=workdir, env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


class PostgresDatabase:
    """A database created for one run and dropped after it, even when the run fails."""

    def __init__(self, admin_url: str = "postgres://postgres@127.0.0.1:5432/postgres") -> None:
        self.admin_url = admin_url
        self.name = f"webchat_bench_{os.getpid()}_{secrets.token_hex(3)}"
        base = admin_url.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    async def create(self) -> PostgresDatabase:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


async def flush_redis(url: str) -> None:
    """Empty the benchmark's own Redis database (only that one: FLUSHDB, not FLUSHALL)."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
