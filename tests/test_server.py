"""The server around the app: the front door that serves event streams itself and hands every
other connection to Hypercorn, the Hypercorn parts it drives, and WEB_CONCURRENCY's workers."""

from __future__ import annotations

import asyncio
import inspect
import signal
import time

import httpx
import pytest

from tests.helpers import proc, services
from tests.helpers.live import LiveServer, LiveUser
from tests.helpers.streams import open_stream, stream_request
from webchat.config import ConfigError, load_settings


def test_the_pinned_hypercorn_still_has_what_the_server_drives():
    """webchat/server.py builds Hypercorn's connection handling itself (its own `serve` would own
    the listening socket). These are Hypercorn's internals: if an upgrade moves them, this fails
    here, loudly, instead of the server failing at start."""
    from importlib.metadata import version

    import hypercorn
    from hypercorn.asyncio.lifespan import Lifespan
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.asyncio.worker_context import WorkerContext
    from hypercorn.utils import wrap_app

    assert version("hypercorn") == "0.18.0", hypercorn.__file__
    assert list(inspect.signature(TCPServer).parameters) == [
        "app", "loop", "config", "context", "state", "reader", "writer"]
    assert list(inspect.signature(Lifespan).parameters) == ["app", "config", "loop", "lifespan_state"]
    assert list(inspect.signature(WorkerContext).parameters) == ["max_requests"]
    assert list(inspect.signature(wrap_app).parameters) == ["app", "wsgi_max_body_size", "mode"]
    for name in ("handle_lifespan", "wait_for_startup", "wait_for_shutdown"):
        assert inspect.iscoroutinefunction(getattr(Lifespan, name))
    assert hasattr(WorkerContext(None), "terminated")


@pytest.fixture
def server(free_port, workdir):
    with LiveServer(free_port, workdir, f"sqlite://{workdir / 'door.sqlite3'}") as running:
        yield running


async def _exchange(port: int, data: bytes, chunks: int = 1, pause: float = 0.0, until: bytes = b"\r\n\r\n",
                    timeout: float = 10) -> bytes:
    """Send `data` (in `chunks` pieces, `pause` apart) on a fresh connection; read until `until`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        step = max(1, len(data) // chunks)
        for start in range(0, len(data), step):
            writer.write(data[start:start + step])
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
        received = b""
        async with asyncio.timeout(timeout):
            while until not in received:
                more = await reader.read(65536)
                if not more:
                    break
                received += more
        return received
    finally:
        writer.close()


async def test_a_stream_asked_for_a_byte_at_a_time_is_served_at_the_door(server):
    ana = await LiveUser(server.url, "ana").register()
    try:
        room = await ana.create_room("General")
        request = stream_request(f"/rooms/{room}/events", ana.cookie_header())
        got = await _exchange(server.port, request, chunks=len(request), until=b": connected")
        assert got.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in got.lower()
        assert b"text/event-stream" in got and b"x-accel-buffering: no" in got.lower()
    finally:
        await ana.aclose()


async def test_a_stream_asked_for_after_a_page_on_the_same_connection_is_served_too(server):
    """A browser reuses a kept-alive connection for its EventSource: Hypercorn has that
    connection then, and the ASGI transport serves the stream, with the same answers."""
    ana = await LiveUser(server.url, "ana").register()
    try:
        room = await ana.create_room("General")
        cookie = ana.cookie_header()
        page = stream_request("/healthz", None)
        stream = stream_request(f"/rooms/{room}/events", cookie)
        got = await _exchange(server.port, page + stream, until=b": connected")
        assert got.count(b"HTTP/1.1 200") == 2 and b'"status":"ok"' in got
    finally:
        await ana.aclose()


@pytest.mark.parametrize("request_line", [
    b"POST /events HTTP/1.1",  # not a method a stream takes: the ASGI transport says 405
    b"GET /events HTTP/1.0",  # no chunked bodies in HTTP/1.0: Hypercorn serves it
    b"GET /rooms/1/events/../../events HTTP/1.1",
    b"GET " + b"/events?" + b"x" * 20_000 + b" HTTP/1.1",  # too long for the door
])
async def test_what_the_door_does_not_serve_is_answered_by_hypercorn(server, request_line):
    data = request_line + b"\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    got = await _exchange(server.port, data)
    status = int(got.split(b" ", 2)[1])
    assert 400 <= status < 500, got[:300]
    assert b"Traceback" not in got
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


async def test_a_refusal_at_the_door_is_a_whole_answer(server):
    got = await _exchange(server.port, stream_request("/rooms/7/events", None), until=b"first")
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 Unauthorized") and b"connection: close" in head.lower()
    assert b"content-length: %d" % len(body) in head.lower() and body.startswith(b"Sign in first")
    for name in (b"x-frame-options", b"content-security-policy", b"cache-control: no-store"):
        assert name in head.lower()


def test_web_concurrency_needs_redis_and_postgresql(tmp_path):
    base = {"WEBCHAT_INSTANCE": str(tmp_path), "WEB_CONCURRENCY": "2"}
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_settings({**base, "DATABASE_URL": "postgres://u@h/db"})
    with pytest.raises(ConfigError, match="PostgreSQL"):
        load_settings({**base, "REDIS_URL": "redis://h"})
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        load_settings({**base, "WEB_CONCURRENCY": "lots"})
    settings = load_settings({**base, "REDIS_URL": "redis://h", "DATABASE_URL": "postgres://u@h/db"})
    assert settings.workers == 2
    assert load_settings({"WEBCHAT_INSTANCE": str(tmp_path)}).workers == 1


@pytest.fixture
def empty_postgres(postgres_database):
    services.empty_postgres_database(postgres_database)
    return postgres_database


@pytest.mark.slow
async def test_web_concurrency_serves_one_chat_from_two_processes_on_one_port(
        empty_postgres, redis_url, free_port, workdir):
    server = LiveServer(free_port, workdir, empty_postgres, REDIS_URL=redis_url, WEB_CONCURRENCY="2",
                        WEBCHAT_RATE_LIMITS="off").start()
    try:
        workers = _children(server.process.pid)
        assert len(workers) == 2, workers
        ana = await LiveUser(server.url, "ana").register()
        room = await ana.create_room("General")
        cookie = ana.cookie_header()
        streams = [await open_stream(free_port, f"/rooms/{room}/events", cookie) for _ in range(12)]
        assert all(s.status == 200 for s in streams)
        # The kernel spread them over both workers, and every one hears the message.
        served_by = {pid for pid in workers if proc.server_connections(pid, free_port)}
        assert served_by == set(workers)
        await ana.say(room, "from one of two")
        for stream in streams:
            await stream.events_until(lambda e: e.event == "message" and "from one of two" in e.data, 10)
            stream.close()
        started = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0, server.log()[-3000:]
        assert time.monotonic() - started < 10
        await ana.aclose()
    finally:
        server.stop()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(child) for child in f.read().split()]
