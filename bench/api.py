"""API POST latency: 50 clients, each on its own keep-alive connection, post messages through
POST /api/v1/rooms/ID/messages with a bearer token, as fast as the server answers.

    .venv/bin/python -m bench.api [--clients 50] [--posts 40] [--interval 0.5]
                                  [--server-root ../webchat-before --rounds 2] [--profile]

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

from bench.server import ROOT
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


async def measure(root: Path, name: str, clients: int, posts: int, interval: float, profile: bool) -> dict:
    """One server process from this checkout (`root`) on a fresh SQLite database, and the load."""
    workdir = Path(tempfile.mkdtemp(prefix="webchat-bench-api-"))
    try:
        with LiveServer(free_port(), workdir, f"sqlite://{workdir / 'db.sqlite3'}", WEBCHAT_RATE_LIMITS="off",
                        PYTHONPATH=str(root)) as server:
            ana = await LiveUser(server.url, "ana").register("Ana")
            room = await ana.create_room("Bench")
            await ana.aclose()
            done = subprocess.run([sys.executable, "-m", "webchat", "token", "create", "ana"], env=server.env,
                                  cwd=workdir, capture_output=True, text=True, check=True)
            token = done.stdout.strip().splitlines()[-1]
            await client(server.port, token, room, 20, -1, [])  # warm-up
            sampler = None
            if profile:
                from bench.profile import OUT, Sampler

                OUT.mkdir(parents=True, exist_ok=True)
                sampler = Sampler(server.process.pid, f"api_post_{name}")
                sampler.start()
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(client(server.port, token, room, posts, n, latencies, interval, clients)
                                   for n in range(clients)))
            elapsed = time.perf_counter() - started
            if sampler is not None:
                from bench.profile import print_summary, summarise

                print_summary(f"API POST ({name})", summarise(sampler.stop()))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ms = [v * 1000 for v in latencies]
    return {"posts": len(ms), "elapsed": elapsed, "p50": percentile(ms, 0.5), "p99": percentile(ms, 0.99),
            "max": max(ms)}


async def main(clients: int, posts: int, interval: float, before: Path | None, rounds: int, profile: bool) -> None:
    """With `before` (a checkout of an older commit), both are measured in the same run, in
    alternating rounds, so that they share the machine's load of the moment."""
    roots = [("before", before), ("after", ROOT)] if before else [("this checkout", ROOT)]
    results: dict[str, list[dict]] = {name: [] for name, _ in roots}
    for r in range(rounds):
        for name, root in roots if r % 2 == 0 else roots[::-1]:
            results[name].append(await measure(root, name, clients, posts, interval, profile))
    pace = f"each every {interval * 1000:.0f} ms" if interval else "as fast as answered"
    for name, runs in results.items():
        for run in runs:
            print(f"{name}: API POST, {clients} concurrent clients ({pace}), {run['posts']} posts in "
                  f"{run['elapsed']:.1f} s ({run['posts'] / run['elapsed']:.0f}/s): p50 {run['p50']:.1f} ms, "
                  f"p99 {run['p99']:.1f} ms, max {run['max']:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between a client's posts (0: closed loop)")
    parser.add_argument("--server-root", type=Path, default=None,
                        help="also measure webchat served from this checkout (a `git worktree` of an older commit), "
                             "in the same run, as 'before'")
    parser.add_argument("--rounds", type=int, default=1, help="rounds (alternating before and after)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server with py-spy during the load and print where the time goes")
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.posts, args.interval, args.server_root, args.rounds, args.profile))
