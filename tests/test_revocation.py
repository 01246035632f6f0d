"""Removal and revocation are airtight: no event committed after a member's removal, or after
"sign out everywhere", reaches that user's streams, however the timing falls, in one process or
across processes.

Each trial races 20 loops that open and reopen the user's streams against the removal (or the
revocation); then the owner posts, and not one stream that was still open may carry that message.
Run in one process on SQLite with the in-process broker, and on two processes sharing PostgreSQL
and Redis (streams opened on both, the removal made through the first).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid

import pytest

from tests.conftest import REDIS_URL, require_service
from tests.helpers import services
from tests.helpers.cluster import Cluster, webchat_command
from tests.helpers.live import LiveServer, LiveUser
from tests.helpers.streams import RawStream, open_stream

TRIALS = 20
LOOPS = 20
LIMITS = {"WEBCHAT_RATE_LIMITS": "off"}  # this is about timing, not about limits


@pytest.fixture(params=["one process, in-process broker", "two processes, Redis"])
def servers(request, workdir, free_port):
    if request.param.startswith("one"):
        with LiveServer(free_port, workdir, f"sqlite://{workdir / 'race.sqlite3'}", **LIMITS) as server:
            yield [server]
        return
    postgres = request.getfixturevalue("postgres_server_url")
    require_service("redis", REDIS_URL, 6379)
    services.flush_redis(REDIS_URL)
    url = services.create_postgres_database(postgres, f"webchat_r_{uuid.uuid4().hex[:12]}")
    cluster = None
    try:
        assert webchat_command(["migrate"], {"DATABASE_URL": url}, workdir).returncode == 0
        cluster = Cluster(2, workdir, url, REDIS_URL, **LIMITS).start()
        yield list(cluster)
    finally:
        if cluster is not None:
            cluster.stop()
        services.drop_postgres_database(postgres, url)


class Opener:
    """20 loops, each holding at most one of the user's streams, reopening it without pause."""

    def __init__(self, servers: list[LiveServer], path: str, cookie: str) -> None:
        self.ports = [server.port for server in servers]
        self.path, self.cookie = path, cookie
        self.stop = asyncio.Event()
        self.opened = 0
        self.attempts: list[tuple[float, float]] = []  # when each open began and was answered
        self.window = (0.0, 0.0)  # when the removal (or revocation) began and was answered

    async def loop(self, k: int) -> RawStream | None:
        held: RawStream | None = None
        n = k
        while not self.stop.is_set():
            if held is not None:
                held.close(abrupt=True)
                held = None
            n += 1
            began = time.monotonic()
            stream = await open_stream(self.ports[n % len(self.ports)], self.path, self.cookie)
            self.attempts.append((began, time.monotonic()))
            if stream.status == 200:
                held = stream
                self.opened += 1
                await asyncio.sleep(random.random() * 0.005)
        return held  # the last stream this loop opened: still open, if the server allowed it

    @property
    def racing(self) -> int:
        """Opens that were under way while the removal was."""
        start, end = self.window
        return sum(began <= end and answered >= start for began, answered in self.attempts)

    async def run(self, during) -> list[RawStream]:
        loops = [asyncio.create_task(self.loop(k)) for k in range(LOOPS)]
        while self.opened < LOOPS:  # every loop under way
            await asyncio.sleep(0.005)
        await asyncio.sleep(random.random() * 0.02)
        began = time.monotonic()
        try:
            await during()
        finally:
            self.window = (began, time.monotonic())
            self.stop.set()
        return [stream for stream in await asyncio.gather(*loops) if stream is not None]


async def carried(streams: list[RawStream], marker: str, seconds: float = 1.5) -> int:
    """How many of the streams carry a message with the marker within `seconds`."""

    async def read(stream: RawStream) -> bool:
        try:
            async with asyncio.timeout(seconds):
                while (batch := await stream.read_events()) is not None:
                    if any(event.event == "message" and marker in event.data for event in batch):
                        return True
        except TimeoutError:
            pass
        finally:
            stream.close(abrupt=True)
        return False

    return sum(await asyncio.gather(*(read(stream) for stream in streams)))


def presence_names(page: str) -> str:
    return re.search(r'<div id="presence"[^>]*>(.*?)</div>', page, re.S).group(1)


@pytest.mark.slow
async def test_no_stream_of_a_removed_member_hears_what_follows(servers):
    owner = await LiveUser(servers[0].url, "olga").register("Olga")
    rita = await LiveUser(servers[0].url, "rita").register("Rita")
    try:
        room = await owner.create_room("Inner circle", "private")
        cookie = rita.cookie_header()
        leaks, survivors, racing = [], 0, 0
        for trial in range(TRIALS):
            response = await owner.post(f"/rooms/{room}/members", {"username": "rita"})
            assert response.status_code == 303, response.text
            opener = Opener(servers, f"/rooms/{room}/events", cookie)

            async def remove():
                response = await owner.post(f"/rooms/{room}/members/rita/remove")
                assert response.status_code == 303, response.text

            held = await opener.run(remove)
            marker = f"after removal {trial}"
            await owner.say(room, marker)
            leaks.append(await carried(held, marker))
            survivors += len(held)
            racing += opener.racing
            # Presence forgot her at once, and every door is shut.
            page = await owner.page(f"/rooms/{room}")
            assert "Rita" not in presence_names(page.text)
            refused = await open_stream(servers[-1].port, f"/rooms/{room}/events", cookie)
            assert refused.status == 403
        print(f"removal: {racing} opens under way during the removal in {TRIALS} trials; "
              f"{survivors} still open at the post; leaks per trial {leaks}")
        assert racing > 0  # the race was run
        assert sum(leaks) == 0, leaks
    finally:
        await owner.aclose()
        await rita.aclose()


@pytest.mark.slow
async def test_no_stream_of_a_copied_cookie_outlives_sign_out_everywhere(servers):
    owner = await LiveUser(servers[0].url, "olga").register("Olga")
    rita = await LiveUser(servers[0].url, "rita").register("Rita")
    copy = None
    try:
        room = await owner.create_room("Inner circle", "private")
        assert (await owner.post(f"/rooms/{room}/members", {"username": "rita"})).status_code == 303
        leaks, racing = [], 0
        for trial in range(TRIALS):
            copy = await LiveUser(servers[-1].url, "rita").login()  # another browser's session
            opener = Opener(servers, f"/rooms/{room}/events", copy.cookie_header())

            async def everywhere():
                response = await rita.post("/logout/everywhere")
                assert response.status_code == 303, response.text

            held = await opener.run(everywhere)
            marker = f"after sign-out {trial}"
            await owner.say(room, marker)
            leaks.append(await carried(held, marker))
            racing += opener.racing
            stale = await open_stream(servers[0].port, f"/rooms/{room}/events",
                                             copy.cookie_header())
            assert stale.status == 401
            await copy.aclose()
            copy = None
            await rita.login()
        print(f"sign out everywhere: {racing} opens under way during it in {TRIALS} "
              f"trials; leaks per trial {leaks}")
        assert racing > 0
        assert sum(leaks) == 0, leaks
    finally:
        for user in (owner, rita, copy):
            if user is not None:
                await user.aclose()
