"""python -m bench profile: where the server's time and memory go.

CPU: py-spy samples the server process (250 Hz, on-CPU samples only) while it fans out to 1,000
and then 10,000 subscribers, while posters post flat out, while it renders the room page and while
it replays 1,000 events. Each profile is kept as collapsed stacks (bench-results/profile/*.txt, for
flamegraph tools or speedscope) and summarised as the functions with the most samples, by self
time and by inclusive time.

Memory: the server runs under bench/traced_serve.py (tracemalloc, 6 frames); snapshots at the
baseline, with 1,000 and with 10,000 idle streams are compared by allocation site and by file, and
gc-tracked objects are counted by type.

    python -m bench profile [--streams 10000] [--messages 40] [--skip-memory] [--skip-cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from bench import machine, scenarios, sse
from bench.server import PYTHON, ROOT, Server

OUT = ROOT / "bench-results" / "profile"
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def log(message: str) -> None:
    print(message, flush=True)


class Sampler:
    """py-spy record on a live pid, from start() until stop()."""

    def __init__(self, pid: int, name: str, rate: int = 250, idle: bool = False) -> None:
        self.path = OUT / f"{name}.txt"
        cmd = [PY_SPY, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
               "--output", str(self.path), "--nonblocking"]
        if idle:
            cmd.append("--idle")
        self.cmd = cmd
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        time.sleep(0.5)

    def stop(self) -> Path:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.path


def _short(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _line = where.rpartition(":")
    return f"{name} ({_short_path(path)})"


def _short_path(path: str) -> str:
    """A source file's path from the package on: inside site-packages, or from webchat/."""
    parts = path.split("/")
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1:]
    elif "webchat" in parts:
        parts = parts[parts.index("webchat"):]
    else:
        parts = parts[-2:]
    return "/".join(parts)


def summarise(path: Path, top: int = 25) -> dict:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    self_counts: Counter = Counter()
    incl_counts: Counter = Counter()
    total = 0
    if not path.exists():
        return {"samples": 0}
    for line in path.read_bytes().decode("utf-8", "replace").split("\n"):
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";")]
        # The thread name comes first with --threads; py-spy raw output has "process ..." then frames.
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        self_counts[frames[-1]] += n
        for f in set(frames):
            incl_counts[f] += n
    pct = lambda c: round(100 * c / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "self": [(f, pct(c)) for f, c in self_counts.most_common(top)],
        "inclusive": [(f, pct(c)) for f, c in incl_counts.most_common(top + 15)],
    }


def print_summary(name: str, summary: dict) -> None:
    log(f"\n== {name}: {summary['samples']} samples")
    if not summary["samples"]:
        return
    log("  self %  function")
    for f, p in summary["self"][:20]:
        log(f"  {p:6.1f}  {f}")
    log("  incl %  function")
    for f, p in summary["inclusive"][:30]:
        log(f"  {p:6.1f}  {f}")


async def start_chat(server: Server, run: str, rooms: int, history: int):
    """The server started with 100 users in it; the fan-out room, and an owner for its streams."""
    await server.start()
    chat = scenarios.Chat([server], run=run)
    await scenarios.setup(chat, 100, rooms, history, log)
    return chat, chat.rooms["fanout"], scenarios.FanoutOwner()


async def grow(opened: list, chat, owner, room: int, sizes):
    """Open more streams of the room (the same number for each of the 100 users) until `opened`
    holds each size in turn; 3 s later, yield that size. The caller closes `opened`."""
    for size in sizes:
        per_user = (size - len(opened)) // 100
        opened += await sse.open_many(owner, scenarios.stream_specs(chat, room, per_user, range(100),
                                                                   start_index=len(opened)))
        await asyncio.sleep(3)
        yield size


