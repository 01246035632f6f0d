"""python -m bench abuse [--before CHECKOUT]: what hostile input costs the server, and its bystanders.

    link rendering     the slowest bodies we know how to build (4,000 characters), per render
    sign-in storm      200 sign-ins at once with wrong passwords, from one address and from 200
                       (production mode, behind the one proxy hop): the server's memory growth,
                       and a signed-in bystander's page times meanwhile
    catch-up storm     10 streams opened at once 1,000 events behind, in a room of hostile bodies:
                       server CPU, and a bystander's /healthz times meanwhile

With --before, every figure is measured for that checkout too (for example the previous release,
`git worktree add /tmp/before <commit>`), in the same run, each figure side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

from bench import machine
from bench.server import ROOT, Server
from tests.helpers.http1 import HTTPConnection
from tests.helpers.live import LiveUser
from tests.helpers.streams import stream_request

STORM = 200
TIMEOUT = 10  # seconds a bystander's request may take before it counts as failed
CATCH_UP_STREAMS = 10
HISTORY = 1000
WORST_BODIES = {
    "4,000 ')' after a link": "http://a" + ")" * 3990,
    "400 shortest links": "http://ab " * 400,
    "one 2,000-character link, balanced brackets": "http://a" + "(" * 1995 + ")" * 1995,
    "4,000 characters to escape": "<&>" * 1333,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def link_rendering(root: Path) -> dict[str, float]:
    """Microseconds per render of each worst body, by that checkout's own webchat/text.py."""
    spec = importlib.util.spec_from_file_location(f"text_{abs(hash(root))}", root / "webchat" / "text.py")
    text = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(text)
    out = {}
    for name, body in WORST_BODIES.items():
        text.render_body(body)
        runs = 50
        start = time.perf_counter()
        for _ in range(runs):
            text.render_body(body)
        out[name] = round((time.perf_counter() - start) / runs * 1e6, 1)
    return out


class Bystander:
    """Someone else using the server meanwhile: one request every 20 ms, timed."""

    def __init__(self, port: int, path: str, headers: dict | None = None) -> None:
        self.port, self.path, self.headers = port, path, headers or {}
        self.times: list[float] = []
        self.stop = asyncio.Event()

    async def run(self) -> None:
        conn = HTTPConnection("127.0.0.1", self.port)
        self.timeouts = 0
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    await conn.request("GET", self.path, self.headers, b"", TIMEOUT)
                except (TimeoutError, ConnectionError):
                    self.timeouts += 1  # counted as taking the whole time limit
                    await conn.aclose()
                    conn = HTTPConnection("127.0.0.1", self.port)
                self.times.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.02)
        finally:
            await conn.aclose()

    def summary(self) -> dict:
        return {"requests": len(self.times), "p50_ms": round(percentile(self.times, 50), 1),
                "p99_ms": round(percentile(self.times, 99), 1), "max_ms": round(max(self.times, default=0), 1),
                f"over_{TIMEOUT}_s": self.timeouts}


async def rss_sampler(server: Server, stop: asyncio.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss_kib())
        await asyncio.sleep(0.02)


async def wrong_sign_in(server: Server, n: int, forwarded: bool) -> int:
    headers = {"X-Forwarded-For": f"10.{n // 250}.{n % 250}.7", "X-Forwarded-Proto": "https"} if forwarded else {}
    ghost = LiveUser(server.url, f"ghost{n}", headers)
    try:
        await ghost.page("/login", timeout=60)
        response = await ghost.post("/login", {"username": ghost.username, "password": f"wrong-password-{n}"},
                                    timeout=120)
        return response.status_code
    finally:
        await ghost.aclose()


