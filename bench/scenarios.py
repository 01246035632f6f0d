"""The measurements. Each phase takes a `Chat` (servers, users, rooms) and returns a dict of figures.

Every message the benchmark posts carries `BENCH:POSTER:SEQ:T_NS:END` in its body: who posted it,
that poster's sequence number, and `time.perf_counter_ns()` just before the POST was written. A
subscriber that receives it knows the latency (same clock, same process) and can tell a lost,
duplicated or reordered message from the poster's sequence and the SSE id.
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
from dataclasses import dataclass, field

from bench import sse
from bench.server import Server
from bench.stats import percentile, summary_ms
from tests.helpers.http1 import NETWORK_ERRORS
from tests.helpers.live import LiveUser

HOST = "127.0.0.1"
FILLER = "the quick brown fox jumps over the lazy dog, and then sits down to wait for the reply"
_perf = time.perf_counter
_perf_ns = time.perf_counter_ns


def body_for(poster: int, seq: int) -> str:
    return f"BENCH:{poster}:{seq}:{_perf_ns()}:END {FILLER}"


def parse_token(data: str) -> tuple[int, int, int] | None:
    start = data.find("BENCH:")
    if start < 0:
        return None
    end = data.find(":END", start)
    poster, seq, sent = data[start + 6:end].split(":")
    return int(poster), int(seq), int(sent)


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Chat:
    """The servers of one configuration and the people and rooms the benchmark made in them."""

    servers: list[Server]
    users: list[LiveUser] = field(default_factory=list)
    rooms: dict[str, int] = field(default_factory=dict)
    history_events: int = 0  # events in the history room (all messages, ids 1..N)
    run: str = ""

    @property
    def post_server(self) -> Server:
        return self.servers[0]

    def cookie(self, i: int) -> str:
        return self.users[i].cookie_header()

    def server_for(self, i: int) -> Server:
        """Streams are split evenly across the servers."""
        return self.servers[i % len(self.servers)]


class Watch:
    """CPU and memory of the servers (and client CPU) across a phase."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.cpu = [s.cpu_seconds() for s in chat.servers]
        self.client = client_cpu()
        self.started = _perf()

    def done(self) -> dict:
        wall = _perf() - self.started
        return {
            "wall_s": round(wall, 2),
            "server_cpu_s": [round(s.cpu_seconds() - c, 2) for s, c in zip(self.chat.servers, self.cpu)],
            "client_cpu_s": round(client_cpu() - self.client, 2),
            "server_rss_mib": [round(s.rss_kib() / 1024, 1) for s in self.chat.servers],
        }