async def cpu_profiles(args, report: dict) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="webchat-profile-"))
    server = Server(tmp, f"sqlite://{tmp}/bench.sqlite3", name="profile")
    opened = []
    try:
        chat, room, owner = await start_chat(server, "p", rooms=5, history=1_100)
        poster = chat.users[0].on(server)
        await poster.page("/login")

        async def sampled(name, coro, idle=False):
            sampler = Sampler(server.pid, name, idle=idle)
            sampler.start()
            try:
                result = await coro
            finally:
                path = sampler.stop()
            summary = summarise(path)
            report[name] = {"result": result, "profile": summary}
            print_summary(name, summary)

        await sampled("page", scenarios.page_render(chat, 300, log))
        await sampled("replay", scenarios.replay(chat, 20, log))
        async for size in grow(opened, chat, owner, room, (1_000, args.streams)):
            await sampled(f"fanout_{size}", scenarios.fanout(chat, owner, opened, args.messages, log, poster,
                                                             gap=0.05))
        sse.close_all(opened)
        opened = []
        await asyncio.sleep(3)
        rooms = [f"t{k}" for k in range(5)]
        flow = scenarios.FlowOwner(chat)
        streams = await scenarios.open_flow_streams(chat, flow, rooms, 100, log)
        try:
            await sampled("throughput", scenarios.throughput(chat, flow, rooms, 5, 10, log))
            await sampled("throughput_idle_included",
                          scenarios.throughput(chat, flow, rooms, 5, 10, log), idle=True)
        finally:
            flow.stopping = True
            sse.close_all(flow.streams)
            sse.close_all(streams)
        await poster.aclose()
    finally:
        sse.close_all(opened)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def memory_profile(args, report: dict) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="webchat-memprofile-"))
    control = tmp / "control"
    control.mkdir()
    server = Server(tmp, f"sqlite://{tmp}/bench.sqlite3", name="traced",
                    command=[PYTHON, "-m", "bench.traced_serve"])
    server.env["BENCH_CONTROL_DIR"] = str(control)
    opened = []

    async def snapshot(name: str) -> tracemalloc.Snapshot:
        (control / "snapshot.request").write_text(name)
        for _ in range(600):
            if (control / f"{name}.done").exists():
                break
            await asyncio.sleep(0.2)
        return tracemalloc.Snapshot.load(str(control / f"{name}.snap"))

    try:
        chat, room, owner = await start_chat(server, "m", rooms=1, history=10)
        warm = await sse.open_many(owner, scenarios.stream_specs(chat, room, 1, range(100)))
        sse.close_all(warm)
        await asyncio.sleep(3)
        base = await snapshot("base")
        rss_base = server.rss_kib()
        types_base = dict(json.loads((control / "base.types.json").read_text()))
        async for size in grow(opened, chat, owner, room, (1_000, args.streams)):
            snap = await snapshot(f"streams_{size}")
            rss = server.rss_kib()
            types = dict(json.loads((control / f"streams_{size}.types.json").read_text()))
            filt = [tracemalloc.Filter(False, tracemalloc.__file__)]
            snap_f, base_f = snap.filter_traces(filt), base.filter_traces(filt)
            by_line = snap_f.compare_to(base_f, "lineno")
            by_file = snap_f.compare_to(base_f, "filename")
            traced = sum(s.size_diff for s in by_file)
            entry = {
                "streams": size,
                "rss_bytes_per_stream": round((rss - rss_base) * 1024 / size),
                "traced_bytes_per_stream": round(traced / size),
                "by_file": [(_where(s.traceback), round(s.size_diff / size), round(s.count_diff / size, 2))
                            for s in by_file[:20]],
                "by_line": [(_where(s.traceback), round(s.size_diff / size), round(s.count_diff / size, 2))
                            for s in by_line[:30]],
                "objects_per_stream": sorted(
                    ((t, round((types.get(t, 0) - types_base.get(t, 0)) / size, 2)) for t in types),
                    key=lambda x: -x[1])[:30],
                "by_traceback": [(" <- ".join(_where_frame(f) for f in reversed(list(s.traceback)[-6:])),
                                  round(s.size_diff / size))
                                 for s in snap_f.compare_to(base_f, "traceback")[:15]],
            }
            report[f"memory_{size}"] = entry
            log(f"\n== idle memory with {size} streams: RSS {entry['rss_bytes_per_stream']} B/stream, "
                f"traced by Python {entry['traced_bytes_per_stream']} B/stream (under tracemalloc)")
            log("  bytes/stream  blocks/stream  file")
            for where, b, c in entry["by_file"][:15]:
                log(f"  {b:12,}  {c:13}  {where}")
            log("  bytes/stream  blocks/stream  line")
            for where, b, c in entry["by_line"][:25]:
                log(f"  {b:12,}  {c:13}  {where}")
            log("  objects/stream  type")
            for t, c in entry["objects_per_stream"][:20]:
                log(f"  {c:14}  {t}")
    finally:
        sse.close_all(opened)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _where(traceback) -> str:
    return _where_frame(traceback[0])


def _where_frame(frame) -> str:
    return f"{_short_path(frame.filename)}:{frame.lineno}"


async def main_async(args) -> int:
    machine.raise_nofile(65536)
    OUT.mkdir(parents=True, exist_ok=True)
    summary = OUT / "summary.json"
    report = json.loads(summary.read_text()) if summary.exists() else {}
    report["machine"] = machine.describe()
    if not args.skip_cpu:
        await cpu_profiles(args, report)
    if not args.skip_memory:
        await memory_profile(args, report)
    summary.write_text(json.dumps(report, indent=2, default=str) + "\n")
    log(f"\nwrote {OUT.relative_to(ROOT)}/summary.json and the collapsed stacks beside it")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=25)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    import uvloop

    if not os.path.exists(PY_SPY) and not args.skip_cpu:
        print("py-spy is not installed: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 2
    return asyncio.run(main_async(args), loop_factory=uvloop.new_event_loop)
