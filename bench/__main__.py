"""python -m bench [--quick] [options]: run the benchmark, print a table, write bench-results/latest.json.

    python -m bench              the full run (10,000 streams held 5 minutes; about 12 minutes)
    python -m bench --quick      the same figures, shorter (10,000 streams held 20 s; about 5 minutes)
    python -m bench profile      where the time and memory go (py-spy and tracemalloc; see README)
    python -m bench abuse        what hostile input costs (worst bodies, sign-in and catch-up storms)
    python -m bench formatting   what rendering a message body costs (the slowest 4,000-character bodies)
    python -m bench report       print bench-results/latest.json as the Markdown table of docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import machine, scenarios, sse
from bench.report import print_table, targets
from bench.server import ROOT, PostgresDatabase, Server, flush_redis, migrate
from tests.helpers.live import LiveUser

RESULTS = ROOT / "bench-results"
REDIS_URL = "redis://127.0.0.1:6379/14"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"

PROFILES = {
    "full": dict(users=100, streams=10_000, hold=300, fanout_messages=30, rooms=5, per_room=100,
                 throughput_posters=5, throughput_s=20, latency_posters=50, latency_rate=50.0,
                 latency_s=20, saturated_s=10, page_requests=200, replay_reps=20,
                 history=1_100, redis_all=True),
    "quick": dict(users=100, streams=10_000, hold=20, fanout_messages=10, rooms=5, per_room=100,
                  throughput_posters=5, throughput_s=8, latency_posters=50, latency_rate=50.0,
                  latency_s=8, saturated_s=5, page_requests=100, replay_reps=10,
                  history=1_100, redis_all=False),
}

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


FANOUT_SIZES = (10_000, 5_000, 1_000, 100)


def sizes_for(streams: int) -> list[int]:
    return [n for n in (100, 1_000, 10_000) if n <= streams] or [streams]


async def flows(chat, cfg, out: dict, prefix: str) -> None:
    """Throughput, POST latency (paced and flat out), over rooms of per_room subscribers each."""
    rooms = [f"t{k}" for k in range(cfg["rooms"])]
    owner = scenarios.FlowOwner(chat)
    log(f"{prefix}throughput and POST latency ({cfg['rooms']} rooms x {cfg['per_room']} subscribers)")
    streams = await scenarios.open_flow_streams(chat, owner, rooms, cfg["per_room"], log)
    try:
        await asyncio.sleep(1)
        out["throughput"] = await scenarios.throughput(
            chat, owner, rooms, cfg["throughput_posters"], cfg["throughput_s"], log)
        await asyncio.sleep(1)
        out["post_latency"] = await scenarios.post_latency(
            chat, owner, rooms, cfg["latency_posters"], cfg["latency_rate"], cfg["latency_s"], log)
        await asyncio.sleep(1)
        out["post_latency_flat_out"] = await scenarios.post_saturated(
            chat, owner, rooms, cfg["latency_posters"], cfg["saturated_s"], log)
    finally:
        owner.stopping = True
        for task in list(owner.pending):
            task.cancel()
        sse.close_all(owner.streams)
        sse.close_all(streams)


async def single(cfg, out: dict) -> None:
    """One server process, the embedded SQLite database: the targets' configuration."""
    tmp = Path(tempfile.mkdtemp(prefix="webchat-bench-", dir=cfg["db_dir"]))
    url = f"sqlite://{tmp}/bench.sqlite3" + (f"?{cfg['sqlite_params']}" if cfg["sqlite_params"] else "")
    server = Server(tmp, url, name="single", command=cfg["server_command"], root=Path(cfg["server_root"]))
    opened: list[sse.Stream] = []
    try:
        log("single process, SQLite: starting the server")
        await server.start()
        out["server"] = {"pid": server.pid, "port": server.port, "database": "sqlite", "broker": "local"}
        chat = scenarios.Chat([server], run="s")
        await scenarios.setup(chat, cfg["users"], cfg["rooms"], cfg["history"], log)
        if "page" in cfg["only"]:
            log("room page and replay")
            out["page"] = await scenarios.page_render(chat, cfg["page_requests"], log)
            out["replay"] = await scenarios.replay(chat, cfg["replay_reps"], log)
        if "streams" in cfg["only"]:
            opened = await streams_phase(chat, cfg, out, server)
        if "flows" in cfg["only"]:
            await flows(chat, cfg, out, "")
        out["server"]["rss_end_kib"] = server.rss_kib()
    finally:
        sse.close_all(opened)
        code = server.stop()
        out.setdefault("server", {})["exit_code"] = code
        if code not in (0, None):
            log(f"server exited {code}; log tail:\n{server.log()[-2000:]}")
        if cfg["server_command"]:
            shutil.copy(server.log_path, RESULTS / f"server-{cfg['tag']}.log")
        shutil.rmtree(tmp, ignore_errors=True)


