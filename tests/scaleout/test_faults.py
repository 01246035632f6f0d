"""Faults in the three-process setup: Redis restarted, a process killed or stopped, PostgreSQL away.

Each test breaks one thing for real (a signal to a real process, a real redis-server restarted, a
TCP proxy in front of PostgreSQL cut) and checks what users see: nothing lost, nothing repeated,
clear errors while the part is away, and recovery without anyone restarting anything.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time

import httpx
import pytest

from tests.helpers.cluster import TcpProxy
from tests.helpers.live import LiveServer, LiveUser, body_text, event_ids, wait_healthy
from tests.helpers.net import free_port
from tests.scaleout.conftest import running_cluster

pytestmark = pytest.mark.slow


async def room_of_three(cluster):
    """Ana, Ben and Cleo, signed in (one cookie jar each, valid on every process), in one room."""
    ana, ben, cleo = LiveUser(cluster[0].url, "ana"), LiveUser(cluster[1].url, "ben"), LiveUser(cluster[2].url, "cleo")
    for person, name in ((ana, "Ana"), (ben, "Ben"), (cleo, "Cleo")):
        await person.register(name)
    room = await ana.create_room("General")
    for person in (ben, cleo):
        assert (await person.on(cluster[0]).post(f"/rooms/{room}/join")).status_code == 303
    return ana, ben, cleo, room


async def health(server) -> tuple[int, dict]:
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.get(server.url + "/healthz")
    return response.status_code, response.json()


async def healthy(server) -> bool:
    return (await health(server))[0] == 200


async def eventually(check, timeout: float = 10, interval: float = 0.1):
    """Poll an async check until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check.__name__}")
        await asyncio.sleep(interval)


def bodies(events) -> list[str | None]:
    return [body_text(e.data) for e in events]


