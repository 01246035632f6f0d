"""Does /api/v1/events need the front door? Open rate and fan-out of 200 API subscribers against
200 page streams of the same room, in one run.

    .venv/bin/python -m bench.api_events [--subscribers 200] [--messages 20] [--rounds 2]

One server process on SQLite (rate limits off). Page streams (`/rooms/ID/events`) are served by
the front door (webchat/live/frontdoor.py): the message is rendered and framed once and the same
bytes go to every subscriber. API streams (`/api/v1/events`, bearer token) go through Quart: a
task per stream, each woken by a message to read the room's new events (one read and one JSON
encoding shared by the streams woken together, then a membership check and a frame per stream:
`webchat.api.streams.EventStream.catch_up`). Rounds alternate between the two kinds;
each opens all its streams at once (timed until every one has its first event: `typing` for a
page, `connected` for the API), then posts `--messages` messages one at a time (bench/scenarios.py's
`fanout`), then closes them. Printed per kind: streams opened per second, the last receipt's
p50/p99 and the server's CPU per message.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import machine, scenarios, sse
from bench.server import Server
from bench.stats import summary_ms
from tests.helpers import streams as http_streams
from tests.helpers.live import LiveUser

USERS = 10


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class ApiStream(sse.Stream):
    """An /api/v1/events stream: its ids are cursor vectors ("ROOM:SEQ"), and it is ready once
    `connected` arrives."""

    def data_received(self, data: bytes) -> None:
        received = time.perf_counter()
        if self._head is not None:
            head = self._head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self._head = head
                return
            self._head = None
            self.status, headers = sse.parse_head(head[:end + 4])
            if self.status != 200:
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"stream answered {self.status}: {head[:300]!r}"))
                self.transport.close()
                return
            if sse.is_chunked(headers):
                self._decoder = sse.ChunkedDecoder()
            data = head[end + 4:]
        if self._decoder is not None:
            data = self._decoder.feed(data)
        if not data:
            return
        for event in self._parser.feed(data, received):
            if event.event == "message":
                self.messages += 1
                self.owner.on_message(self, self.last_id + 1, event.data, received)
                self.last_id += 1
            elif event.event == "connected" and not self.ready.done():
                self.ready.set_result(received)


async def open_api(owner: sse.Owner, port: int, token: str, count: int) -> list[sse.Stream]:
    loop = asyncio.get_running_loop()
    request = http_streams.stream_request("/api/v1/events", None, {"Authorization": f"Bearer {token}"},
                                          host=f"127.0.0.1:{port}")
    semaphore = asyncio.Semaphore(64)

    async def one(n: int) -> sse.Stream:
        async with semaphore:
            _, stream = await loop.create_connection(lambda: ApiStream(owner, request, (n, port)), "127.0.0.1", port)
            async with asyncio.timeout(60):
                await stream.ready
            return stream

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def main(subscribers: int, messages: int, rounds: int) -> None:
    machine.raise_nofile(65536)
    workdir = Path(tempfile.mkdtemp(prefix="webchat-bench-api-events-"))
    server = Server(workdir, f"sqlite://{workdir / 'db.sqlite3'}", name="api-events")
    opened: list[sse.Stream] = []
    try:
        await server.start()
        users = [await LiveUser(server.url, f"ae{i:02d}").register(f"Events {i}") for i in range(USERS)]
        room = await users[0].create_room("Fan-out")
        for user in users[1:]:
            await user.join(room)
        done = subprocess.run([sys.executable, "-m", "webchat", "token", "create", "ae01"], env=server.env,
                              cwd=workdir, capture_output=True, text=True, check=True)
        token = done.stdout.strip().splitlines()[-1]
        chat = scenarios.Chat([server], users, {"fanout": room}, run="e")
        results: dict[str, dict[str, list]] = {kind: {"open_s": [], "last": [], "cpu": []} for kind in ("page", "api")}
        for r in range(rounds):
            for kind in ("page", "api") if r % 2 == 0 else ("api", "page"):
                owner = scenarios.FanoutOwner()
                started = time.perf_counter()
                if kind == "page":
                    per_user = -(-subscribers // USERS)
                    specs = scenarios.stream_specs(chat, room, per_user, range(USERS))[:subscribers]
                    opened = await sse.open_many(owner, specs)
                    await asyncio.gather(*(stream.ready for stream in opened))
                else:
                    opened = await open_api(owner, server.port, token, subscribers)
                open_s = time.perf_counter() - started
                await asyncio.sleep(1)
                chat.run = f"e{r}{kind}"
                result = await scenarios.fanout(chat, owner, opened, messages, log, users[0])
                sse.close_all(opened)
                opened = []
                results[kind]["open_s"].append(open_s)
                results[kind]["last"] += [v / 1000 for v in result["last_receipt_each_ms"]]
                results[kind]["cpu"].append(sum(result["server_cpu_s"]) / messages)
                log(f"  round {r} {kind:>4}: {subscribers} opened in {open_s:.2f} s; last receipt p99 "
                    f"{result['last_receipt']['p99_ms']} ms; missing {result['missing_deliveries']}")
                await asyncio.sleep(2)
        for kind, got in results.items():
            last = summary_ms(got["last"])
            print(f"{kind:>4} streams x {subscribers}: opened at {subscribers / (sum(got['open_s']) / rounds):.0f}/s; "
                  f"last receipt p50 {last['p50_ms']:.1f} ms, p99 {last['p99_ms']:.1f} ms ({last['n']} messages); "
                  f"server CPU {sum(got['cpu']) / rounds * 1000:.1f} ms per message")
    finally:
        sse.close_all(opened)
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import uvloop

    asyncio.run(main(args.subscribers, args.messages, args.rounds), loop_factory=uvloop.new_event_loop)