async def streams_phase(chat, cfg, out, server) -> list:
    """Idle memory, the hold, and fan-out at 10,000, 1,000 and 100 subscribers, in that order."""
    opened: list[sse.Stream] = []
    try:
        # Idle memory: a baseline after warming the stream code, then 1,000 and 10,000 streams.
        log("memory per idle stream")
        room = chat.rooms["fanout"]
        users = range(cfg["users"])
        owner = scenarios.FanoutOwner()
        warm = await sse.open_many(owner, scenarios.stream_specs(chat, room, 1, users))
        sse.close_all(warm)
        base = (await scenarios.settle_rss(chat, 3))[0]
        client_base = machine.rss_kib_self()
        memory = {"baseline_kib": base}
        total = cfg["streams"]
        first_n = min(1_000, total)
        t = time.perf_counter()
        first = await sse.open_many(owner, scenarios.stream_specs(chat, room, first_n // cfg["users"], users))
        opened += first
        memory["open_1000_s"] = round(time.perf_counter() - t, 1)
        rss = (await scenarios.settle_rss(chat))[0]
        memory["1000"] = per_stream(rss, base, len(first), machine.rss_kib_self() - client_base)
        log(f"  {len(first)} streams: {memory['1000']['bytes_per_stream']:,} bytes each "
            f"(open took {memory['open_1000_s']} s)")
        rest: list[sse.Stream] = []
        if total > first_n:
            t = time.perf_counter()
            more = (total - first_n) // cfg["users"]
            rest = await sse.open_many(owner, scenarios.stream_specs(chat, room, more, users, start_index=first_n))
            opened += rest
            memory["open_rest_s"] = round(time.perf_counter() - t, 1)
            rss = (await scenarios.settle_rss(chat))[0]
            memory[str(total)] = per_stream(rss, base, len(opened), machine.rss_kib_self() - client_base)
            log(f"  {len(opened)} streams: {memory[str(total)]['bytes_per_stream']:,} bytes each "
                f"(open took {memory['open_rest_s']} s)")
        out["memory"] = memory

        log(f"holding {len(opened)} streams for {cfg['hold']} s")
        out["hold"] = await hold(chat, owner, opened, cfg["hold"])
        log(f"  dropped {out['hold']['dropped']}, fewest heartbeats per stream {out['hold']['min_heartbeats']}")

        log("fan-out, one room")
        poster = chat.users[0].on(server)
        await poster.page("/login")
        out["fanout"] = await fanout_down(chat, owner, opened, cfg, poster)
        opened = []
        await poster.aclose()
        await asyncio.sleep(2)
        return []
    except BaseException:
        sse.close_all(opened)
        raise


async def fanout_down(chat, owner, opened: list, cfg, poster) -> dict:
    """Fan-out at every size from the most streams down (10,000, 5,000, 1,000, 100), closing
    streams between sizes: the same room, the same subscribers, no presence changes."""
    out = {}
    for size in FANOUT_SIZES:
        if size > len(opened):
            continue
        sse.close_all(opened[size:])
        opened = opened[:size]
        await asyncio.sleep(3 if size >= 1_000 else 2)
        out[str(size)] = await scenarios.fanout(chat, owner, opened, cfg["fanout_messages"], log, poster)
    sse.close_all(opened)
    return out


def per_stream(rss_kib: int, base_kib: int, n: int, client_kib: int) -> dict:
    return {
        "streams": n,
        "rss_kib": rss_kib,
        "bytes_per_stream": round((rss_kib - base_kib) * 1024 / n),
        "client_bytes_per_stream": round(client_kib * 1024 / n),
    }


async def hold(chat, owner, streams, seconds: float) -> dict:
    before = [s.comments for s in streams]
    samples = []
    t0 = time.perf_counter()
    end = t0 + seconds
    while (now := time.perf_counter()) < end:
        await asyncio.sleep(min(10.0, end - now))
        alive = sum(1 for s in streams if not s.ended)
        samples.append({"t_s": round(time.perf_counter() - t0), "alive": alive,
                        "rss_kib": chat.servers[0].rss_kib()})
    beats = [s.comments - b for s, b in zip(streams, before)]
    return {
        "streams": len(streams),
        "seconds": seconds,
        "dropped": owner.dropped + sum(1 for s in streams if s.ended and not s.closed_by_us),
        "alive_at_end": sum(1 for s in streams if not s.ended),
        "min_heartbeats": min(beats) if beats else 0,
        "max_heartbeats": max(beats) if beats else 0,
        "samples": samples,
    }


async def floor(cfg, out: dict) -> None:
    """The floor (bench/floor.py): memory per idle stream and fan-out, as for webchat."""
    tmp = Path(tempfile.mkdtemp(prefix="webchat-bench-floor-"))
    server = Server(tmp, "", name="floor")
    server.command = [sys.executable, "-m", "bench.floor", str(server.port)]
    opened: list[sse.Stream] = []
    try:
        log("the floor: a bare asyncio server, pre-framed chunks straight to each transport")
        await server.start()
        chat = scenarios.Chat([server], run="f")
        chat.users = [LiveUser(server.url, f"floor{i}", cookies={"floor": "1"}) for i in range(cfg["users"])]
        chat.rooms["fanout"] = 1
        owner = scenarios.FanoutOwner()
        base = (await scenarios.settle_rss(chat, 1))[0]
        memory = {"baseline_kib": base}
        for size in (1_000, cfg["streams"]):
            more = (size - len(opened)) // cfg["users"]
            opened += await sse.open_many(owner, scenarios.stream_specs(chat, 1, more, range(cfg["users"]),
                                                                       start_index=len(opened)))
            rss = (await scenarios.settle_rss(chat))[0]
            memory[str(size)] = per_stream(rss, base, len(opened), 0)
            log(f"  {len(opened)} streams: {memory[str(size)]['bytes_per_stream']:,} bytes each")
        out["memory"] = memory
        poster = LiveUser(server.url, "floorposter", cookies={"floor": "1"})
        await poster.page("/")
        out["fanout"] = await fanout_down(chat, owner, opened, cfg, poster)
        opened = []
        await poster.aclose()
    finally:
        sse.close_all(opened)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def workers(cfg, out: dict) -> None:
    """WEB_CONCURRENCY=1 against 2 on one port (PostgreSQL and Redis): throughput and POST latency."""
    for count in (1, 2):
        tmp = Path(tempfile.mkdtemp(prefix=f"webchat-bench-workers{count}-"))
        db = PostgresDatabase(PG_ADMIN)
        server = None
        try:
            await db.create()
            migrate(db.url, tmp)
            await flush_redis(REDIS_URL)
            server = Server(tmp, db.url, REDIS_URL, name=f"workers{count}", root=Path(cfg["server_root"]),
                            WEB_CONCURRENCY=str(count))
            await server.start()
            chat = scenarios.Chat([server], run=f"w{count}")
            log(f"WEB_CONCURRENCY={count} (PostgreSQL, Redis)")
            await scenarios.setup(chat, cfg["users"], cfg["rooms"], 0, log)
            result = out[str(count)] = {}
            await flows(chat, cfg, result, f"WEB_CONCURRENCY={count}: ")
            result["server_rss_kib"] = server.rss_tree_kib()
        finally:
            if server is not None:
                server.stop()
            await db.drop()
            await flush_redis(REDIS_URL)
            shutil.rmtree(tmp, ignore_errors=True)


async def redis_pair(cfg, out: dict) -> None:
    """Two server processes joined by Redis, on a PostgreSQL database made for this run."""
    tmp = Path(tempfile.mkdtemp(prefix="webchat-bench-redis-"))
    db = PostgresDatabase(PG_ADMIN)
    servers: list[Server] = []
    opened: list[sse.Stream] = []
    created = False
    try:
        log("Redis and two processes, PostgreSQL: creating the database")
        await db.create()
        created = True
        migrate(db.url, tmp)
        await flush_redis(REDIS_URL)
        a = Server(tmp, db.url, REDIS_URL, name="a", command=cfg["server_command"], root=Path(cfg["server_root"]))
        b = Server(tmp, db.url, REDIS_URL, name="b", command=cfg["server_command"], root=Path(cfg["server_root"]))
        b.share_secret_with(a)
        servers = [a, b]
        await asyncio.gather(a.start(), b.start())
        out["servers"] = [{"pid": s.pid, "port": s.port} for s in servers]
        out["database"] = "postgresql"
        chat = scenarios.Chat(servers, run="r")
        await scenarios.setup(chat, cfg["users"], cfg["rooms"], cfg["history"], log)
        if cfg["redis_all"] and "page" in cfg["only"]:
            log("room page and replay (Redis pair)")
            out["page"] = await scenarios.page_render(chat, cfg["page_requests"], log)
            out["replay"] = await scenarios.replay(chat, cfg["replay_reps"], log)
        log("fan-out, one room, subscribers split over both processes, posts to the first")
        room = chat.rooms["fanout"]
        owner = scenarios.FanoutOwner()
        poster = chat.users[0].on(a)
        await poster.page("/login")
        out["fanout"] = {}
        have = 0
        for size in sizes_for(cfg["streams"]) if "streams" in cfg["only"] else []:
            per_user = (size - have) // cfg["users"]
            more = await sse.open_many(owner, scenarios.stream_specs(chat, room, per_user, range(cfg["users"]),
                                                                    start_index=have))
            opened += more
            have = len(opened)
            await asyncio.sleep(2 if size < 10_000 else 5)
            out["fanout"][str(size)] = await scenarios.fanout(chat, owner, opened, cfg["fanout_messages"], log, poster)
        out["rss_kib_with_streams"] = [s.rss_kib() for s in servers]
        sse.close_all(opened)
        opened = []
        await poster.aclose()
        await asyncio.sleep(3)
        if cfg["redis_all"] and "flows" in cfg["only"]:
            await flows(chat, cfg, out, "Redis pair: ")
    finally:
        sse.close_all(opened)
        for server in servers:
            code = server.stop()
            if code not in (0, None):
                log(f"{server.name} exited {code}; log tail:\n{server.log()[-2000:]}")
        if created:
            try:
                await db.drop()
            except Exception as error:  # report, but let the original failure (if any) show
                log(f"could not drop database {db.name}: {error}")
        try:
            await flush_redis(REDIS_URL)
        except Exception as error:
            log(f"could not empty {REDIS_URL}: {error}")
        shutil.rmtree(tmp, ignore_errors=True)


async def main_async(args) -> int:
    cfg = dict(PROFILES["quick" if args.quick else "full"])
    if args.hold is not None:
        cfg["hold"] = args.hold
    if args.streams is not None:
        cfg["streams"] = args.streams
    cfg["only"] = sorted(set(args.only.split(","))) if args.only else ["flows", "page", "streams"]
    cfg["db_dir"] = args.db_dir
    cfg["tag"] = (args.output or "latest.json").removesuffix(".json")
    cfg["sqlite_params"] = args.sqlite_params
    cfg["server_command"] = None
    cfg["server_root"] = str(Path(args.server_root).resolve() if args.server_root else ROOT)
    if args.switch_interval is not None or args.gc_log:  # experiments, never the default
        cfg["server_command"] = [sys.executable, "-m", "bench.tuned_serve",
                                 "-" if args.switch_interval is None else str(args.switch_interval)]
        if args.gc_log:
            cfg["server_command"].append("gc-log")
    limit = machine.raise_nofile(65536)
    need = cfg["streams"] + 1000
    if limit < need:
        print(f"bench: the open-file limit is {limit}; {need} are needed", file=sys.stderr)
        return 2
    results = {
        "mode": "quick" if args.quick else "full",
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "machine": machine.describe(),
        "config": cfg,
        "client": {"open_file_limit": limit, "event_loop": "uvloop",
                   "parse_cost_us_per_event": machine_parse_cost()},
    }
    if results["machine"]["loadavg_at_start"] and results["machine"]["loadavg_at_start"][0] > 0.5:
        log(f"warning: load average {results['machine']['loadavg_at_start']} before starting: other work "
            "shares these cores and will slow every figure")
    failed = False
    try:
        if not args.skip_floor:
            results["floor"] = {}
            await floor(cfg, results["floor"])
        if not args.skip_single:
            results["single"] = {}
            await single(cfg, results["single"])
        if args.workers:
            results["workers"] = {}
            await workers(cfg, results["workers"])
        if not args.skip_redis:
            results["redis"] = {}
            await redis_pair(cfg, results["redis"])
    except Exception:
        failed = True
        traceback.print_exc()
        results["error"] = traceback.format_exc()
    results["duration_s"] = round(time.perf_counter() - _started, 1)
    results["machine"]["loadavg_at_end"] = machine.loadavg()
    results["targets"] = targets(results)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / ("latest.json" if not args.output else args.output)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print_table(results)
    print(f"\nwrote {path.relative_to(ROOT)} ({results['duration_s']} s)")
    return 1 if failed else 0


def machine_parse_cost() -> float:
    """Microseconds the client spends receiving and parsing one message event (measured, not guessed)."""
    from bench.calibrate import parse_cost_us

    return parse_cost_us()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "profile":
        from bench import profile

        return profile.main(argv[1:])
    if argv and argv[0] == "abuse":
        from bench import abuse

        return abuse.main(argv[1:])
    if argv and argv[0] == "formatting":
        from bench import formatting

        return formatting.main(argv[1:])
    if argv and argv[0] == "report":
        from bench.report import markdown

        print(markdown(json.loads((RESULTS / "latest.json").read_text())))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short run (hold 20 s, fewer samples)")
    parser.add_argument("--hold", type=float, help="seconds to hold the streams (default 300, quick 20)")
    parser.add_argument("--streams", type=int, help="most streams at once (default 10000)")
    parser.add_argument("--skip-single", action="store_true", help="skip the one-process SQLite runs")
    parser.add_argument("--skip-redis", action="store_true", help="skip the Redis and two-process runs")
    parser.add_argument("--skip-floor", action="store_true", help="skip the floor reference (bench/floor.py)")
    parser.add_argument("--workers", action="store_true",
                        help="also WEB_CONCURRENCY=1 against 2 on one port (PostgreSQL and Redis)")
    parser.add_argument("--server-root", help="serve webchat from this checkout (a `git worktree` of another "
                        "commit), to measure before and after with the same benchmark")
    parser.add_argument("--only", help="comma-separated sections: page (page, replay), streams (memory, "
                        "hold, fan-out), flows (throughput, POST latency)")
    parser.add_argument("--db-dir", help="experiment: where the temporary SQLite database lives (default: the temp dir)")
    parser.add_argument("--sqlite-params", help="experiment: PRAGMAs as URL parameters, e.g. synchronous=NORMAL")
    parser.add_argument("--switch-interval", type=float,
                        help="experiment: run the server with sys.setswitchinterval(SECONDS)")
    parser.add_argument("--gc-log", action="store_true",
                        help="experiment: log the server's garbage collections of 5 ms or more")
    parser.add_argument("--output", help="file name under bench-results/ (default latest.json)")
    args = parser.parse_args(argv)
    import uvloop

    return asyncio.run(main_async(args), loop_factory=uvloop.new_event_loop)


if __name__ == "__main__":
    sys.exit(main())
