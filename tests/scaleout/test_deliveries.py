"""Two processes share one queue of outgoing webhook deliveries on PostgreSQL: every message said
through either of them reaches a real local receiver exactly once (by delivery id), POSTed by
whichever process claimed it, and each delivery is made in one attempt."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import asyncpg
import pytest

from tests.helpers.cluster import Cluster
from tests.helpers.live import LiveUser
from tests.helpers.net import free_port
from tests.test_outgoing import Receiver, register

pytestmark = pytest.mark.slow

MESSAGES = 60


def process_of(port: int, receiver_port: int, pids: list[int]) -> int | None:
    """Which of these processes holds the local end of the TCP connection from `port` to the
    receiver. The same ephemeral port may be in use towards other destinations, or linger in
    TIME_WAIT (inode 0), on a busy machine: only the open socket to the receiver counts."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
            if (local, remote) == (port, receiver_port) and fields[9] != "0":
                inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


class WhoReceiver(Receiver):
    """Also notes which webchat process sent each POST, and answers a little slowly, as a real
    receiver does: a process's claimed batch then takes long enough that the other claims too."""

    def __init__(self, port: int, pids: list[int]) -> None:
        super().__init__(port)
        self.pids = pids
        self.senders: list[int | None] = []
        self.all_in = asyncio.Event()

    async def _handle(self, reader, writer) -> None:
        self.senders.append(
            process_of(writer.get_extra_info("peername")[1], self.port, self.pids)
        )
        await asyncio.sleep(0.03)
        await super()._handle(reader, writer)
        if len(self.got) >= MESSAGES:
            self.all_in.set()


async def test_two_processes_deliver_each_message_once(pg_url, workdir):
    cluster = Cluster(2, workdir, pg_url, None).start()
    receiver = None
    try:
        pids = [server.process.pid for server in cluster]
        receiver = await WhoReceiver(free_port(), pids).start()
        ana = await LiveUser(cluster[0].url, "ana").register("Ana")
        room = await ana.create_room("Releases")
        await register(ana, room, f"http://127.0.0.1:{receiver.port}/hook")
        on = [ana, ana.on(cluster[1])]

        async def say(n: int) -> None:
            await on[n % 2].say(room, f"release {n}", nonce=f"release-{n}")

        for start in range(0, MESSAGES, 10):  # ten at a time, through both processes
            await asyncio.gather(*(say(n) for n in range(start, start + 10)))
        async with asyncio.timeout(60):
            await receiver.all_in.wait()

        bodies = sorted(json.loads(body)["message"]["body"] for _, body in receiver.got)
        assert bodies == sorted(f"release {n}" for n in range(MESSAGES))
        uids = [headers["X-Webchat-Delivery"] for headers, _ in receiver.got]
        assert len(set(uids)) == len(uids) == MESSAGES
        assert set(receiver.senders) == set(pids)  # both processes delivered, and nobody else
        connection = await asyncpg.connect(pg_url.replace("postgres://", "postgresql://", 1))
        try:
            rows = await connection.fetch("SELECT uid, status, attempts FROM webhook_deliveries")
        finally:
            await connection.close()
        # Every row delivered in one attempt: none is pending, so none can be sent again.
        assert sorted(row["uid"] for row in rows) == sorted(uids)
        assert {(row["status"], row["attempts"]) for row in rows} == {("delivered", 1)}
        await ana.aclose()
    finally:
        cluster.stop()
        if receiver is not None:
            await receiver.stop()
