"""The reliability soak: a real server, 1,000 open streams across 50 rooms, 50 clients posting 20
messages a second in all, for 10 minutes (or --seconds).

    python -m tests.soak                  # the full run: 600 s
    python -m tests.soak --seconds 60     # what CI runs (tests/test_soak.py)
    scripts/soak --seconds 120 --json soak.json

It starts `python -m webchat serve` on a free loopback port (SQLite in a temporary folder,
WEBCHAT_RATE_LIMITS=off), registers one account per room (each a member of its own room and the
next, so every stream also carries unread numbers for two rooms), opens the streams with raw
sockets (tests/helpers/streams.py), and then posts on a fixed schedule. It checks, for every
stream: every message the server answered 303 for arrived exactly once, in order (SSE ids 1..N
with no gap or repeat, and each id carrying the message, author and text that was posted), and
how long each took. It samples the server's RSS and open file descriptors every few seconds from
/proc, and at the end closes every stream and checks from outside that the server let go of all
of them: its descriptors back to where they were before the streams opened, and nobody left in
any room's presence. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import proc
from tests.helpers.http1 import NETWORK_ERRORS, ProtocolError
from tests.helpers.live import LiveServer, LiveUser
from tests.helpers.net import free_port, local_port
from tests.helpers.streams import RawStream, open_stream

_MID = re.compile(r'<li id="m-(\d+)"')
_AUTHOR = re.compile(r'data-author="([^"]+)"')
_TOKEN = re.compile(r"tok:([0-9a-z-]+)")


@dataclass
class SoakConfig:
    seconds: float = 600.0
    streams: int = 1000
    rooms: int = 50
    posters: int = 50
    rate: float = 20.0  # messages a second, in all
    sample_every: float = 5.0
    warmup: float | None = None  # seconds of the posting phase not judged for memory
    max_growth_mib: float | None = None  # allowed RSS growth after warm-up
    max_fanout_seconds: float = 2.0  # the promise: every delivery within this long of the post
    drain_seconds: float = 30.0  # how long after the last post every stream may take to catch up
    release_seconds: float = 40.0  # how long the server may take to let go of closed streams
    workdir: Path | None = None
    database_url: str | None = None
    extra_env: dict = field(default_factory=dict)

    def warmup_seconds(self) -> float:
        return self.warmup if self.warmup is not None else min(60.0, max(20.0, self.seconds * 0.2))

    def growth_allowed_mib(self) -> float:
        return self.max_growth_mib if self.max_growth_mib is not None else 16.0


@dataclass
class Posted:
    room: int
    mid: int
    token: str
    author: str
    sent: float


@dataclass
class StreamRecord:
    index: int
    room: int
    account: str
    cookie: str
    ids: list[int] = field(default_factory=list)
    mids: list[int] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)
    authors: list[str | None] = field(default_factory=list)
    received: list[float] = field(default_factory=list)
    reconnects: int = 0
    other: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class SoakResult:
    config: SoakConfig
    problems: list[str] = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, rss KiB, fds)

    @property
    def ok(self) -> bool:
        return not self.problems

    def curve(self, points: int = 16) -> list[tuple[float, int, int]]:
        """The samples, thinned to about `points` (the JSON output keeps them all)."""
        step = max(1, round(len(self.samples) / points))
        shown = self.samples[::step]
        if self.samples and shown[-1] is not self.samples[-1]:
            shown.append(self.samples[-1])
        return shown

    def report(self) -> str:
        n = self.numbers
        lines = [
            f"soak: {n.get('streams_open', 0)} streams across {self.config.rooms} rooms, "
            f"{self.config.posters} posters at {self.config.rate:g}/s for {self.config.seconds:g} s",
            f"  posted {n.get('posted', 0)} messages ({n.get('post_rate', 0):.2f}/s achieved), "
            f"{n.get('post_failures', 0)} failed posts, post latency p50 {n.get('post_p50_ms', 0):.0f} ms "
            f"p99 {n.get('post_p99_ms', 0):.0f} ms",
            f"  deliveries checked {n.get('deliveries', 0)}: lost {n.get('lost', 0)}, duplicated "
            f"{n.get('duplicated', 0)}, out of order {n.get('out_of_order', 0)}, wrong content "
            f"{n.get('wrong_content', 0)}; stream reconnects {n.get('reconnects', 0)}",
            f"  fan-out latency (post sent -> event parsed): p50 {n.get('fanout_p50_ms', 0):.0f} ms, "
            f"p99 {n.get('fanout_p99_ms', 0):.0f} ms, max {n.get('fanout_max_ms', 0):.0f} ms",
            f"  server RSS: start of posting {n.get('rss_start_mib', 0):.1f} MiB, after warm-up "
            f"{n.get('rss_warm_mib', 0):.1f} MiB, end {n.get('rss_end_mib', 0):.1f} MiB, peak "
            f"{n.get('rss_peak_mib', 0):.1f} MiB; growth after warm-up {n.get('rss_growth_mib', 0):+.1f} MiB "
            f"(slope {n.get('rss_slope_mib_per_min', 0):+.2f} MiB/min)",
            f"  file descriptors: before streams {n.get('fds_before', 0)}, with streams "
            f"{n.get('fds_streams', 0)}, after closing {n.get('fds_after', 0)} "
            f"(released in {n.get('release_s', 0):.1f} s); presence empty in every room: "
            f"{n.get('presence_empty', False)}",
            "  RSS curve (s: MiB/fds): " + ", ".join(
                f"{t:.0f}: {rss / 1024:.1f}/{fds}" for t, rss, fds in self.curve()),
        ]
        lines += [f"  PROBLEM: {p}" for p in self.problems] or ["  all checks passed"]
        return "\n".join(lines)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Soak:
    def __init__(self, config: SoakConfig) -> None:
        self.config = config
        self.result = SoakResult(config)
        self.port = free_port()
        self.workdir = config.workdir or Path(tempfile.mkdtemp(prefix="webchat-soak-"))
        self.server: LiveServer | None = None
        self.accounts: list[LiveUser] = []
        self.room_ids: list[int] = []
        self.posted: dict[int, list[Posted]] = {}
        self.post_latencies: list[float] = []
        self.post_failures: list[str] = []
        self.records: list[StreamRecord] = []
        self.closing = False
        self.tasks: list[asyncio.Task] = []
        self.samples: list[tuple[float, int, int]] = []
        self.stream_ports: set[int] = set()
        self.t0 = time.monotonic()

    # -- set-up ------------------------------------------------------------------------------
    async def start_server(self) -> None:
        url = self.config.database_url or f"sqlite://{self.workdir / 'soak.sqlite3'}"
        env = {"WEBCHAT_RATE_LIMITS": "off", **self.config.extra_env}
        self.server = await asyncio.to_thread(LiveServer(self.port, self.workdir, url, **env).start, 60)

    async def make_accounts_and_rooms(self) -> None:
        rooms = self.config.rooms
        self.accounts = [LiveUser(self.server.url, f"soak{k:03d}") for k in range(rooms)]
        sem = asyncio.Semaphore(8)

        async def register(account):
            async with sem:
                await account.register()

        await asyncio.gather(*(register(a) for a in self.accounts))
        for k, account in enumerate(self.accounts):
            self.room_ids.append(await account.create_room(f"Soak room {k}"))
        for k, account in enumerate(self.accounts):  # also a member of the next room
            await account.join(self.room_ids[(k + 1) % rooms])
        self.posted = {room: [] for room in self.room_ids}

    # -- streams -----------------------------------------------------------------------------
    async def open_streams(self) -> None:
        rooms = self.config.rooms
        for index in range(self.config.streams):
            slot = index % rooms
            # Half of a room's streams are its owner's, half the previous room's owner's.
            account = self.accounts[slot if (index // rooms) % 2 == 0 else (slot - 1) % rooms]
            self.records.append(StreamRecord(index, self.room_ids[slot], account.username, account.cookie_header()))
        sem = asyncio.Semaphore(50)
        opened = []

        async def open_one(record):
            async with sem:
                stream = await self._connect(record, 0)
                opened.append(stream)
                self.tasks.append(asyncio.create_task(self._follow(record, stream)))

        await asyncio.gather(*(open_one(r) for r in self.records))

    async def _connect(self, record: StreamRecord, last_id: int) -> RawStream:
        stream = await open_stream(
            self.port, f"/rooms/{record.room}/events?last_event_id={last_id}", record.cookie, timeout=30)
        if stream.status != 200:
            raise RuntimeError(f"stream {record.index}: status {stream.status}")
        self.stream_ports.add(local_port(stream))
        return stream

    async def _follow(self, record: StreamRecord, stream: RawStream) -> None:
        try:
            while True:
                try:
                    batch = await stream.read_events()
                except (OSError, ProtocolError) as error:
                    batch, record.error = None, repr(error)
                if batch is None:
                    stream.close()
                    if self.closing:
                        return
                    # The server ended the stream (it may cut off a slow reader): resume, as a
                    # browser does, from the last id seen.
                    record.reconnects += 1
                    await asyncio.sleep(0.5)
                    stream = await self._connect(record, record.ids[-1] if record.ids else 0)
                    continue
                for event in batch:
                    if event.event == "message":
                        record.ids.append(int(event.id) if event.id else 0)
                        mid = _MID.search(event.data)
                        token = _TOKEN.search(event.data)
                        author = _AUTHOR.search(event.data)
                        record.mids.append(int(mid.group(1)) if mid else 0)
                        record.tokens.append(token.group(1) if token else None)
                        record.authors.append(author.group(1) if author else None)
                        record.received.append(event.received)
                    else:
                        record.other[event.event] = record.other.get(event.event, 0) + 1
        except asyncio.CancelledError:
            stream.close()
            raise

    # -- posting -----------------------------------------------------------------------------
    async def post_all(self) -> None:
        config = self.config
        start = time.monotonic() + 0.5
        end = start + config.seconds
        interval = config.posters / config.rate  # each poster's period

        async def poster(k: int) -> None:
            account = self.accounts[k % len(self.accounts)]
            room = self.room_ids[k % len(self.room_ids)]
            rng = random.Random(k)
            n = 0
            while True:
                at = start + (k / config.rate) + n * interval
                if at >= end:
                    return
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                token = f"r{room}-n{n}-{uuid.uuid4().hex[:10]}"
                body = f"soak message tok:{token} " + "lorem ipsum " * rng.randint(1, 30)
                sent = time.monotonic()
                try:
                    response = await account.post(f"/rooms/{room}/messages", {"body": body, "nonce": token})
                except NETWORK_ERRORS as error:
                    self.post_failures.append(f"{account.username}: {error!r}")
                    n += 1
                    continue
                self.post_latencies.append(time.monotonic() - sent)
                location = response.headers.get("location", "")
                if response.status_code != 303 or "#m-" not in location:
                    self.post_failures.append(f"{account.username}: {response.status_code}")
                else:
                    mid = int(location.rsplit("#m-", 1)[1])
                    self.posted[room].append(Posted(room, mid, token, account.username, sent))
                n += 1

        await asyncio.gather(*(poster(k) for k in range(config.posters)))

    async def sample_forever(self) -> None:
        pid = self.server.process.pid
        while True:
            try:
                self.samples.append((time.monotonic() - self.t0, proc.rss_kib(pid), proc.fd_count(pid)))
            except (OSError, RuntimeError):
                return
            await asyncio.sleep(self.config.sample_every)

    # -- checks ------------------------------------------------------------------------------
    async def wait_for_delivery(self) -> None:
        expected = {room: len(items) for room, items in self.posted.items()}
        deadline = time.monotonic() + self.config.drain_seconds
        while time.monotonic() < deadline:
            if all(len(r.ids) >= expected[r.room] for r in self.records):
                return
            await asyncio.sleep(0.2)

    def verify(self) -> None:
        numbers, problems = self.result.numbers, self.result.problems
        lost = duplicated = out_of_order = wrong = 0
        latencies: list[float] = []
        for record in self.records:
            posts = sorted(self.posted[record.room], key=lambda p: p.mid)
            expected_ids = list(range(1, len(posts) + 1))
            ids = record.ids
            duplicated += len(ids) - len(set(ids))
            lost += len(set(expected_ids) - set(ids))
            out_of_order += sum(1 for a, b in zip(ids, ids[1:]) if b <= a)
            for position, event_id in enumerate(ids):
                if not 1 <= event_id <= len(posts):
                    wrong += 1
                    continue
                post = posts[event_id - 1]
                if (record.mids[position], record.tokens[position], record.authors[position]) != (
                        post.mid, post.token, post.author):
                    wrong += 1
                else:
                    latencies.append(record.received[position] - post.sent)
        numbers.update(
            deliveries=sum(len(r.ids) for r in self.records), lost=lost, duplicated=duplicated,
            out_of_order=out_of_order, wrong_content=wrong,
            reconnects=sum(r.reconnects for r in self.records),
            fanout_p50_ms=_percentile(latencies, 0.5) * 1000, fanout_p99_ms=_percentile(latencies, 0.99) * 1000,
            fanout_max_ms=max(latencies, default=0) * 1000,
        )
        if numbers["fanout_max_ms"] > self.config.max_fanout_seconds * 1000:
            problems.append(f"slowest delivery took {numbers['fanout_max_ms']:.0f} ms "
                            f"(promised: under {self.config.max_fanout_seconds:g} s)")
        for name in ("lost", "duplicated", "out_of_order", "wrong_content"):
            if numbers[name]:
                problems.append(f"{numbers[name]} {name.replace('_', ' ')} across all streams")
        errors = [r for r in self.records if r.error]
        if errors:
            problems.append(f"{len(errors)} streams failed, e.g. {errors[0].error}")

    def verify_memory(self, posting_started: float) -> None:
        numbers, problems = self.result.numbers, self.result.problems
        judged = [(t, rss) for t, rss, _ in self.samples if t >= posting_started + self.config.warmup_seconds()]
        during = [(t, rss) for t, rss, _ in self.samples if t >= posting_started]
        if not during:
            problems.append("no memory samples during posting")
            return
        numbers["rss_start_mib"] = during[0][1] / 1024
        numbers["rss_end_mib"] = during[-1][1] / 1024
        numbers["rss_peak_mib"] = max(rss for _, rss in during) / 1024
        if len(judged) >= 3:
            head = statistics.mean(rss for _, rss in judged[:2])
            tail = statistics.mean(rss for _, rss in judged[-2:])
            numbers["rss_warm_mib"] = head / 1024
            numbers["rss_growth_mib"] = (tail - head) / 1024
            times = [t for t, _ in judged]
            values = [rss / 1024 for _, rss in judged]
            slope = statistics.linear_regression(times, values).slope if len(set(times)) > 1 else 0.0
            numbers["rss_slope_mib_per_min"] = slope * 60
            if numbers["rss_growth_mib"] > self.config.growth_allowed_mib():
                problems.append(f"RSS grew {numbers['rss_growth_mib']:.1f} MiB after warm-up "
                                f"(allowed {self.config.growth_allowed_mib():g})")
        else:
            problems.append("too few memory samples after warm-up to judge the curve")

    async def verify_release(self, fds_before: int) -> None:
        """Every stream's socket gone from the server (matched by our ports in /proc/net/tcp), and
        its descriptor count back to what it was before the streams opened."""
        numbers, problems = self.result.numbers, self.result.problems
        pid, port = self.server.process.pid, self.port

        def held() -> set[int]:
            return set(proc.server_connections(pid, port)) & self.stream_ports

        started = time.monotonic()
        released = await proc.wait_until(lambda: not held() and proc.fd_count(pid) <= fds_before,
                                           self.config.release_seconds, 0.25)
        numbers["release_s"] = time.monotonic() - started
        numbers["fds_after"] = proc.fd_count(pid)
        numbers["stream_sockets_left"] = len(held())
        if not released:
            problems.append(f"server still holds {numbers['stream_sockets_left']} stream sockets and "
                            f"{numbers['fds_after']} descriptors (had {fds_before} before the streams opened)")
        viewer = self.accounts[0]  # a page view does not make anyone present
        empty = True
        for room in self.room_ids:
            page = await viewer.page(f"/rooms/{room}")
            presence = re.search(r'<div id="presence"[^>]*>(.*?)</div>', page.text, re.S)
            if presence is None or "Nobody is here now" not in presence.group(1):
                empty = False
                problems.append(f"room {room} still shows presence: "
                                f"{presence.group(1)[:200] if presence else 'no #presence'}")
                break
        numbers["presence_empty"] = empty
        log = self.server.log()
        bad = [line for line in log.splitlines() if "Traceback" in line or " ERROR " in line]
        if bad:
            problems.append(f"server log has {len(bad)} error lines, e.g. {bad[0]!r}")

    # -- the run -----------------------------------------------------------------------------
    async def run(self) -> SoakResult:
        numbers = self.result.numbers
        sampler = None
        try:
            await self.start_server()
            pid = self.server.process.pid
            await self.make_accounts_and_rooms()
            await asyncio.sleep(0.5)
            fds_before = proc.fd_count(pid)
            numbers["fds_before"] = fds_before
            sampler = asyncio.create_task(self.sample_forever())
            await self.open_streams()
            numbers["streams_open"] = len(self.records)
            await asyncio.sleep(1)
            numbers["fds_streams"] = proc.fd_count(pid)
            posting_started = time.monotonic() - self.t0
            began = time.monotonic()
            await self.post_all()
            posting_took = time.monotonic() - began
            posted = sum(len(v) for v in self.posted.values())
            numbers.update(
                posted=posted, post_rate=posted / max(posting_took, 1e-9),
                post_failures=len(self.post_failures),
                post_p50_ms=_percentile(self.post_latencies, 0.5) * 1000,
                post_p99_ms=_percentile(self.post_latencies, 0.99) * 1000,
            )
            if self.post_failures:
                self.result.problems.append(f"{len(self.post_failures)} posts failed, e.g. {self.post_failures[0]}")
            if posted < 0.9 * self.config.rate * self.config.seconds:
                self.result.problems.append(f"only {posted} messages posted; the schedule asked for "
                                            f"{self.config.rate * self.config.seconds:.0f}")
            await self.wait_for_delivery()
            self.verify()
            self.verify_memory(posting_started)
            self.closing = True
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.verify_release(fds_before)
        finally:
            self.closing = True
            if sampler:
                sampler.cancel()
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for account in self.accounts:
                await account.aclose()
            if self.server is not None:
                code = await asyncio.to_thread(self.server.stop)
                if code not in (0, None) and self.result.ok:
                    self.result.problems.append(f"server exited {code} on SIGTERM")
            self.result.samples = self.samples
        return self.result


async def run_soak(config: SoakConfig) -> SoakResult:
    return await Soak(config).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to post (default 600)")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--posters", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="messages a second in all")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--max-growth-mib", type=float, default=None)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    config = SoakConfig(seconds=args.seconds, streams=args.streams, rooms=args.rooms, posters=args.posters,
                        rate=args.rate, sample_every=args.sample_every, max_growth_mib=args.max_growth_mib,
                        database_url=args.database_url)
    result = asyncio.run(run_soak(config))
    print(result.report(), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"ok": result.ok, "problems": result.problems,
                                         "numbers": result.numbers, "samples": result.samples}, indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
