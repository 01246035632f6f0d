"""Do outgoing webhooks slow the chat down? Message fan-out with and without 100 rooms' webhooks.

    .venv/bin/python -m bench.webhooks [--subscribers 1000] [--messages 30] [--rounds 6]
                                       [--png docs/webhooks-fanout.png]

One server process on SQLite (the targets' configuration, rate limits off). The owner makes 100
rooms; the first is the fan-out room, with `--subscribers` streams of its members open. Then, in
the same run, rounds alternate (ABBA order, so a drift of the shared machine weighs on both) between

- **without**: no room has an outgoing webhook;
- **with**: each of the 100 rooms has one, to a real local receiver (a plain HTTP server in this
  process answering 200), so every fan-out message is also queued (in its writing transaction),
  claimed and POSTed by the server's delivery worker while its streams get it.

Each round posts `--messages` messages one at a time (bench/scenarios.py's `fanout`, each after every
subscriber has the one before) and times the last subscriber's receipt. Printed: p50/p99 of each
mode over all its rounds, and the change of p99; the receiver's count proves the deliveries were
made. The machine is shared, so one round can be hit by someone else's work: the median of
the rounds' p99 is printed too. The PNG draws every message's last receipt, by mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench import machine, scenarios, sse
from bench.server import ROOT, Server
from bench.stats import summary_ms
from tests.helpers.live import LiveUser
from tests.helpers.net import free_port

ROOMS = 100
USERS = 10
HOOK_LINK = re.compile(r'href="/rooms/(\d+)/hooks/out/(\d+)"')


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Receiver:
    """A webhook receiver: answers every POST with 200 at once and counts them."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got = 0
        self.server = None

    async def start(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader, writer) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            self.got += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, AttributeError):
            pass
        finally:
            writer.close()


async def add_hooks(owner: LiveUser, rooms: list[int], url: str) -> list[tuple[int, int]]:
    made = []
    for room in rooms:
        page = await owner.post(f"/rooms/{room}/hooks/out", {"url": url})
        assert page.status_code == 200, page.text[:300]
        made.append(max((int(r), int(h)) for r, h in HOOK_LINK.findall(page.text)))
    return made


async def remove_hooks(owner: LiveUser, hooks: list[tuple[int, int]]) -> None:
    for room, hook in hooks:
        response = await owner.post(f"/rooms/{room}/hooks/out/{hook}/revoke")
        assert response.status_code == 303, response.text[:300]


async def draw(path: Path, samples: dict[str, list[float]], summary: dict, subscribers: int, change: float) -> None:
    """Every message's last receipt by mode, as a strip chart with p50 and p99 marked, drawn as
    SVG and rendered to PNG by Debian's Chromium (no plotting library needed)."""
    width, height, left, top, lane = 900, 320, 170, 80, 90
    top_ms = max(max(v) for v in samples.values()) * 1.1
    scale = (width - left - 40) / top_ms
    colours = {"without": "#1f6fb2", "with": "#c2571a"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="DejaVu Sans, sans-serif" font-size="14">',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             f'<text x="20" y="26" font-size="17" font-weight="bold">Fan-out to {subscribers:,} subscribers: '
             f'last receipt of each message</text>',
             f'<text x="20" y="48">without, then with an outgoing webhook on each of {ROOMS} rooms (one '
             f'server, SQLite): p99 {change * 100:+.1f} %</text>']
    for n, (mode, values) in enumerate(samples.items()):
        y = top + 30 + n * lane
        stats = summary[mode]
        parts.append(f'<text x="20" y="{y + 5}">{mode} webhooks</text>')
        parts.append(f'<line x1="{left}" x2="{width - 40}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        for k, value in enumerate(values):
            jitter = (k % 7 - 3) * 3
            parts.append(f'<circle cx="{left + value * scale:.1f}" cy="{y + jitter}" r="3" '
                         f'fill="{colours[mode]}" fill-opacity="0.6"/>')
        for name, dash in (("p50_ms", ""), ("p99_ms", ' stroke-dasharray="4 3"')):
            x = left + stats[name] * scale
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 22}" y2="{y + 22}" stroke="#222"{dash}/>')
            parts.append(f'<text x="{x + 4:.1f}" y="{y - 26}" font-size="12">{name[:3]} {stats[name]:.0f} ms</text>')
    axis_y = top + 30 + len(samples) * lane - 30
    parts.append(f'<line x1="{left}" x2="{width - 40}" y1="{axis_y}" y2="{axis_y}" stroke="#222"/>')
    step = next(s for s in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if top_ms / s <= 10)
    for tick in range(0, int(top_ms) + 1, step):
        x = left + tick * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" y2="{axis_y + 5}" stroke="#222"/>')
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 20}" text-anchor="middle" font-size="12">{tick}</text>')
    parts.append(f'<text x="{width - 40}" y="{axis_y + 38}" text-anchor="end" font-size="12">ms from POST to the '
                 f'last subscriber\'s receipt (dashed: p99)</text></svg>')
    svg = "".join(parts)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                                   args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page(viewport={"width": width, "height": height})
        await page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
        await page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": width, "height": height})
        await browser.close()


