"""Slow and hostile clients against a real server: a reader that never reads, a user opening
streams far past the cap, slowloris sockets, and a stuck reader during shutdown.

Every number these tests measure is printed (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import statistics
import time

import pytest

from tests.helpers import net, proc
from tests.helpers.live import LiveServer, LiveUser
from tests.helpers.streams import RawStream, open_stream, stream_request
from webchat import server as server_module
from webchat import streams

_TOKEN = re.compile(r"tok:(\w+)")
FILLER = "y" * 3000


def never_reading_socket(port: int, request: bytes) -> socket.socket:
    """A client that sends its request and then never reads: a tiny receive buffer fills at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request)
    return sock


class Readers:
    """Streams that do read, timing when each message reaches each of them."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.presence: list[tuple[float, str]] = []
        self.tasks: list[asyncio.Task] = []
        self.streams: list[RawStream] = []

    async def open(self, port: int, path: str, cookie: str, count: int) -> None:
        for _ in range(count):
            stream = await open_stream(port, path, cookie)
            assert stream.status == 200
            self.streams.append(stream)
            self.tasks.append(asyncio.create_task(self._read(stream, len(self.streams) == 1)))

    async def _read(self, stream: RawStream, first: bool) -> None:
        while (batch := await stream.read_events()) is not None:
            for event in batch:
                if event.event == "message" and (token := _TOKEN.search(event.data)):
                    self.arrivals.setdefault(token.group(1), []).append(event.received)
                elif event.event == "presence" and first:
                    self.presence.append((event.received, event.data))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for stream in self.streams:
            stream.close(abrupt=True)


async def post_paced(user: LiveUser, room: int, count: int, rate: float, tag: str) -> dict[str, float]:
    """Post `count` messages at `rate` a second; returns token -> when its post was sent."""
    sent = {}
    start = time.monotonic()
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        token = f"{tag}{n}"
        sent[token] = time.monotonic()
        await user.say(room, f"tok:{token} {FILLER}")
    return sent


def latencies(sent: dict[str, float], readers: Readers, expected_readers: int) -> list[float]:
    out = []
    for token, at in sent.items():
        arrivals = readers.arrivals.get(token, [])
        assert len(arrivals) == expected_readers, (token, len(arrivals))  # nothing lost, once each
        out.extend(arrival - at for arrival in arrivals)
    return out


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))],
            "max": ordered[-1]}


@pytest.fixture
def open_server(free_port, workdir):
    """A real server without rate limits (the hostile tests post fast), stopped at the end."""
    servers = []

    def start(**env) -> LiveServer:
        server = LiveServer(free_port, workdir, f"sqlite://{workdir / 'hostile.sqlite3'}", **env).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(signal.SIGKILL)


class Slowloris:
    """Sockets that send a request head a byte at a time and never finish it, or send nothing."""

    def __init__(self) -> None:
        self.sockets: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.task: asyncio.Task | None = None
        self.opened_at = 0.0

    async def open(self, port: int, count: int) -> None:
        self.opened_at = time.monotonic()
        for n in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if n % 3:
                writer.write(b"GET /rooms HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            self.sockets.append((reader, writer))
        self.task = asyncio.create_task(self._trickle())

    async def _trickle(self) -> None:
        while True:
            for n, (_, writer) in enumerate(self.sockets):
                if n % 3 and not writer.is_closing():
                    writer.write(b"X")
            await asyncio.sleep(0.5)

    async def closed_by_server(self) -> int:
        closed = 0
        for reader, _ in self.sockets:
            try:
                async with asyncio.timeout(0.01):
                    data = await reader.read(1024)
                closed += data == b"" or reader.at_eof()
            except TimeoutError:
                pass
            except (ConnectionError, OSError):
                closed += 1
        return closed

    def close(self) -> None:
        if self.task:
            self.task.cancel()
        for _, writer in self.sockets:
            net.hard_close(writer)


@pytest.mark.slow
async def test_hostile_clients_are_cut_off_without_slowing_anyone(open_server, free_port):
    """Two kinds of hostile client at once, while ten streams that do read are measured:

    - a stream that never reads: it is cut off (the server drops its socket; its user leaves the
      room's presence) once it has left data unread for UNREAD_DATA_TIMEOUT_MS; meanwhile its
      queue is bounded (the hub closes a subscriber whose queue fills) and it delays no one;
    - 600 slowloris sockets, two thirds sending a request head a byte at a time and never ending
      it, a third sending nothing: the server closes each by itself KEEP_ALIVE_SECONDS after it
      connected, and meanwhile pages and new streams are as quick as without them.

    Fan-out latency (post sent to event parsed, for each of the ten readers) is compared with the
    same measurement before the hostile clients arrived.
    """
    server = open_server(WEBCHAT_RATE_LIMITS="off")
    pid = server.process.pid
    users = [await LiveUser(server.url, name).register(name.title()) for name in ("ana", "rita", "hugo")]
    ana, rita, hugo = users
    readers, slowloris = Readers(), Slowloris()
    hostile = None
    try:
        room = await ana.create_room("General")
        for user in (rita, hugo):
            assert (await user.post(f"/rooms/{room}/join")).status_code == 303
        await readers.open(free_port, f"/rooms/{room}/events", rita.cookie_header(), 10)

        async def page_times(count: int) -> list[float]:
            times = []
            for _ in range(count):
                started = time.monotonic()
                assert (await rita.page(f"/rooms/{room}")).status_code == 200
                times.append(time.monotonic() - started)
            return times

        # Without hostile clients: 100 messages of ~3 KiB at 20 a second; ten page loads.
        before = latencies(await post_paced(ana, room, 100, 20, "a"), readers, 10)
        quiet_pages = await page_times(10)

        fds = proc.fd_count(pid)
        hostile_opened = time.monotonic()
        hostile = never_reading_socket(free_port, stream_request(
            f"/rooms/{room}/events", hugo.cookie_header()))
        hostile_port = hostile.getsockname()[1]
        await slowloris.open(free_port, 600)
        assert await proc.wait_until(lambda: proc.fd_count(pid) > fds + 600, 10)  # all accepted

        # With them: the same posts, pages, and a new stream that must get a message at once.
        during = latencies(await post_paced(ana, room, 160, 20, "b"), readers, 10)
        loaded_pages = await page_times(10)
        started = time.monotonic()
        async with rita.stream(f"/rooms/{room}/events") as stream:
            assert stream.status == 200
            await ana.say(room, "tok:fresh still here")
            await stream.until("message", lambda d: "still here" in d, timeout=5)
        new_stream = time.monotonic() - started

        # The never-reading stream is cut off: its socket gone, its user out of presence.
        def gone() -> bool:
            return hostile_port not in proc.server_connections(pid, free_port)

        assert await proc.wait_until(gone, 25, 0.2), "the never-reading client still holds its socket"
        cut_after = time.monotonic() - hostile_opened
        assert await proc.wait_until(
            lambda: any("Hugo" not in data for t, data in readers.presence if t > hostile_opened), 5)
        # The slowloris sockets are closed by the server.
        while time.monotonic() - slowloris.opened_at < server_module.KEEP_ALIVE_SECONDS + 8:
            if await slowloris.closed_by_server() == len(slowloris.sockets):
                break
            await asyncio.sleep(1)
        closed, closed_after = await slowloris.closed_by_server(), time.monotonic() - slowloris.opened_at
        # And the readers are all still connected and served.
        after = latencies(await post_paced(ana, room, 20, 20, "c"), readers, 10)

        a, b = summary(before), summary(during)
        print(f"fan-out to 10 readers, s: without hostile clients {a}; with them {b}; after "
              f"{summary(after)}. Never-reading stream cut off {cut_after:.1f} s after it connected "
              f"(UNREAD_DATA_TIMEOUT_MS {server_module.UNREAD_DATA_TIMEOUT_MS}). Page loads, s: quiet "
              f"{summary(quiet_pages)}, with 600 slowloris sockets {summary(loaded_pages)}; new stream "
              f"and a message {new_stream:.3f} s; slowloris sockets closed by the server: "
              f"{closed}/{len(slowloris.sockets)} within {closed_after:.1f} s")
        assert b["p50"] <= 2 * a["p50"] + 0.02, (a, b)
        assert b["p95"] <= 2 * a["p95"] + 0.05, (a, b)
        assert b["max"] < 1.0, (a, b)
        assert max(loaded_pages) < 1.0 and new_stream < 2.0
        assert statistics.median(loaded_pages) <= 3 * statistics.median(quiet_pages) + 0.05
        assert cut_after < server_module.UNREAD_DATA_TIMEOUT_MS / 1000 + 10
        assert closed == len(slowloris.sockets)
        log = server.log()
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    finally:
        slowloris.close()
        if hostile is not None:
            hostile.close()
        await readers.close()
        for user in users:
            await user.aclose()


def test_accepted_sockets_inherit_the_unread_data_timeout():
    """The listening socket's TCP_USER_TIMEOUT is what every accepted connection gets."""
    listener = server_module.listening_socket(0)
    listener.listen()
    client = socket.create_connection(("127.0.0.1", listener.getsockname()[1]))
    accepted, _ = listener.accept()
    try:
        value = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)
        assert value == server_module.UNREAD_DATA_TIMEOUT_MS
    finally:
        for sock in (accepted, client, listener):
            sock.close()


