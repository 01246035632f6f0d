"""API POST latency: 50 clients, each on its own keep-alive connection, post messages through
POST /api/v1/rooms/ID/messages with a bearer token, as fast as the server answers.

    .venv/bin/python -m bench.api [--clients 50] [--posts 40] [--interval 0.5]

One server process on SQLite (WEBCHAT_RATE_LIMITS=off), as the other targets; prints p50/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers.http1 import HTTPConnection
from tests.helpers.live import LiveServer, LiveUser
from tests.helpers.net import free_port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def client(port: int, token: str, room: int, posts: int, n: int, out: list[float],
                 interval: float = 0.0, clients: int = 1) -> None:
    connection = HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if interval:  # spread the clients over the interval, as independent clients would be
        await asyncio.sleep(interval * n / clients)
    try:
        for k in range(posts):
            body = json.dumps({"body": f"client {n} post {k}", "nonce": f"b-{n}-{k}"}).encode()
            start = time.perf_counter()
            response = await connection.request("POST", f"/api/v1/rooms/{room}/messages", headers, body, 30)
            out.append(time.perf_counter() - start)
            assert response.status_code == 201, response.content[:200]
            if interval:
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))
    finally:
        await connection.aclose()


async def main(clients: int, posts: int, interval: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="webchat-bench-api-"))
    try:
        with LiveServer(free_port(), workdir, f"sqlite://{workdir / 'db.sqlite3'}", WEBCHAT_RATE_LIMITS="off") as server:
            ana = await LiveUser(server.url, "ana").register("Ana")
            room = await ana.create_room("Bench")
            await ana.aclose()
            done = subprocess.run([sys.executable, "-m", "webchat", "token", "create", "ana"], env=server.env,
                                  cwd=workdir, capture_output=True, text=True, check=True)
            token = done.stdout.strip().splitlines()[-1]
            await client(server.port, token, room, 20, -1, [])  # warm-up
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(client(server.port, token, room, posts, n, latencies, interval, clients)
                                   for n in range(clients)))
            elapsed = time.perf_counter() - started
        ms = [v * 1000 for v in latencies]
        pace = f"each every {interval * 1000:.0f} ms" if interval else "as fast as answered"
        print(f"API POST, {clients} concurrent clients ({pace}), {len(ms)} posts in {elapsed:.1f} s "
              f"({len(ms) / elapsed:.0f}/s): p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
              f"max {max(ms):.1f} ms")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between a client's posts (0: closed loop)")
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.posts, args.interval))
