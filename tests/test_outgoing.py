"""Outgoing webhooks: a real local receiver gets every new message, signed as docs/api.md says;
a receiver that is down and then up gets each delivery, across a restart of webchat, with one
delivery id; internal addresses are refused after DNS resolution unless allowed."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.helpers import net
from tests.helpers.live import LiveServer, LiveUser
from webchat.api import outgoing
from webchat.app import create_app
from webchat.models import Delivery, OutgoingHook

ROOT = Path(__file__).resolve().parent.parent
SECRET = re.compile(r'id="out-secret" type="text" readonly value="([0-9a-f]{64})"')


def verify_from_docs():
    """The verification snippet of docs/api.md, exactly as printed there."""
    block = re.search(r"```python\n(import hashlib, hmac, time.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
    scope: dict = {}
    exec(block.group(1), scope)
    return scope["verify"]


class Receiver:
    """A plain HTTP/1.1 server that keeps what it is sent and answers 200."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.got: list[tuple[dict, bytes]] = []
        self.server = None

    async def start(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader, writer) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().title()] = value.strip()
            body = await reader.readexactly(int(headers.get("Content-Length", "0")))
            self.got.append((headers, body))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        finally:
            writer.close()


async def register(user: LiveUser, room: int, url: str) -> str:
    page = await user.post(f"/rooms/{room}/hooks/out", {"url": url})
    assert page.status_code == 200, page.text
    return SECRET.search(page.text).group(1)


async def wait_for(predicate, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_a_receiver_gets_each_new_message_signed(live_server, live_users):
    receiver = await Receiver(net.free_port()).start()
    try:
        ana = await live_users("ana", "Ana")
        room = await ana.create_room("Releases")
        secret = await register(ana, room, f"http://127.0.0.1:{receiver.port}/hook")
        await ana.say(room, "v1.2 is out")

        async def arrived():
            return len(receiver.got) >= 1

        await wait_for(arrived, 15)
        headers, body = receiver.got[0]
        assert verify_from_docs()(secret, headers, body)
        assert not verify_from_docs()("0" * 64, headers, body)
        payload = json.loads(body)
        assert payload["type"] == "message" and payload["message"]["body"] == "v1.2 is out"
        assert payload["delivery"] == headers["X-Webchat-Delivery"] and payload["room"] == room
        page = await ana.page(f"/rooms/{room}/hooks")
        hook_id = re.search(rf'href="/rooms/{room}/hooks/out/(\d+)"', page.text).group(1)
        deliveries = await ana.page(f"/rooms/{room}/hooks/out/{hook_id}")
        assert headers["X-Webchat-Delivery"] in deliveries.text and "delivered" in deliveries.text
    finally:
        await receiver.stop()


@pytest.mark.slow
async def test_a_receiver_down_then_up_gets_it_once_across_a_restart(database_url, workdir):
    port = net.free_port()
    server = LiveServer(net.free_port(), workdir, database_url, WEBCHAT_RATE_LIMITS="off").start()
    receiver = Receiver(port)
    try:
        ana = await LiveUser(server.url, "ana").register("Ana")
        room = await ana.create_room("Releases")
        await register(ana, room, f"http://127.0.0.1:{port}/hook")  # nothing listens there yet
        await ana.say(room, "while the receiver is down")
        hook_page = await ana.page(f"/rooms/{room}/hooks")
        hook_id = re.search(rf'href="/rooms/{room}/hooks/out/(\d+)"', hook_page.text).group(1)

        async def failed_once():
            page = await ana.page(f"/rooms/{room}/hooks/out/{hook_id}")
            return "ConnectError" in page.text or "Connect" in page.text

        await wait_for(failed_once, 15)
        await ana.aclose()
        server.stop()  # webchat restarted mid-retry: the queue is in the database
        server = LiveServer(net.free_port(), workdir, database_url, WEBCHAT_RATE_LIMITS="off").start()
        await receiver.start()

        async def arrived():
            return len(receiver.got) >= 1

        await wait_for(arrived, 30)
        await asyncio.sleep(1.5)  # nothing more should come
        assert len({headers["X-Webchat-Delivery"] for headers, _ in receiver.got}) == 1
        assert json.loads(receiver.got[0][1])["message"]["body"] == "while the receiver is down"
    finally:
        server.stop()
        if receiver.server is not None:
            await receiver.stop()


async def test_internal_addresses_are_refused_after_resolution(database_url, tmp_path):
    app = create_app(make_settings(database_url, tmp_path, WEBCHAT_WEBHOOK_PRIVATE="refuse"))
    async with app.test_app():
        from tests.helpers.browser import Browser

        ana = Browser(app)
        await ana.register("ana", "Ana")
        room = await ana.create_room("Releases")
        for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://169.254.169.254/latest/meta-data",
                    "http://10.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
                    "ftp://example.org/", "http://user:pw@example.org/", "not a url"):
            page = await ana.post(f"/rooms/{room}/hooks/out", {"url": url})
            assert page.status == 422, url
            assert '<a href="#out-url">' in page.text
        assert await OutgoingHook.all().count() == 0
        # At delivery too: a hook added while allowed is refused once refusing (DNS may change).
        hook = await OutgoingHook.create(room_id=room, creator_id=1, url="http://127.0.0.1:9/x", secret="s" * 64)
        await outgoing.enqueue(room, {"type": "message"})
        delivery = await Delivery.get(hook_id=hook.id)
        import httpx  # only this test makes a delivery by hand

        async with httpx.AsyncClient() as client:
            status = await outgoing.attempt(delivery.id, client, production=False, allow_private=False)
        assert status == "failed"
        assert "refused" in (await Delivery.get(id=delivery.id)).last_error
    with pytest.raises(outgoing.HookUrlError):
        await outgoing.check_url("http://example.org/", production=True, allow_private=True)


