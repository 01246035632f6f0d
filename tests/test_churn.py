"""Churn: thousands of streams opened and dropped abruptly, some in the middle of an event, while
messages are being posted, must leave no subscriber, task, presence or file descriptor behind.

The real-server test counts from outside: the server's descriptors and its sockets on our ports
(/proc), presence on the room pages, and the per-user stream cap (a leaked subscription would
still count against its user). The in-process test counts what only the process can see: asyncio
tasks, hub subscribers, live Subscriber objects.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import re
import time

import pytest

from tests.helpers import Browser, net, proc
from tests.helpers.http1 import read_head
from tests.helpers.live import LiveServer, LiveUser
from tests.helpers.streams import RawStream, open_stream, stream_request
from tests.helpers.tab import Tab
from webchat import streams
from webchat.live.hub import Subscriber

CHURN = int(os.environ.get("WEBCHAT_CHURN", "5000"))
BIG = "x" * 3800  # a message frame of about 4 KiB, so that a hang-up mid-event is likely


class Churner:
    """One connect-and-drop per call, in one of several abrupt ways."""

    MODES = ("request-rst", "request-fin", "head-rst", "opening-fin", "opening-rst", "replay-mid-rst",
             "replay-mid-fin", "torn-request")

    def __init__(self, port: int, paths: list[str], cookies: list[str]) -> None:
        self.port, self.paths, self.cookies = port, paths, cookies
        self.ports: set[int] = set()
        self.counts: dict[str, int] = {}
        self.statuses: dict[int, int] = {}
        self.mid_event = 0

    async def once(self, n: int) -> None:
        mode = self.MODES[n % len(self.MODES)]
        rooms = [p for p in self.paths if p.startswith("/rooms/")]
        if mode.startswith("replay"):
            path = rooms[n % len(rooms)] + "?last_event_id=0"
        else:
            path = self.paths[n % len(self.paths)]
        request = stream_request(path, self.cookies[n % len(self.cookies)])
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
        self.ports.add(net.local_port(writer))
        self.counts[mode] = self.counts.get(mode, 0) + 1
        try:
            if mode == "torn-request":
                writer.write(request[: len(request) // 2])
                await writer.drain()
                net.hard_close(writer)
                return
            writer.write(request)
            await writer.drain()
            if mode.startswith("request"):
                await asyncio.sleep(0)
                return self._close(writer, mode)
            status, headers = await read_head(reader, timeout=20)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if mode == "head-rst" or status != 200:
                return self._close(writer, "rst" if status == 200 else "fin")
            stream = RawStream(reader, writer, status, headers)
            async with asyncio.timeout(20):
                if mode.startswith("opening"):
                    while stream.parser.comments < 1:
                        if await stream.read_events() is None:
                            break
                else:  # read into the replay of big messages; hang up inside an event's data
                    while not stream.parser.in_event_data:
                        if await stream.read_events(max_bytes=1500) is None:
                            break
                    else:
                        self.mid_event += 1
            self._close(writer, mode)
        except BaseException:
            net.hard_close(writer)
            raise

    @staticmethod
    def _close(writer, mode: str) -> None:
        if mode.endswith("rst"):
            net.hard_close(writer)
        else:
            writer.close()


@pytest.mark.slow
async def test_thousands_of_abrupt_disconnects_leave_nothing_behind(free_port, workdir):
    """5,000 connects (WEBCHAT_CHURN) dropped in eight abrupt ways, a third of them in the middle
    of an event, while messages are posted; rate limits and stream caps on, as in production."""
    # Stream opens are limited per user (240 a minute): spread the churn over enough users, and
    # let this address register them all.
    server = LiveServer(free_port, workdir, f"sqlite://{workdir / 'churn.sqlite3'}",
                        WEBCHAT_RATE_LIMITS="register=1000/3600").start()
    users: list[LiveUser] = []
    try:
        pid = server.process.pid
        # One account per room for the history and one per room for live posts: each stays
        # under the posting limit (30 messages per 10 s).
        posters = [await LiveUser(server.url, name).register() for name in ("hist0", "hist1", "live0", "live1")]
        users.extend(posters)
        poster = posters[0]
        rooms = [await poster.create_room(f"Churn {n}") for n in range(2)]
        for other in posters[1:]:
            for room in rooms:
                assert (await other.post(f"/rooms/{room}/join")).status_code == 303
        churners = []
        for n in range(max(24, math.ceil(CHURN / 200))):
            user = await LiveUser(server.url, f"churn{n}").register()
            users.append(user)
            for room in rooms:
                assert (await user.post(f"/rooms/{room}/join")).status_code == 303
            churners.append(user)
        for n in range(24):  # history for the replays: ~100 KiB per room
            for k, room in enumerate(rooms):
                await posters[k].say(room, f"history {n} {BIG}")
        paths = [f"/rooms/{room}/events" for room in rooms] + ["/events"]
        churner = Churner(free_port, paths, [u.cookie_header() for u in churners])
        await asyncio.sleep(0.5)
        fds_before = proc.fd_count(pid)

        posting = True

        async def keep_posting():
            n = 0
            while posting:
                await posters[2 + n % 2].say(rooms[n % 2], f"live {n} {BIG}")
                n += 1
                await asyncio.sleep(0.2)  # each live poster: 25 per 10 s, under the limit

        post_task = asyncio.create_task(keep_posting())
        started = time.monotonic()
        queue = iter(range(CHURN))

        async def worker():
            for n in queue:
                await churner.once(n)

        # At most one stream per user at a time: well under the cap of 24, so a 429 would mean a leak.
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(24))), timeout=600)
        churn_seconds = time.monotonic() - started
        posting = False
        await post_task

        def churn_sockets() -> set[int]:
            return set(proc.server_connections(pid, free_port)) & churner.ports

        released = await proc.wait_until(lambda: not churn_sockets(), 30, 0.25)
        fds_back = await proc.wait_until(lambda: proc.fd_count(pid) <= fds_before, 30, 0.25)
        report = (f"churn: {CHURN} connects in {churn_seconds:.1f} s ({CHURN / churn_seconds:.0f}/s), "
                  f"modes {churner.counts}, statuses {churner.statuses}, hung up mid-event "
                  f"{churner.mid_event} times; server fds before {fds_before}, after "
                  f"{proc.fd_count(pid)}; churn sockets left {len(churn_sockets())}")
        print(report)
        assert released and fds_back, report
        assert churner.statuses.get(429, 0) == 0, report
        assert churner.mid_event >= CHURN // 8, report

        # Presence: nobody left in any room.
        for room in rooms:
            page = await poster.page(f"/rooms/{room}")
            presence = re.search(r'<div id="presence"[^>]*>(.*?)</div>', page.text, re.S).group(1)
            assert "Nobody is here now" in presence, presence
        # The per-user cap still has every slot: no subscription is counted for anybody.
        for user in churners:
            cookie = user.cookie_header()
            paths = ["/events"] * streams.ROOMLESS_STREAMS_PER_USER + [f"/rooms/{rooms[0]}/events"] * (
                streams.STREAMS_PER_USER - streams.ROOMLESS_STREAMS_PER_USER)
            opened = [await open_stream(free_port, path, cookie) for path in paths]
            assert [s.status for s in opened] == [200] * streams.STREAMS_PER_USER
            for path in ("/events", f"/rooms/{rooms[0]}/events"):
                over = await open_stream(free_port, path, cookie)
                assert over.status == 429
            for stream in opened:
                stream.close(abrupt=True)
        log = server.log()
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    finally:
        for user in users:
            await user.aclose()
        server.stop()


async def test_churn_in_process_leaves_no_task_subscriber_or_presence(sqlite_app, monkeypatch):
    """Hundreds of streams through the test client, dropped before, at and after their first
    bytes and while messages arrive: afterwards the same asyncio tasks as before, an empty hub,
    no presence, and no Subscriber object alive anywhere."""
    monkeypatch.setattr(streams, "STREAMS_PER_USER", 10_000)
    monkeypatch.setattr(streams, "ROOMLESS_STREAMS_PER_USER", 10_000)
    from webchat.ratelimit import Limit

    sqlite_app.config["RATE_LIMITS"]["post"] = Limit(10**6, 1)
    sqlite_app.config["RATE_LIMITS"]["stream"] = Limit(10**6, 1)
    rt = sqlite_app.extensions["webchat"]
    ana = Browser(sqlite_app)
    await ana.register("ana", "Ana")
    room = await ana.create_room("General")
    for n in range(5):
        await ana.say(room, f"history {n}")
    await asyncio.sleep(0.2)
    gc.collect()
    tasks_before = len(asyncio.all_tasks())

    async def drop(n: int) -> None:
        path = f"/rooms/{room}/events" if n % 3 else "/events"
        if n % 5 == 0:
            path += "?last_event_id=0"
        context = ana.client.request(path, method="GET")
        connection = await context.__aenter__()
        await connection.send_complete()
        if n % 4 == 1:
            await connection.receive()  # the opening
        elif n % 4 == 2:
            for _ in range(3):  # into presence, replay or live messages
                try:
                    async with asyncio.timeout(0.2):
                        await connection.receive()
                except TimeoutError:
                    break
        elif n % 4 == 3:
            await asyncio.sleep(0)  # the view is still running
        await connection.disconnect()
        try:
            await context.__aexit__(None, None, None)
        except Exception:
            pass

    async def keep_posting(stop: asyncio.Event):
        n = 0
        while not stop.is_set():
            await ana.say(room, f"live {n}")
            n += 1
            await asyncio.sleep(0.01)

    stop = asyncio.Event()
    poster = asyncio.create_task(keep_posting(stop))
    for batch in range(10):
        await asyncio.gather(*(drop(batch * 50 + n) for n in range(50)))
    stop.set()
    await poster
    # And one stream that stays open while the rest churned: it must still work afterwards.
    async with Tab(ana, f"/rooms/{room}/events") as tab:
        await ana.say(room, "after the churn")
        await tab.read_until(b"after the churn")

    async with asyncio.timeout(10):
        while rt.hub.count or rt.state._presence or len(asyncio.all_tasks()) > tasks_before:
            await asyncio.sleep(0.05)
    gc.collect()
    assert rt.hub.count == 0 and rt.hub._per_user == {} and rt.hub._topics == {}
    assert rt.state._presence == {}
    assert len(asyncio.all_tasks()) <= tasks_before, [t.get_coro() for t in asyncio.all_tasks()]
    alive = [obj for obj in gc.get_objects() if isinstance(obj, Subscriber)]
    assert alive == []


async def test_client_gone_before_the_first_byte_leaves_no_subscription(sqlite_app):
    """The transport subscribes and streams in one task: a client that is gone by the time the
    response starts (its first send fails) leaves no subscription, presence or task behind."""
    rt = sqlite_app.extensions["webchat"]
    ana = Browser(sqlite_app)
    await ana.register("ana", "Ana")
    room = await ana.create_room("General")
    cookie = "; ".join(f"{c.name}={c.value}" for c in ana.client.cookie_jar)
    scope = {"type": "http", "method": "GET", "path": f"/rooms/{room}/events", "query_string": b"",
             "headers": [(b"cookie", cookie.encode())], "http_version": "1.1", "scheme": "http",
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2), "root_path": ""}
    subscribed = []

    async def receive():
        await asyncio.sleep(3600)

    async def send(message):
        subscribed.append(rt.hub.count)
        raise OSError("the client went away")

    tasks_before = len(asyncio.all_tasks())
    await sqlite_app(scope, receive, send)
    assert subscribed == [1]  # it was subscribed when it tried to answer
    assert rt.hub.count == 0 and rt.hub._per_user == {} and rt.hub._topics == {}
    await asyncio.sleep(0.1)
    assert rt.state._presence == {}
    assert len(asyncio.all_tasks()) <= tasks_before


async def test_stream_dropped_before_it_entered_leaves_other_tabs_present(sqlite_app):
    """A stream cut off right after its opening bytes, before it counted itself present, must not
    take its user's other open tab out of the room's presence."""
    from webchat.live.asgi import QueueSink
    from webchat.models import User

    rt = sqlite_app.extensions["webchat"]
    ana = Browser(sqlite_app)
    await ana.register("ana", "Ana")
    room = await ana.create_room("General")
    user = await User.get(username_key="ana")
    async with Tab(ana, f"/rooms/{room}/events"):
        assert [name for _, name in await rt.state.present(room)] == ["Ana"]
        plan = streams.Plan(user.id, user.session_version, "Ana", room, False, None)
        sub = await streams.subscribe(rt, plan, QueueSink())
        opening = asyncio.create_task(streams.start(rt, plan, sub))
        await asyncio.sleep(0)  # it suspends at its first database read, not yet present
        opening.cancel()  # the client went away
        sub.end("gone")
        streams.release(rt, sub)
        await asyncio.sleep(0.1)
        assert not sub.entered and rt.hub.count == 1
        assert [name for _, name in await rt.state.present(room)] == ["Ana"]
