"""GET /api/v1/events against a real server, on both databases and both brokers: it opens with
`connected` and the user id, carries JSON events of every room of the account, resumes exactly
once across all rooms with Last-Event-ID, and ends at once when its token is revoked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.helpers.sse import SSEParser

pytestmark = pytest.mark.slow


def make_token(server, username: str, *scopes: str) -> str:
    args = [a for scope in scopes for a in ("--scope", scope)]
    done = subprocess.run([sys.executable, "-m", "webchat", "token", "create", username, *args],
                          env=server.env, cwd=server.workdir, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class Stream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.parser = SSEParser()
        self.events = []
        self.bytes = response.aiter_raw()
        self.ended = False

    async def until(self, predicate, timeout: float = 10.0):
        """Read until `predicate(events)` holds; the events so far."""
        async with asyncio.timeout(timeout):
            while not predicate(self.events):
                try:
                    chunk = await anext(self.bytes)
                except StopAsyncIteration:
                    self.ended = True
                    break
                self.events += self.parser.feed(chunk)
        return self.events

    def of(self, kind: str):
        return [e for e in self.events if e.event == kind]


@asynccontextmanager
async def events(url: str, token: str, last_event_id: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client:
        async with client.stream("GET", f"{url}/api/v1/events", headers=headers) as response:
            yield Stream(response)


async def post(client: httpx.AsyncClient, url: str, token: str, room: int, body: str) -> dict:
    answer = await client.post(f"{url}/api/v1/rooms/{room}/messages", json={"body": body},
                               headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_resume_across_a_disconnect_with_20_missed_events_in_3_rooms(live_server, live_users):
    ana = await live_users("ana", "Ana")
    rooms = [await ana.create_room(f"Room {n}") for n in range(3)]
    token = make_token(live_server, "ana")
    url = live_server.url
    async with httpx.AsyncClient() as client:
        await post(client, url, token, rooms[0], "before the stream")
        async with events(url, token) as stream:
            assert stream.response.status_code == 200
            assert stream.response.headers["content-type"].startswith("text/event-stream")
            await stream.until(lambda e: stream.of("connected"))
            connected = stream.of("connected")[0]
            assert json.loads(connected.data)["user"]["username"] == "ana"
            assert json.loads(connected.data)["user"]["id"] > 0
            first = await post(client, url, token, rooms[1], "live one")
            await stream.until(lambda e: stream.of("message"))
            live = stream.of("message")
            assert [json.loads(e.data)["message"]["id"] for e in live] == [first["id"]]  # not the earlier one
            last_id = stream.parser.last_id
        sent = []
        for n in range(20):  # missed while disconnected, interleaved over three rooms
            sent.append(await post(client, url, token, rooms[n % 3], f"missed {n}"))
        async with events(url, token, last_id) as stream:
            await stream.until(lambda e: len(stream.of("message")) >= 20)
            got = [json.loads(e.data) for e in stream.of("message")]
            assert sorted(m["message"]["id"] for m in got) == sorted(m["id"] for m in sent)  # each exactly once
            for room in rooms:
                seqs = [m["event_id"] for m in got if m["room"] == room]
                assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
            resumed_at = stream.parser.last_id
            more = await post(client, url, token, rooms[2], "live again")
            await stream.until(lambda e: len(stream.of("message")) >= 21)
            assert json.loads(stream.of("message")[-1].data)["message"]["id"] == more["id"]
            assert len(stream.of("message")) == 21
        # The id says where each room is: the vector of the newest event ids sent.
        assert re.fullmatch(r"\d+:\d+(,\d+:\d+)*", resumed_at)


async def test_revoking_the_token_ends_its_open_stream_at_once(live_server, live_users):
    ana = await live_users("ana", "Ana")
    room = await ana.create_room("General")
    token = make_token(live_server, "ana")
    page = await ana.page("/settings/tokens")
    token_id = re.search(r'action="/settings/tokens/(\d+)/revoke"', page.text).group(1)
    async with events(live_server.url, token) as stream:
        await stream.until(lambda e: stream.of("connected"))
        async with httpx.AsyncClient() as client:
            await post(client, live_server.url, token, room, "hello")
        await stream.until(lambda e: stream.of("message"))
        response = await ana.post(f"/settings/tokens/{token_id}/revoke")
        assert response.status_code == 303
        await stream.until(lambda e: stream.ended, timeout=5)
        assert stream.ended and json.loads(stream.of("close")[-1].data)["reason"] == "token revoked"
    async with httpx.AsyncClient() as client:
        again = await client.get(f"{live_server.url}/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401 and again.headers["www-authenticate"].startswith("Bearer")


async def test_events_follow_membership_and_need_the_read_scope(live_server, live_users):
    ana, ben = await live_users("ana", "Ana"), await live_users("ben", "Ben")
    room = await ana.create_room("Secret", "private")
    ben_token = make_token(live_server, "ben")
    async with httpx.AsyncClient() as client:
        refused = await client.get(f"{live_server.url}/api/v1/events",
                                   headers={"Authorization": f"Bearer {make_token(live_server, 'ben', 'post')}"})
        assert refused.status_code == 403
        bad = await client.get(f"{live_server.url}/api/v1/events",
                               headers={"Authorization": f"Bearer {ben_token}", "Last-Event-ID": "x:1"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        async with events(live_server.url, ben_token) as stream:
            await stream.until(lambda e: stream.of("connected"))
            await ana.say(room, "before ben")
            await ana.post(f"/rooms/{room}/members", {"username": "ben"})
            await stream.until(lambda e: stream.of("room_added"))
            assert json.loads(stream.of("room_added")[0].data)["room"]["id"] == room
            await ana.say(room, "for ben")
            await stream.until(lambda e: stream.of("message"))
            bodies = [json.loads(e.data)["message"]["body"] for e in stream.of("message")]
            assert bodies == ["for ben"]
            await ana.post(f"/rooms/{room}/members/ben/remove")
            await stream.until(lambda e: stream.of("room_removed"))
            await ana.say(room, "after ben")
            with contextlib.suppress(TimeoutError):  # nothing more may come: wait a while for it
                await stream.until(lambda e: len(stream.of("message")) > 1, timeout=1.5)
            assert [json.loads(e.data)["message"]["body"] for e in stream.of("message")] == ["for ben"]


async def test_the_ping_pong_bot_in_the_docs_answers(live_server, live_users):
    from pathlib import Path

    bot_file = Path(__file__).resolve().parent.parent / "docs" / "pingbot.py"
    assert len(bot_file.read_text().splitlines()) < 25
    ana = await live_users("ana", "Ana")
    room = await ana.create_room("Bots", "private")
    done = subprocess.run([sys.executable, "-m", "webchat", "token", "create", "ana", "--bot", "pingbot"],
                          env=live_server.env, cwd=live_server.workdir, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    bot_token = done.stdout.strip().splitlines()[-1]
    await ana.post(f"/rooms/{room}/members", {"username": "pingbot"})
    bot = subprocess.Popen([sys.executable, str(bot_file)], env={**live_server.env, "WEBCHAT": live_server.url,
                                                                 "TOKEN": bot_token})
    try:
        ana_token = make_token(live_server, "ana")
        async with httpx.AsyncClient() as client:
            async def bodies():
                answer = await client.get(f"{live_server.url}/api/v1/rooms/{room}/messages",
                                          headers={"Authorization": f"Bearer {ana_token}"})
                return [(m["author"]["username"], m["body"]) for m in answer.json()["messages"]]

            async with asyncio.timeout(20):
                while True:  # until the bot is listening: its stream is open, then it hears a ping
                    await ana.say(room, "ping")
                    await asyncio.sleep(1)
                    if ("pingbot", "pong") in await bodies():
                        break
            pongs = sum(1 for who, _ in await bodies() if who == "pingbot")
            await ana.say(room, "ping")
            async with asyncio.timeout(10):
                while sum(1 for who, _ in await bodies() if who == "pingbot") < pongs + 1:
                    await asyncio.sleep(0.2)
            assert not any(who == "pingbot" and body != "pong" for who, body in await bodies())
    finally:
        bot.terminate()
        bot.wait(10)


async def test_streams_woken_together_each_get_every_message_once(live_server, live_users):
    """Eight streams of one room share the reading of each message (one query, one JSON): posted
    in bursts from two clients, every message reaches every stream exactly once, in order."""
    ana = await live_users("ana", "Ana")
    room = await ana.create_room("Busy")
    token = make_token(live_server, "ana")
    url = live_server.url
    async with contextlib.AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(events(url, token)) for _ in range(8)]
        for stream in streams:
            await stream.until(lambda e, s=stream: s.of("connected"))
        async with httpx.AsyncClient() as one, httpx.AsyncClient() as two:
            sent = []
            for burst in range(5):
                sent += await asyncio.gather(*(post(client, url, token, room, f"burst {burst} #{n}")
                                               for n, client in enumerate((one, two, one, two))))
        for stream in streams:
            await stream.until(lambda e, s=stream: len(s.of("message")) >= len(sent))
            got = [json.loads(e.data) for e in stream.of("message")]
            assert sorted(m["message"]["id"] for m in got) == sorted(m["id"] for m in sent)
            assert [m["event_id"] for m in got] == sorted({m["event_id"] for m in got})


async def test_a_stream_never_shares_a_read_older_than_its_wake_up(app, ana):
    """The rule that keeps sharing safe: a stream woken by an envelope shares only a read that
    started after that envelope arrived (so it includes that event); an older read in flight is
    not shared, and the stream reads for itself."""
    from webchat.api import streams
    from webchat.messages import service
    from webchat.models import Room, User

    room_id = await ana.create_room("Shared")
    room, author = await Room.get(id=room_id), await User.get(username="ana")
    loop = asyncio.get_running_loop()
    waiting = streams._in_flight.setdefault(loop, {})
    older = loop.create_future()  # a read of (room, 0) in flight, started before the message
    waiting[(room_id, 0)] = (next(streams._ticks), older)
    message, _ = await service.post(room, author, "after that read began", None)
    arrived = next(streams._ticks)  # its envelope arrives
    got = await streams.shared_events_after(room_id, 0, arrived)
    assert [json.loads(data)["message"]["id"] for _, _, data in got] == [message.id]
    # A read that started after the wake-up is shared: its answer, not a query of one's own.
    woken = next(streams._ticks)
    newer = loop.create_future()
    waiting[(room_id, 0)] = (next(streams._ticks), newer)
    shared = asyncio.ensure_future(streams.shared_events_after(room_id, 0, woken))
    await asyncio.sleep(0)
    newer.set_result([(1, "message", "{}")])
    assert await shared == [(1, "message", "{}")]
    waiting.pop((room_id, 0), None)
    older.cancel()
