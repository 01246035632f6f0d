"""Uploads: what a file costs the server, in time and in memory.

    .venv/bin/python -m bench.files                 # 20 uploads of 1 MB, 10 of 10 MB, 10 of 10 MB at once
    .venv/bin/python -m bench.files --repeat 5 --storage /some/folder

One `python -m webchat serve` process (SQLite, a fresh folder storage unless --storage) and real
HTTP over sockets, as a browser's form post sends it (multipart, the CSRF field first):

1. upload latency: p50/p95 of sequential posts of a message with one 1 MB file, then one 10 MB
   file (random bytes, so a download card: the time is the upload path, not Pillow), and of a
   1 MB photo-sized JPEG (decoded, re-encoded and thumbnailed);
2. memory: the server's resident memory (VmRSS, sampled every 10 ms) while 10 clients each post
   a 10 MB file at the same moment; the peak, and the peak over the idle server's. Files are
   parsed in chunks to temporary files, so this stays far below the 100 MB sent.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.server import Server
from tests.helpers.http1 import HTTPConnection
from tests.helpers.live import LiveUser
from tests.helpers.uploads import multipart

MB = 1024 * 1024


def say(text: str) -> None:
    print(text, flush=True)


def photo(size_hint: int = MB) -> bytes:
    """A JPEG of about `size_hint` bytes with photo-like noise (so it does not compress away)."""
    from PIL import Image

    side = int((size_hint / 0.35) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60)
    return out.getvalue()


async def upload(server: Server, user: LiveUser, room: int, name: str, data: bytes, alt: str = "") -> float:
    """One post of a message with one file, on a connection of its own; seconds until the answer."""
    fields = [("csrf_token", user.token), ("body", "bench"), ("nonce", os.urandom(8).hex())]
    if alt:
        fields.append(("alt", alt))
    body, content_type = multipart(fields, [(name, data)])
    connection = HTTPConnection("127.0.0.1", server.port)
    headers = {"Content-Type": content_type, "Cookie": user.cookie_header()}
    started = time.perf_counter()
    try:
        response = await connection.request("POST", f"/rooms/{room}/messages", headers, body, timeout=120)
    finally:
        await connection.aclose()
    elapsed = time.perf_counter() - started
    if response.status_code != 303:
        raise RuntimeError(f"upload answered {response.status_code}: {response.content[:500]!r}")
    return elapsed


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (n={len(ordered)})"


async def run(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="webchat-bench-files-"))
    env = {"WEBCHAT_UPLOAD_QUOTA": "100GB"}
    if args.storage:
        env["WEBCHAT_STORAGE_URL"] = args.storage
    server = Server(workdir, f"sqlite://{workdir / 'bench.sqlite3'}", **env)
    say(f"starting the server in {workdir} …")
    await server.start()
    try:
        user = await LiveUser(server.url, "bench").register("Bench")
        room = await user.create_room("Uploads")
        await user.page(f"/rooms/{room}")
        rng = random.Random(7)
        one = rng.randbytes(MB)
        ten = rng.randbytes(10 * MB)
        jpeg = photo()
        results = {}
        for label, name, data, alt, count in (
            ("1 MB file", "one.bin", one, "", args.repeat * 4),
            ("10 MB file", "ten.bin", ten, "", args.repeat * 2),
            (f"{len(jpeg) / MB:.1f} MB JPEG photo", "photo.jpg", jpeg, "noise", args.repeat * 2),
        ):
            say(f"{label}: {count} uploads, one after another …")
            await upload(server, user, room, name, data, alt)  # warm-up
            times = [await upload(server, user, room, name, data, alt) for _ in range(count)]
            results[label] = summary(times)
            say(f"  {results[label]}")

        say("10 concurrent 10 MB uploads: sampling the server's memory every 10 ms …")
        idle = server.rss_kib()
        peak = idle
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, server.rss_kib())
                await asyncio.sleep(0.01)

        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        times = await asyncio.gather(*(upload(server, user, room, f"c{n}.bin", ten) for n in range(10)))
        wall = time.perf_counter() - started
        done.set()
        await sampler
        say(f"  all 10 in {wall:.2f} s; each {summary(list(times))}")
        say(f"  server RSS idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB "
            f"(+{(peak - idle) / 1024:.0f} MB for 100 MB in flight)")
        say("")
        say("| measure | result |")
        say("|---|---|")
        for label, text in results.items():
            say(f"| upload, {label} | {text} |")
        say(f"| 10 concurrent 10 MB uploads | {wall:.2f} s for all; RSS peak {peak / 1024:.0f} MB "
            f"(idle {idle / 1024:.0f} MB, +{(peak - idle) / 1024:.0f} MB) |")
        await user.aclose()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.files", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="scale of the sequential runs (default 5)")
    parser.add_argument("--storage", default="", help="WEBCHAT_STORAGE_URL for the server (default: a fresh folder)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