async def test_streams_far_beyond_the_per_user_cap_answer_429(open_server, free_port):
    """Opened all at once (not one by one) so that no check-then-count race lets extra ones in."""
    server = open_server()
    ana = await LiveUser(server.url, "ana").register()
    try:
        room = await ana.create_room("General")
        cookie = ana.cookie_header()
        cap = streams.STREAMS_PER_USER
        for _ in range(2):  # and again once the first ones are closed: every slot came back
            opened = await asyncio.gather(*(
                open_stream(free_port, f"/rooms/{room}/events" if n % 2 else "/events", cookie)
                for n in range(cap * 4)))
            statuses = [s.status for s in opened]
            assert statuses.count(200) == cap and statuses.count(429) == cap * 3, statuses
            refused = next(s for s in opened if s.status == 429)
            assert int(refused.headers["retry-after"]) >= 1 and b"Slow down" in refused.body
            ports = {net.local_port(s) for s in opened if s.status == 200}
            for stream in opened:
                stream.close(abrupt=True)
            assert await proc.wait_until(
                lambda: not ports & set(proc.server_connections(server.process.pid, free_port)), 10)
        other = await LiveUser(server.url, "ben").register()  # the cap is per user
        stream = await open_stream(free_port, "/events", other.cookie_header())
        assert stream.status == 200
        stream.close()
        await other.aclose()
    finally:
        await ana.aclose()