async def sign_in_storm(root: Path, workdir: Path, forwarded: bool) -> dict:
    env = {"WEBCHAT_ENV": "production"} if forwarded else {}
    server = Server(workdir, f"sqlite://{workdir}/storm.sqlite3", name="storm", root=root, **env)
    server.env["WEBCHAT_RATE_LIMITS"] = "on"
    await server.start()
    try:
        # Behind the proxy too when the storm is, from an address of its own.
        bystander = await LiveUser(server.url, "bystander", FORWARDED if forwarded else None).register()
        await asyncio.sleep(1)
        before = server.rss_kib()
        headers = {"Cookie": bystander.cookie_header()}
        if forwarded:
            headers.update(FORWARDED)
        watcher = Bystander(server.port, "/rooms", headers)
        stop, peak = asyncio.Event(), [before]
        sampler = asyncio.create_task(rss_sampler(server, stop, peak))
        watching = asyncio.create_task(watcher.run())
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        statuses = await asyncio.gather(*(wrong_sign_in(server, n, forwarded) for n in range(STORM)))
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.5)
        stop.set()
        watcher.stop.set()
        await asyncio.gather(sampler, watching)
        await bystander.aclose()
        counts = {str(s): statuses.count(s) for s in sorted(set(statuses))}
        return {"statuses": counts, "seconds": round(seconds, 2), "rss_before_mib": round(before / 1024, 1),
                "rss_peak_mib": round(peak[0] / 1024, 1), "growth_mib": round((peak[0] - before) / 1024, 1),
                "bystander": watcher.summary()}
    finally:
        server.stop()


FORWARDED = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https"}


async def catch_up_storm(root: Path, workdir: Path) -> dict:
    server = Server(workdir, f"sqlite://{workdir}/catchup.sqlite3", name="catchup", root=root)
    await server.start()
    try:
        poster = await LiveUser(server.url, "poster").register()
        room = await poster.create_room("Hostile")
        body = WORST_BODIES["400 shortest links"]
        for n in range(HISTORY + 5):
            await poster.say(room, body, f"n{n}")
        latest = HISTORY + 5
        await asyncio.sleep(1)
        watcher = Bystander(server.port, "/healthz")
        watching = asyncio.create_task(watcher.run())
        await asyncio.sleep(0.3)
        cpu = server.cpu_seconds()
        started = time.perf_counter()

        async def catch_up() -> int:
            # Counts message events in the raw bytes instead of parsing them (tests/helpers/sse.py):
            # ten streams of 1,000 large events would make the client, on the same two cores, part
            # of what is measured.
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=2**24)
            writer.write(stream_request(f"/rooms/{room}/events?last_event_id={latest - HISTORY}",
                                        poster.cookie_header()))
            got, tail, marker = 0, b"", b"event: message\n"
            try:
                async with asyncio.timeout(120):
                    while got < HISTORY:
                        chunk = await reader.read(1 << 20)
                        if not chunk:
                            break
                        data = tail + chunk  # a marker may be split between two reads
                        got += data.count(marker)
                        tail = data[-(len(marker) - 1):]
            finally:
                writer.close()
            return got

        received = await asyncio.gather(*(catch_up() for _ in range(CATCH_UP_STREAMS)))
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.3)
        watcher.stop.set()
        await watching
        await poster.aclose()
        return {"events_received": sum(received), "seconds": round(seconds, 2),
                "server_cpu_s": round(server.cpu_seconds() - cpu, 2), "bystander_healthz": watcher.summary()}
    finally:
        server.stop()


async def measure(root: Path) -> dict:
    out = {"link_render_us": link_rendering(root)}
    sections = {
        "sign_in_storm_one_address": ("sign-in storm from one address",
                                      lambda work: sign_in_storm(root, work, forwarded=False)),
        "sign_in_storm_many_addresses": (f"sign-in storm from {STORM} addresses",
                                         lambda work: sign_in_storm(root, work, forwarded=True)),
        "catch_up_storm": (f"catch-up storm ({HISTORY} hostile messages, {CATCH_UP_STREAMS} streams)",
                           lambda work: catch_up_storm(root, work)),
    }
    with tempfile.TemporaryDirectory(prefix="webchat-abuse-") as tmp:
        for name, (title, run) in sections.items():
            log(f"{root}: {title}")
            try:
                out[name] = await run(Path(tmp) / name)
            except Exception as error:  # a section that fails is reported, the others still run
                out[name] = {"error": f"{type(error).__name__}: {error}"}
            log(f"  {json.dumps(out[name])}")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench abuse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="another checkout to measure alongside")
    args = parser.parse_args(argv)
    results = {"machine": machine.describe()}
    checkouts = [("before", args.before)] if args.before else []
    checkouts.append(("after" if args.before else "now", ROOT))
    for label, root in checkouts:
        results[label] = asyncio.run(measure(root.resolve()))
        print(json.dumps({label: results[label]}, indent=2), flush=True)
    out = ROOT / "bench-results" / "abuse.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