async def test_redis_restart_streams_catch_up_from_the_database(cluster, redis_server):
    ana, ben, cleo, room = await room_of_three(cluster)
    s0, s1, s2 = cluster
    async with ana.on(s0).events(room) as at_ana, ben.on(s1).events(room) as at_ben, cleo.on(s2).events(room) as at_cleo:
        streams = (at_ana, at_ben, at_cleo)
        for stream in streams:
            await stream.until("presence", lambda d: all(n in d for n in ("Ana", "Ben", "Cleo")))
        await ana.on(s0).say(room, "before 1")
        await ben.on(s1).say(room, "before 2")
        for stream in streams:
            assert event_ids(await stream.take("message", 2)) == [1, 2]
        assert (await cleo.on(s2).post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
        for stream in (at_ana, at_ben):
            await stream.until("typing", lambda d: "Cleo is typing" in d)

        redis_server.stop(signal.SIGKILL)
        # Saving does not need Redis: posts, edits and typing through every process still work.
        started = time.monotonic()
        await ana.on(s1).say(room, "during 1")
        await ben.on(s2).say(room, "during 2")
        await cleo.on(s0).say(room, "during 3")
        first = re.search(r'id="m-(\d+)"', at_ana.of("message")[0].data).group(1)
        edited = await ana.on(s2).post(f"/rooms/{room}/messages/{first}/edit", {"body": "before 1, edited"})
        assert edited.status_code == 303
        assert (await cleo.on(s1).post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
        assert time.monotonic() - started < 15
        for server in cluster:
            status, report = await health(server)
            assert status == 503 and report["database"] == "ok" and report["broker"].startswith("error")
        # Nothing arrives while Redis is away (each process only hears itself through Redis).
        await asyncio.sleep(0.5)
        assert all(len(s.of("message")) == 2 for s in streams)

        redis_server.start()
        # Without anyone posting, every stream catches up from the database: ids 3..6, once, in order.
        for stream in streams:
            caught = await stream.take("message", 3, timeout=10)
            assert event_ids(caught) == [3, 4, 5]
            assert bodies(caught) == ["during 1", "during 2", "during 3"]
            edit = await stream.take("message_updated", 1)
            assert event_ids(edit) == [6] and body_text(edit[0].data) == "before 1, edited"
        for server in cluster:
            await eventually(lambda: healthy(server))

        # What Redis held is rebuilt: Cleo's typing (lost with Redis, and she has since posted)
        # is cleared everywhere, and presence still shows all three.
        for stream in (at_ana, at_ben):
            await stream.until("typing", lambda d: "Cleo" not in d)  # after "Cleo is typing"
        for stream in streams:
            await stream.shows("presence", lambda d: all(n in d for n in ("Ana", "Ben", "Cleo")))

        # Live again through Redis; nothing repeated, nothing skipped.
        await cleo.on(s2).say(room, "after")
        for stream in streams:
            assert event_ids(await stream.take("message", 1)) == [7]
            assert await stream.quiet("message", 0.5) == []
            assert event_ids(stream.of("message", "message_updated")) == [1, 2, 3, 4, 5, 6, 7]
            assert not stream.ended.is_set()  # the same connection throughout

        # Presence is rebuilt in the new Redis: a newcomer on any process sees all three.
        dave = LiveUser(s1.url, "dave")
        await dave.register("Dave")
        async with dave.on(s1).events(room) as at_dave:
            await at_dave.until("presence", lambda d: all(n in d for n in ("Ana", "Ben", "Cleo", "Dave")),
                                timeout=8)
        await dave.aclose()
    for person in (ana, ben, cleo):
        await person.aclose()


async def test_a_dropped_subscription_catches_up_what_it_missed(cluster, redis_server, pg_url, workdir):
    """Redis stays up but drops every subscription (a failover, a network blip): whatever was
    published before each process subscribed again is gone from Redis, and must come from the
    database, without anyone posting again."""
    ana, ben, cleo, room = await room_of_three(cluster)
    s0, s1, s2 = cluster
    # A process on the same database but with no Redis: what it publishes reaches nobody else,
    # exactly like a publish made while the others' subscriptions were being renewed.
    unheard = LiveServer(free_port(), workdir, pg_url, WEBCHAT_RATE_LIMITS="off").spawn()
    await asyncio.to_thread(wait_healthy, [unheard])
    try:
        async with ana.on(s0).events(room) as at_ana, ben.on(s1).events(room) as at_ben, cleo.on(s2).events(room) as at_cleo:
            streams = (at_ana, at_ben, at_cleo)
            await ana.on(s0).say(room, "heard")
            for stream in streams:
                assert event_ids(await stream.take("message", 1)) == [1]
            await ben.on(unheard).say(room, "published where nobody listens")
            assert await at_ana.quiet("message", 0.5) == []

            client = redis_server.client()
            try:
                assert client.client_kill_filter(_type="pubsub") == 3  # one subscription per process
            finally:
                client.close()
            for stream in streams:
                caught = await stream.take("message", 1, timeout=5)
                assert event_ids(caught) == [2] and bodies(caught) == ["published where nobody listens"]
            await cleo.on(s2).say(room, "and on")
            for stream in streams:
                assert event_ids(await stream.take("message", 1)) == [3]
                assert await stream.quiet("message", 0.3) == []
                assert not stream.ended.is_set()
    finally:
        unheard.stop()
        for person in (ana, ben, cleo):
            await person.aclose()


async def test_sigkill_clients_resume_elsewhere_and_presence_forgets_the_dead(cluster):
    ana, ben, cleo, room = await room_of_three(cluster)
    s0, s1, s2 = cluster
    dave = LiveUser(s2.url, "dave")
    await dave.register("Dave")
    assert (await dave.on(s2).post(f"/rooms/{room}/join")).status_code == 303
    async with ana.on(s0).events(room) as at_ana, ben.on(s1).events(room) as at_ben:
        async with cleo.on(s2).events(room) as at_cleo, dave.on(s2).events(room) as at_dave:
            everyone = ("Ana", "Ben", "Cleo", "Dave")
            for stream in (at_ana, at_ben, at_cleo):
                await stream.until("presence", lambda d: all(n in d for n in everyone))
            for n in range(3):
                await ana.on(cluster[n]).say(room, f"before {n}")
            assert event_ids(await at_cleo.take("message", 3)) == [1, 2, 3]
            assert (await dave.on(s2).post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
            for stream in (at_ana, at_ben):
                await stream.until("typing", lambda d: "Dave is typing" in d)

            s2.process.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            s2.process.wait(5)
            for stream in (at_cleo, at_dave):
                async with asyncio.timeout(3):
                    await stream.ended.wait()
            # Said while Cleo is away from any process:
            await ben.on(s1).say(room, "while cleo reconnects 1")
            await ana.on(s0).say(room, "while cleo reconnects 2")
            resume_from = at_cleo.last_id

        # Cleo's browser reconnects (the router sends it to another process) with Last-Event-ID.
        assert resume_from == "3"
        async with cleo.on(s0).events(room, last_id=resume_from) as again:
            missed = await again.take("message", 2)
            assert event_ids(missed) == [4, 5]
            assert bodies(missed) == ["while cleo reconnects 1", "while cleo reconnects 2"]
            await ben.on(s1).say(room, "welcome back")
            assert event_ids(await again.take("message", 1)) == [6]
            assert await again.quiet("message", 0.3) == []

            # Dave's entries were kept alive by the killed process only: they expire, and the
            # survivors announce it. His typing goes too. Cleo stays: she is back through s0.
            for stream in (at_ana, at_ben):
                await stream.shows("presence", lambda d: "Dave" not in d and "Cleo" in d, timeout=12)
                await stream.shows("typing", lambda d: "Dave" not in d, timeout=12)
            gone_after = time.monotonic() - killed
            assert gone_after < 10, f"Dave was still shown {gone_after:.1f}s after his process died"
            for stream in (at_ana, at_ben):
                assert event_ids(stream.of("message")) == [1, 2, 3, 4, 5, 6]
        for server in (s0, s1):
            assert await healthy(server)
    for person in (ana, ben, cleo, dave):
        await person.aclose()


async def test_sigterm_ends_streams_cleanly_and_clients_resume_elsewhere(cluster):
    ana, ben, cleo, room = await room_of_three(cluster)
    s0, s1, s2 = cluster
    async with ana.on(s0).events(room) as at_ana, ben.on(s1).events(room) as at_ben:
        async with cleo.on(s2).events(room) as at_cleo:
            for stream in (at_ana, at_ben, at_cleo):
                await stream.until("presence", lambda d: all(n in d for n in ("Ana", "Ben", "Cleo")))
            await ana.on(s0).say(room, "one")
            await ben.on(s2).say(room, "two")
            assert event_ids(await at_cleo.take("message", 2)) == [1, 2]

            shown = {stream: len(stream.of("presence")) for stream in (at_ana, at_ben)}
            s2.process.send_signal(signal.SIGTERM)  # what the platform sends on a restart or deploy
            stopped = time.monotonic()
            async with asyncio.timeout(3):
                await at_cleo.ended.wait()
            assert at_cleo.error is None, f"the stream broke instead of ending: {at_cleo.error!r}"
            ended_after = time.monotonic() - stopped
            resume_from = at_cleo.last_id
        await ana.on(s0).say(room, "three, while cleo moves")
        code = await asyncio.to_thread(s2.process.wait, 10)
        assert code == 0, s2.log()
        assert time.monotonic() - stopped < 10

        async with cleo.on(s1).events(room, last_id=resume_from) as again:
            missed = await again.take("message", 1)
            assert event_ids(missed) == [3] and bodies(missed) == ["three, while cleo moves"]
            await ben.on(s1).say(room, "four")
            assert event_ids(await again.take("message", 1)) == [4]
            assert await again.quiet("message", 0.3) == []
            await asyncio.sleep(0.5)
        for stream in (at_ana, at_ben):
            assert event_ids(stream.of("message")) == [1, 2, 3, 4]
            # A restart is not a departure: Cleo, back within moments, was never shown as gone.
            assert all("Cleo" in e.data for e in stream.of("presence")[shown[stream]:])
        assert ended_after < 3
    for person in (ana, ben, cleo):
        await person.aclose()


@pytest.fixture
def pg_proxy(pg_url):
    """A TCP proxy between the processes and PostgreSQL, that the test can cut and restore."""
    from urllib.parse import urlsplit

    proxy = TcpProxy(urlsplit(pg_url).port or 5432).start()
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_cluster(pg_url, pg_proxy, redis_server, workdir, request):
    yield from running_cluster(pg_proxy.url_for(pg_url), redis_server, workdir, request)


async def test_postgres_unreachable_then_back(proxied_cluster, pg_proxy):
    cluster = proxied_cluster
    ana, ben, cleo, room = await room_of_three(cluster)
    s0, s1, s2 = cluster
    async with ben.on(s1).events(room) as at_ben, cleo.on(s2).events(room) as at_cleo:
        await ana.on(s0).say(room, "before")
        for stream in (at_ben, at_cleo):
            assert event_ids(await stream.take("message", 1)) == [1]

        pg_proxy.cut()
        # /healthz names the part that failed, at once, on every process.
        for server in cluster:
            started = time.monotonic()
            status, report = await health(server)
            assert status == 503, report
            assert report["status"] == "error" and report["broker"] == "ok"
            assert report["database"].startswith("error"), report
            assert time.monotonic() - started < 5
        # A plain form post: 503, a page that says why, and the text kept in a form to send again
        # (with its nonce, so sending again can never post twice).
        text = "kept <through> the outage"
        form = {"body": text, "nonce": "outage-1"}
        response = await ana.on(s1).post(f"/rooms/{room}/messages", form)
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert "database" in response.text
        kept = r'<textarea[^>]*name="body"[^>]*>kept &lt;through&gt; the outage</textarea>'
        assert re.search(kept, response.text)
        assert 'name="nonce" value="outage-1"' in response.text
        assert f'action="/rooms/{room}/messages"' in response.text
        # The composer's htmx post gets the composer back, text and nonce kept, error shown.
        response = await ana.on(s2).post(f"/rooms/{room}/messages", form, htmx=True)
        assert response.status_code == 503
        assert 'id="composer"' in response.text and "kept &lt;through&gt; the outage" in response.text
        assert 'value="outage-1"' in response.text and "database" in response.text
        # A new stream cannot start without the database: a 503, not a broken stream.
        async with ana.on(s0).events(room) as refused:
            assert refused.status == 503
        # Open streams stay open meanwhile.
        await asyncio.sleep(0.5)
        assert not at_ben.ended.is_set() and not at_cleo.ended.is_set()

        pg_proxy.restore()
        for server in cluster:
            await eventually(lambda: healthy(server), timeout=10)
        # Sending the kept form again works, and sending it twice posts once.
        for _ in range(2):
            response = await ana.on(s0).post(f"/rooms/{room}/messages", form)
            assert response.status_code == 303, response.text
        for stream in (at_ben, at_cleo):
            got = await stream.take("message", 1)
            assert event_ids(got) == [2] and bodies(got) == ["kept &lt;through&gt; the outage"]
            assert await stream.quiet("message", 0.3) == []
            assert not stream.ended.is_set()  # the same connection throughout
        async with ana.on(s0).events(room, last_id="0") as fresh:
            assert event_ids(await fresh.take("message", 2)) == [1, 2]
    for person in (ana, ben, cleo):
        await person.aclose()