async def test_claims_made_at_once_never_share_a_delivery(app, ana):
    """What lets several processes share the queue: due deliveries claimed at the same moment
    (PostgreSQL: on several connections, FOR UPDATE SKIP LOCKED) go to one claimer each, and a
    claimed one is not due again until its lease runs out."""
    room = await ana.create_room("Releases")
    await OutgoingHook.create(room_id=room, creator_id=1, url="http://127.0.0.1:9/x", secret="s" * 64)
    for n in range(30):
        await outgoing.enqueue(room, {"type": "message", "n": n})
    claimed = await asyncio.gather(*(outgoing.claim(8) for _ in range(5)))
    everything = [d for batch in claimed for d in batch]
    assert len(everything) == len(set(everything))
    assert len(everything) <= 30
    again = await outgoing.claim(50)
    assert not set(again) & set(everything)  # leased: not due again yet
    assert len(everything) + len(again) <= 30 and len(everything) >= 10  # the worker may take a batch too


async def test_a_message_is_saved_with_its_deliveries(app, ana):
    """A new message's deliveries are queued in the transaction that writes it: the moment a post
    returns (before anything is published) each live hook of its room has its row, carrying that
    message; a revoked hook and a room without hooks get none; a hook added a moment ago (by any
    process: nothing is cached) gets the next message."""
    from datetime import UTC, datetime

    from webchat.messages import service
    from webchat.models import Room, User

    hooked, quiet = await ana.create_room("Releases"), await ana.create_room("Chatter")
    author = await User.get(username="ana")
    live = [await OutgoingHook.create(room_id=hooked, creator_id=author.id, url=f"http://127.0.0.1:9/{n}",
                                      secret="s" * 64) for n in range(2)]
    await OutgoingHook.create(room_id=hooked, creator_id=author.id, url="http://127.0.0.1:9/gone", secret="s" * 64,
                              revoked_at=datetime.now(UTC))
    rooms = {hooked: await Room.get(id=hooked), quiet: await Room.get(id=quiet)}
    posts = [(hooked if n % 2 else quiet, f"message {n}") for n in range(20)]
    written = await asyncio.gather(*(service.post(rooms[r], author, body, f"n{n}")
                                     for n, (r, body) in enumerate(posts)))  # written in batches
    for (room, _), (message, event) in zip(posts, written, strict=True):
        rows = await (Delivery.filter(payload__contains=f'"message":{{"id":{message.id},')
                      .values_list("hook_id", "payload"))
        if room == quiet:
            assert rows == []
            continue
        assert sorted(hook for hook, _ in rows) == [hook.id for hook in live]
        for _, body in rows:
            payload = json.loads(body)
            assert payload["message"]["id"] == message.id and payload["event_id"] == event.seq
            assert payload["room"] == hooked and payload["message"]["body"] == message.body
    assert await Delivery.all().count() == 2 * 10
    # The double submit of a post queues nothing more.
    again, event = await service.post(rooms[hooked], author, "message 1", "n1")
    assert event is None and await Delivery.all().count() == 20
    added = await OutgoingHook.create(room_id=quiet, creator_id=author.id, url="http://127.0.0.1:9/new",
                                      secret="s" * 64)
    message, _ = await service.post(rooms[quiet], author, "now with a hook", None)
    assert await Delivery.filter(hook_id=added.id, payload__contains=f'"message":{{"id":{message.id},').count() == 1


async def test_a_failure_after_the_insert_undoes_the_message_and_its_deliveries(app, ana, monkeypatch):
    """Nothing is half written: a failure inside the writing transaction, once the message and its
    deliveries are inserted, leaves neither (and the room's numbering where it was)."""
    from webchat.messages import service
    from webchat.models import Message, Room, User

    room_id = await ana.create_room("Releases")
    author = await User.get(username="ana")
    await OutgoingHook.create(room_id=room_id, creator_id=author.id, url="http://127.0.0.1:9/x", secret="s" * 64)
    room = await Room.get(id=room_id)
    before = (room.last_event, room.last_seq)
    queue = outgoing.queue_messages
    queued = []

    async def queue_then_fail(conn, written):
        queued.append(await queue(conn, written))
        assert await Delivery.all().using_db(conn).count() == queued[-1]  # inserted, in this transaction
        raise RuntimeError("the process died here")

    monkeypatch.setattr(outgoing, "queue_messages", queue_then_fail)
    with pytest.raises(RuntimeError):
        await service.post(room, author, "lost", None)
    assert queued and all(n == 1 for n in queued)  # the batch, then the post on its own: both undone
    assert await Message.filter(room_id=room_id).count() == 0
    assert await Delivery.all().count() == 0
    fresh = await Room.get(id=room_id)
    assert (fresh.last_event, fresh.last_seq) == before
    monkeypatch.setattr(outgoing, "queue_messages", queue)
    message, _ = await service.post(room, author, "kept", None)
    assert await Delivery.filter(payload__contains=f'"message":{{"id":{message.id},').count() == 1