@pytest.mark.slow
async def test_a_stuck_reader_cannot_hold_a_shutdown(open_server, free_port):
    """SIGTERM while a client that never reads has a full socket: the server still exits, within
    the contract's 10 s (the kernel drops the stuck connection, see UNREAD_DATA_TIMEOUT_MS)."""
    server = open_server(WEBCHAT_RATE_LIMITS="off")
    ana = await LiveUser(server.url, "ana").register()
    hostile = None
    try:
        room = await ana.create_room("General")
        hostile = never_reading_socket(free_port, stream_request(
            f"/rooms/{room}/events", ana.cookie_header()))
        started = time.monotonic()
        sem = asyncio.Semaphore(8)

        async def post(n):
            async with sem:
                if time.monotonic() - started < 6:
                    await ana.say(room, f"{n} {FILLER}")

        # ~6 s of posts: its socket and the server's buffers for it are full; the kernel has
        # not yet given up on it (that comes UNREAD_DATA_TIMEOUT_MS after its window closed).
        await asyncio.gather(*(post(n) for n in range(10_000)))
        stopped = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.process.wait, 30)
        took = time.monotonic() - stopped
        print(f"exit {code} {took:.1f} s after SIGTERM, with a stuck reader since {stopped - started:.1f} s")
        assert code == 0 and took < 10, server.log()[-3000:]
    finally:
        if hostile is not None:
            hostile.close()
        await ana.aclose()