# ---------------------------------------------------------------------------------------- setup
async def setup(chat: Chat, n_users: int, throughput_rooms: int, history_messages: int,
                log) -> None:
    server = chat.post_server
    t = _perf()
    sem = asyncio.Semaphore(4)  # Argon2 runs in the server's threads: more would only queue

    async def register(i: int) -> LiveUser:
        async with sem:
            user = LiveUser(server.url, f"b{chat.run}u{i:05d}")
            return await user.register(user.username.title())

    chat.users = list(await asyncio.gather(*(register(i) for i in range(n_users))))
    log(f"  registered {n_users} users in {_perf() - t:.1f}s")
    owner = chat.users[0]
    chat.rooms["fanout"] = await owner.create_room("Fan-out")
    chat.rooms["history"] = await owner.create_room("History")
    for k in range(throughput_rooms):
        chat.rooms[f"t{k}"] = await owner.create_room(f"Throughput {k}")

    async def joins(i: int, user: LiveUser) -> None:
        if i:
            await user.join(chat.rooms["fanout"])
        # Group k of the users (contiguous) belongs to throughput room k, and to no other.
        group = i * throughput_rooms // n_users
        if i and f"t{group}" in chat.rooms:
            await user.join(chat.rooms[f"t{group}"])
        if 0 < i < 4:
            await user.join(chat.rooms["history"])

    await asyncio.gather(*(joins(i, u) for i, u in enumerate(chat.users)))
    # The history room: enough messages for a 50-message page and a 1,000-event replay.
    t = _perf()
    authors = chat.users[:4]
    per = -(-history_messages // len(authors))

    async def author(a: int, user: LiveUser) -> int:
        done = 0
        for s in range(per):
            if a * per + s >= history_messages:
                break
            await user.say(chat.rooms["history"], body_for(1000 + a, s), nonce=f"h{a}-{s}")
            done += 1
        return done

    chat.history_events = sum(await asyncio.gather(*(author(a, u) for a, u in enumerate(authors))))
    log(f"  posted {chat.history_events} history messages in {_perf() - t:.1f}s")
    for user in chat.users:
        await user.aclose()


# ---------------------------------------------------------------------------------------- page
async def page_render(chat: Chat, requests: int, log) -> dict:
    viewer = chat.users[1].on(chat.servers[-1])
    path = f"/rooms/{chat.rooms['history']}"
    watch = Watch(chat)
    times = []
    try:
        for i in range(requests + 10):
            r = await viewer.request("GET", path)
            if r.status_code != 200:
                raise RuntimeError(f"room page: {r.status_code} {r.content[:300]!r}")
            if i == 0:
                shown = r.content.count(b'<li id="m-')
                size = len(r.content)
            if i >= 10:  # the first ten warm the caches
                times.append(r.elapsed)
    finally:
        await viewer.aclose()
    result = {"requests": requests, "messages_shown": shown, "page_bytes": size, **summary_ms(times),
              **watch.done()}
    log(f"  room page: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms ({shown} messages, {size} bytes)")
    return result


# ---------------------------------------------------------------------------------------- replay
class ReplayOwner(sse.Owner):
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last
        self.done = asyncio.get_running_loop().create_future()
        self.first_at = None
        self.count = 0
        self.bad = 0

    def on_message(self, stream, event_id, data, received):
        if self.first_at is None:
            self.first_at = received
        expected = self.first + self.count
        if event_id != expected:
            self.bad += 1
        self.count += 1
        if event_id == self.last and not self.done.done():
            self.done.set_result(received)

    def on_closed(self, stream):
        if not self.done.done():
            self.done.set_exception(ConnectionError("replay stream ended early"))


async def replay(chat: Chat, reps: int, log, behind: int = 1000) -> dict:
    latest = chat.history_events
    after = latest - behind
    server = chat.servers[-1]
    path = f"/rooms/{chat.rooms['history']}/events"
    cookie = chat.cookie(1)
    times, firsts, problems = [], [], 0
    watch = Watch(chat)
    for i in range(reps + 2):
        owner = ReplayOwner(after + 1, latest)
        loop = asyncio.get_running_loop()
        request = sse.stream_request(HOST, server.port, path, cookie, last_event_id=after)
        started = _perf()
        _, stream = await loop.create_connection(lambda: sse.Stream(owner, request), HOST, server.port)
        try:
            async with asyncio.timeout(30):
                finished = await owner.done
        finally:
            stream.close()
        if owner.count != behind or owner.bad:
            problems += 1
        if i >= 2:  # two warm-ups
            times.append(finished - started)
            firsts.append(owner.first_at - started)
        await asyncio.sleep(0.05)
    result = {"behind": behind, "reps": reps, "wrong_replays": problems, **summary_ms(times),
              "first_event": summary_ms(firsts), **watch.done()}
    log(f"  replay of {behind}: p50 {result['p50_ms']} ms, max {result['max_ms']} ms, wrong {problems}")
    return result


# ---------------------------------------------------------------------------------------- streams
class IdleOwner(sse.Owner):
    """Streams that only wait; any that ends without us closing it is a drop."""

    def __init__(self) -> None:
        self.dropped = 0
        self.dropped_ids = []

    def on_closed(self, stream):
        if not stream.closed_by_us:
            self.dropped += 1


class FanoutOwner(IdleOwner):
    """Arrival counts and the last arrival time of each posted token."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[tuple[int, int], list] = {}
        self.expect: dict[tuple[int, int], tuple[int, asyncio.Future]] = {}
        self.id_anomalies = 0
        self.by_tag_last: dict = {}

    def on_message(self, stream, event_id, data, received):
        if stream.messages > 1 and event_id != stream.last_id + 1:
            self.id_anomalies += 1
        token = parse_token(data)
        if token is None:
            return
        key = token[:2]
        entry = self.arrivals.get(key)
        if entry is None:
            entry = self.arrivals[key] = [0, received, received, token[2], {}]
        entry[0] += 1
        if received > entry[2]:
            entry[2] = received
        per_server = entry[4]
        port = stream.tag[1]
        if received > per_server.get(port, 0):
            per_server[port] = received
        want = self.expect.get(key)
        if want and entry[0] >= want[0] and not want[1].done():
            want[1].set_result(None)


def stream_specs(chat: Chat, room: int, per_user: int, users: range, start_index: int = 0):
    """(port, path, cookie, tag) for per_user streams of each user, interleaved by user."""
    specs = []
    index = start_index
    for _ in range(per_user):
        for u in users:
            server = chat.server_for(index)
            specs.append((server.port, f"/rooms/{room}/events", chat.cookie(u), (u, server.port)))
            index += 1
    return specs


async def settle_rss(chat: Chat, seconds: float = 3.0) -> list[int]:
    await asyncio.sleep(seconds)
    samples = []
    for _ in range(3):
        samples.append([s.rss_kib() for s in chat.servers])
        await asyncio.sleep(0.5)
    return [sorted(col)[1] for col in zip(*samples)]


async def fanout(chat: Chat, owner: FanoutOwner, streams: list[sse.Stream], messages: int,
                 log, poster: LiveUser, gap: float = 0.2) -> dict:
    """Post `messages` messages one at a time to the fan-out room; each waits for every subscriber."""
    n = sum(1 for s in streams if not s.ended)
    room = chat.rooms["fanout"]
    latencies, medians, post_times, missing = [], [], [], 0
    per_server: dict[int, list[float]] = {}
    watch = Watch(chat)
    p = 900 + n % 97  # a poster number of its own for each run
    for seq in range(messages):
        key = (p, seq)
        done = asyncio.get_running_loop().create_future()
        owner.expect[key] = (n, done)
        body = body_for(p, seq)
        r = await poster.say(room, body, nonce=f"f{chat.run}-{n}-{seq}")
        post_times.append(r.elapsed)
        try:
            async with asyncio.timeout(60):
                await done
        except TimeoutError:
            pass
        count, first, last, sent_ns, servers = owner.arrivals.get(key, [0, 0, 0, 0, {}])
        sent = sent_ns / 1e9
        if count < n:
            missing += n - count
        if count:
            latencies.append(last - sent)
            medians.append(first - sent)
            for port, at in servers.items():
                per_server.setdefault(port, []).append(at - sent)
        del owner.expect[key]
        await asyncio.sleep(gap)
    result = {
        "subscribers": n,
        "messages": messages,
        "missing_deliveries": missing,
        "id_anomalies": owner.id_anomalies,
        "last_receipt": summary_ms(latencies),
        "last_receipt_each_ms": [round(x * 1000, 1) for x in latencies],
        "first_receipt": summary_ms(medians),
        "post": summary_ms(post_times),
        **watch.done(),
    }
    # Server CPU for the whole phase (the posts, their fan-out, and the idle gaps between them)
    # per message delivered: an upper bound on what one delivery costs.
    result["server_cpu_us_per_delivery"] = round(sum(result["server_cpu_s"]) / max(1, messages * n) * 1e6, 2)
    if len(per_server) > 1:
        result["last_receipt_by_server"] = {
            str(port): summary_ms(values) for port, values in per_server.items()
        }
    lr = result["last_receipt"]
    log(f"  fan-out to {n:>6}: last receipt p50 {lr.get('p50_ms')} ms, p99 {lr.get('p99_ms')} ms, "
        f"max {lr.get('max_ms')} ms; missing {missing}")
    return result


# ---------------------------------------------------------------------------------------- throughput
class FlowOwner(sse.Owner):
    """Checks every subscriber's stream: SSE ids consecutive, each poster's messages once, in order."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.duplicates = 0
        self.out_of_order = 0
        self.id_gaps = 0
        self.id_repeats = 0
        self.reconnects = 0
        self.failed_reconnects = 0
        self.streams: list[sse.Stream] = []
        self.stopping = False
        self.pending: set[asyncio.Task] = set()
        self.latencies: list[float] = []
        self.sample_every = 1

    def on_message(self, stream, event_id, data, received):
        st = stream.state
        if st["last_id"]:
            if event_id <= st["last_id"]:
                self.id_repeats += 1
            elif event_id != st["last_id"] + 1:
                self.id_gaps += 1
        if event_id > st["last_id"]:
            st["last_id"] = event_id
        token = parse_token(data)
        if token is None:
            return
        poster, seq, sent = token
        track = st["posters"].get(poster)
        if track is None:
            track = st["posters"][poster] = [-1, set(), 0]  # last seq, holes, unique count
        last, holes = track[0], track[1]
        if seq == last + 1:
            track[0] = seq
            track[2] += 1
        elif seq > last + 1:
            holes.update(range(last + 1, seq))
            track[0] = seq
            track[2] += 1
        elif seq in holes:
            holes.discard(seq)
            self.out_of_order += 1
            track[2] += 1
        else:
            self.duplicates += 1
        st["count"] += 1
        if st["count"] % self.sample_every == 0:
            self.latencies.append(received - sent / 1e9)

    def on_closed(self, stream):
        if stream.closed_by_us or self.stopping:
            return
        # As a browser would: reconnect with Last-Event-ID and go on (overflow, for example).
        self.reconnects += 1
        task = asyncio.ensure_future(self._reconnect(stream))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _reconnect(self, old: sse.Stream) -> None:
        port, path, cookie = old.tag[1], old.tag[2], old.tag[3]
        for attempt in range(5):
            try:
                await asyncio.sleep(0.1 * attempt)
                new = await sse.open_stream(self, HOST, port, path, cookie,
                                            last_event_id=old.state["last_id"] or None, tag=old.tag)
                new.state = old.state
                self.streams[self.streams.index(old)] = new
                return
            except (ConnectionError, OSError, TimeoutError):
                continue
        self.failed_reconnects += 1


class Posters:
    """Posting users; records what was posted, what failed, and how long each POST took."""

    def __init__(self) -> None:
        self.ok = 0
        self.failed: set[tuple[int, int]] = set()
        self.errors: dict[str, int] = {}
        self.latencies: list[float] = []
        self.from_schedule: list[float] = []
        self.posted: dict[int, tuple[int, int]] = {}  # poster -> (room, count attempted)
        self.per_second: dict[int, int] = {}

    async def post_one(self, chat, user, room, p, seq, t0) -> None:
        body = body_for(p, seq)
        started = _perf()
        try:
            r = await user.say(room, body, nonce=f"t{chat.run}-{p}-{seq}", timeout=60, check=False)
            status = r.status_code
        except NETWORK_ERRORS as error:
            status = type(error).__name__
        ended = _perf()
        self.posted[p] = (room, seq + 1)
        if status == 200:
            self.ok += 1
            self.latencies.append(ended - started)
            bucket = int(ended - t0)
            self.per_second[bucket] = self.per_second.get(bucket, 0) + 1
        else:
            self.failed.add((p, seq))
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
        return ended - started


async def open_flow_streams(chat: Chat, owner: FlowOwner, rooms: list[str], per_room: int, log):
    """per_room subscribers in each room, from the users of that room's group, split over the servers."""
    n_users = len(chat.users)
    specs = []
    index = 0
    for k, name in enumerate(rooms):
        group = [i for i in range(1, n_users) if i * len(rooms) // n_users == k]
        room = chat.rooms[name]
        for j in range(per_room):
            u = group[j % len(group)]
            server = chat.server_for(index)
            path = f"/rooms/{room}/events"
            specs.append((server.port, path, chat.cookie(u), (u, server.port, path, chat.cookie(u), name)))
            index += 1
    t = _perf()
    streams = await sse.open_many(owner, specs)
    for stream in streams:
        stream.state = {"last_id": 0, "posters": {}, "count": 0, "room": stream.tag[4]}
    owner.streams = streams
    log(f"  opened {len(streams)} streams in {len(rooms)} rooms in {_perf() - t:.1f}s")
    return streams


def posters_for(chat: Chat, rooms: list[str], per_room: int) -> list[tuple[int, LiveUser, int]]:
    """(poster number, user, room id): members of each room's group, on alternating servers."""
    n_users = len(chat.users)
    out = []
    p = 0
    for k, name in enumerate(rooms):
        group = [i for i in range(1, n_users) if i * len(rooms) // n_users == k]
        for j in range(per_room):
            u = group[j % len(group)]
            server = chat.server_for(p)
            user = chat.users[u].on(server)
            out.append((p, user, chat.rooms[name]))
            p += 1
    return out


async def warm_crew(chat: Chat, rooms: list[str], per_room: int) -> list[tuple[int, LiveUser, int]]:
    """posters_for(), each with a CSRF token and a warm connection, outside the clock."""
    crew = posters_for(chat, rooms, per_room)
    for _, user, _ in crew:
        await user.page("/login")
    return crew


async def wind_up(chat: Chat, owner: FlowOwner, posters: Posters, crew, watch: Watch) -> tuple[dict, dict]:
    """After a posting phase: its CPU and memory figures, then the loss check; the crew closed."""
    posting = watch.done()
    check = await verify_flow(chat, owner, posters, drain=30)
    for _, user, _ in crew:
        await user.aclose()
    return posting, check


async def verify_flow(chat: Chat, owner: FlowOwner, posters: Posters, drain: float, base: int = 0) -> dict:
    """Wait for the streams to catch up, then count what each subscriber lost."""
    expected_by_room: dict[int, dict[int, int]] = {}
    for p, (room, count) in posters.posted.items():
        expected_by_room.setdefault(room, {})[p] = count
    name_to_id = chat.rooms

    def lost_now() -> int:
        lost = 0
        for stream in owner.streams:
            st = stream.state
            for p, count in expected_by_room.get(name_to_id[st["room"]], {}).items():
                track = st["posters"].get(p)
                failed = sum(1 for s in range(count) if (p, s) in posters.failed) if posters.failed else 0
                got = track[2] if track else 0
                lost += max(0, count - failed - got)
        return lost

    deadline = _perf() + drain
    lost = lost_now()
    while lost and _perf() < deadline:
        await asyncio.sleep(0.5)
        lost = lost_now()
    return {
        "lost": lost,
        "duplicated": owner.duplicates,
        "out_of_order": owner.out_of_order,
        "sse_id_gaps": owner.id_gaps,
        "sse_id_repeats": owner.id_repeats,
        "reconnects": owner.reconnects,
        "failed_reconnects": owner.failed_reconnects,
    }


async def throughput(chat: Chat, owner: FlowOwner, rooms: list[str], posters_per_room: int,
                     seconds: float, log) -> dict:
    """Closed loop: each poster posts again as soon as its previous POST is answered."""
    posters = Posters()
    crew = await warm_crew(chat, rooms, posters_per_room)
    start_seq = {p: 0 for p, _, _ in crew}
    watch = Watch(chat)
    t0 = _perf()
    stop_at = t0 + seconds

    async def loop(p, user, room):
        seq = start_seq[p]
        while _perf() < stop_at:
            await posters.post_one(chat, user, room, p, seq, t0)
            seq += 1

    await asyncio.gather(*(loop(*c) for c in crew))
    elapsed = _perf() - t0
    posting, check = await wind_up(chat, owner, posters, crew, watch)
    buckets = [posters.per_second.get(i, 0) for i in range(int(seconds))]
    subscribers = len(owner.streams)
    result = {
        "rooms": len(rooms),
        "subscribers_per_room": subscribers // len(rooms),
        "posters": len(crew),
        "seconds": round(elapsed, 2),
        "messages": posters.ok,
        "messages_per_s": round(posters.ok / elapsed, 1),
        "per_second_min": min(buckets) if buckets else 0,
        "per_second_median": percentile(buckets, 50) if buckets else 0,
        "deliveries_per_s": round(posters.ok * subscribers / len(rooms) / elapsed, 1),
        "post_errors": posters.errors,
        "post": summary_ms(posters.latencies),
        "delivery_latency": summary_ms(owner.latencies),
        **check,
        **posting,
    }
    owner.latencies.clear()
    log(f"  throughput: {result['messages_per_s']} msg/s with {len(crew)} posters; lost {check['lost']}, "
        f"dup {check['duplicated']}, out of order {check['out_of_order']}, reconnects {check['reconnects']}")
    return result


async def post_latency(chat: Chat, owner: FlowOwner, rooms: list[str], n_posters: int, rate: float,
                       seconds: float, log) -> dict:
    """Open loop: n_posters each post on a schedule, rate messages/s in all; time every POST."""
    posters = Posters()
    crew = await warm_crew(chat, rooms, n_posters // len(rooms))
    offset = 10_000  # poster numbers of their own, apart from the throughput phase's
    interval = len(crew) / rate
    watch = Watch(chat)
    t0 = _perf() + 0.1
    stop_at = t0 + seconds
    late = 0

    async def loop(i, p, user, room):
        nonlocal late
        due = t0 + interval * i / len(crew) + random.random() * interval * 0.1
        seq = 0
        while due < stop_at:
            wait = due - _perf()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late += 1
            took = await posters.post_one(chat, user, room, offset + p, seq, t0)
            posters.from_schedule.append(_perf() - due)
            seq += 1
            due += interval

    await asyncio.gather(*(loop(i, p, u, r) for i, (p, u, r) in enumerate(crew)))
    elapsed = _perf() - t0
    posting, check = await wind_up(chat, owner, posters, crew, watch)
    result = {
        "posters": len(crew),
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(posters.ok / elapsed, 1),
        "messages": posters.ok,
        "late_sends": late,
        "post_errors": posters.errors,
        **summary_ms(posters.latencies),
        "from_schedule": summary_ms(posters.from_schedule),
        "delivery_latency": summary_ms(owner.latencies),
        **check,
        **posting,
    }
    owner.latencies.clear()
    log(f"  POST latency, {len(crew)} posters at {rate:g}/s: p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms; lost {check['lost']}")
    return result


async def post_saturated(chat: Chat, owner: FlowOwner, rooms: list[str], n_posters: int,
                         seconds: float, log) -> dict:
    """Closed loop with n_posters: the latency each sees when all post as fast as they can."""
    posters = Posters()
    crew = await warm_crew(chat, rooms, n_posters // len(rooms))
    offset = 20_000
    watch = Watch(chat)
    t0 = _perf()
    stop_at = t0 + seconds

    async def loop(p, user, room):
        seq = 0
        while _perf() < stop_at:
            await posters.post_one(chat, user, room, offset + p, seq, t0)
            seq += 1

    await asyncio.gather(*(loop(p, u, r) for p, u, r in crew))
    elapsed = _perf() - t0
    posting, check = await wind_up(chat, owner, posters, crew, watch)
    result = {
        "posters": len(crew),
        "rate_per_s": round(posters.ok / elapsed, 1),
        "messages": posters.ok,
        "post_errors": posters.errors,
        **summary_ms(posters.latencies),
        **check,
        **posting,
    }
    owner.latencies.clear()
    log(f"  POST latency, {len(crew)} posters flat out: {result['rate_per_s']}/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms; lost {check['lost']}")
    return result