async def main(subscribers: int, messages: int, rounds: int, png: Path | None, output: Path) -> None:
    machine.raise_nofile(65536)
    workdir = Path(tempfile.mkdtemp(prefix="webchat-bench-webhooks-"))
    server = Server(workdir, f"sqlite://{workdir / 'db.sqlite3'}", name="webhooks")
    receiver = await Receiver().start()
    streams: list[sse.Stream] = []
    try:
        await server.start()
        log(f"server on :{server.port}; registering {USERS} users, {ROOMS} rooms")
        users = [await LiveUser(server.url, f"wh{i:02d}").register(f"Hook {i}") for i in range(USERS)]
        owner = users[0]
        rooms = [await owner.create_room(f"Room {k}") for k in range(ROOMS)]
        for user in users[1:]:
            await user.join(rooms[0])
        chat = scenarios.Chat([server], users, {"fanout": rooms[0]}, run="w")
        fan = scenarios.FanoutOwner()
        per_user = -(-subscribers // USERS)
        specs = scenarios.stream_specs(chat, rooms[0], per_user, range(USERS))[:subscribers]
        streams = await sse.open_many(fan, specs)
        log(f"{len(streams)} subscribers open")
        await asyncio.sleep(2)
        url = f"http://127.0.0.1:{receiver.port}/hook"
        await scenarios.fanout(chat, fan, streams, 5, lambda _: None, owner)  # warm-up, not counted
        samples: dict[str, list[float]] = {"without": [], "with": []}
        rounds_out = []
        expected = 0
        order = [("without", "with"), ("with", "without")]
        for r in range(rounds):
            for mode in order[r % 2]:
                hooks = await add_hooks(owner, rooms, url) if mode == "with" else []
                fan.arrivals.clear()
                chat.run = f"w{r}{mode}"
                result = await scenarios.fanout(chat, fan, streams, messages, log, owner)
                samples[mode] += result["last_receipt_each_ms"]
                rounds_out.append({"round": r, "mode": mode, **result})
                if hooks:
                    expected += messages
                    async with asyncio.timeout(60):  # every delivery made before the hooks go
                        while receiver.got < expected:
                            await asyncio.sleep(0.1)
                    await remove_hooks(owner, hooks)
                log(f"  round {r} {mode:>7}: p99 {result['last_receipt']['p99_ms']} ms; "
                    f"deliveries received so far {receiver.got}")
        summary = {mode: summary_ms([v / 1000 for v in values]) for mode, values in samples.items()}
        for mode in summary:  # robust to one round hit by the shared machine's other work
            summary[mode]["round_p99_median_ms"] = statistics.median(
                r["last_receipt"]["p99_ms"] for r in rounds_out if r["mode"] == mode)
            phases = [r for r in rounds_out if r["mode"] == mode]  # CPU: less at the mercy of the neighbours
            summary[mode]["server_cpu_ms_per_message"] = round(
                sum(sum(r["server_cpu_s"]) for r in phases) * 1000 / sum(r["messages"] for r in phases), 2)
        change = summary["with"]["p99_ms"] / summary["without"]["p99_ms"] - 1
        round_change = summary["with"]["round_p99_median_ms"] / summary["without"]["round_p99_median_ms"] - 1
        report = {"machine": machine.describe(), "subscribers": len(streams), "messages_per_round": messages,
                  "rounds": rounds, "hooked_rooms": ROOMS, "deliveries_received": receiver.got,
                  "deliveries_expected": expected, "summary": summary, "p99_change": round(change, 4),
                  "round_p99_median_change": round(round_change, 4),
                  "rounds_detail": rounds_out}
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2))
        for mode in ("without", "with"):
            s = summary[mode]
            print(f"fan-out to {len(streams)}, {mode:>7} webhooks on {ROOMS} rooms: last receipt "
                  f"p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms ({s['n']} messages); "
                  f"median of its {rounds} rounds' p99 {s['round_p99_median_ms']:.1f} ms; "
                  f"server CPU {s['server_cpu_ms_per_message']:.1f} ms per message")
        print(f"p99 change with webhooks: {change * 100:+.1f} % over all messages, {round_change * 100:+.1f} % "
              f"by the median round (target: at most +10 %); "
              f"deliveries received {receiver.got} of {expected}; results in {output}")
        if png is not None:
            await draw(png, samples, summary, len(streams), change)
            print(f"chart: {png}")
    finally:
        sse.close_all(streams)
        server.stop()
        await receiver.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=30, help="messages per round and mode")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--png", type=Path, default=None, help="draw the chart there (e.g. docs/webhooks-fanout.png)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results" / "webhooks.json")
    args = parser.parse_args()
    import uvloop

    asyncio.run(main(args.subscribers, args.messages, args.rounds, args.png, args.output),
                loop_factory=uvloop.new_event_loop)
