"""The performance targets, judged from a results dict; the printed table and its Markdown form."""

from __future__ import annotations


def _get(d: dict, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _fmt(value, unit="") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _ratio(value, floor) -> str:
    """Webchat's figure as a multiple of the floor's (bench/floor.py), when both were measured."""
    return f" ({value / floor:.1f} × floor)" if value and floor else ""


def targets(results: dict) -> list[dict]:
    s = results.get("single", {})
    r = results.get("redis", {})
    f = results.get("floor", {})
    rows = []

    mem = {k: _get(s, "memory", k, "bytes_per_stream") for k in ("1000", "10000")}
    floor_mem = {k: _get(f, "memory", k, "bytes_per_stream") for k in ("1000", "10000")}
    rows.append({
        "figure": "memory per idle stream (RSS)",
        "target": "≤ 12 kB at 10,000",
        "measured": "; ".join(f"{_fmt(mem[k] and mem[k] / 1000)} kB at {int(k):,}{_ratio(mem[k], floor_mem[k])}"
                              for k in mem),
        "met": mem["10000"] is not None and mem["10000"] <= 12_000,
    })
    hold = s.get("hold", {})
    rows.append({
        "figure": "concurrent streams in one process",
        "target": "10,000 held 5 min, none dropped",
        "measured": (f"{_fmt(hold.get('streams'))} held {_fmt(hold.get('seconds'))} s, "
                     f"{_fmt(hold.get('dropped'))} dropped") if hold else "—",
        "met": bool(hold) and hold["streams"] >= 10_000 and hold["dropped"] == 0 and hold["seconds"] >= 300,
    })
    for size, limit in (("100", None), ("1000", 25), ("5000", 90), ("10000", 200)):
        fan = _get(s, "fanout", size, "last_receipt", default={})
        p99 = fan.get("p99_ms")
        missing = _get(s, "fanout", size, "missing_deliveries")
        floor_p99 = _get(f, "fanout", size, "last_receipt", "p99_ms")
        rows.append({
            "figure": f"fan-out to the last of {int(size):,} subscribers",
            "target": f"p99 ≤ {limit} ms" if limit else "(no target)",
            "measured": (f"p50 {_fmt(fan.get('p50_ms'))} / p99 {_fmt(p99)}{_ratio(p99, floor_p99)} / "
                         f"max {_fmt(fan.get('max_ms'))} ms" + (f", {missing} missing" if missing else ""))
            if fan else "—",
            "met": None if limit is None else (p99 is not None and p99 <= limit and not missing),
        })
    cpu = _get(s, "fanout", "10000", "server_cpu_us_per_delivery")
    floor_cpu = _get(f, "fanout", "10000", "server_cpu_us_per_delivery")
    rows.append({
        "figure": "server CPU per delivery (fan-out to 10,000, whole phase)",
        "target": "≤ 10 µs",
        "measured": f"{_fmt(cpu)} µs{_ratio(cpu, floor_cpu)}" if cpu is not None else "—",
        "met": cpu is not None and cpu <= 10,
    })
    tp = s.get("throughput", {})
    bad = sum(tp.get(k, 0) for k in ("lost", "duplicated", "out_of_order")) if tp else None
    rows.append({
        "figure": f"posting throughput, {tp.get('subscribers_per_room', 100)} subscribers per room",
        "target": "≥ 500 msg/s, nothing lost",
        "measured": (f"{_fmt(tp.get('messages_per_s'))} msg/s; lost {tp.get('lost')}, duplicated "
                     f"{tp.get('duplicated')}, out of order {tp.get('out_of_order')}") if tp else "—",
        "met": bool(tp) and tp["messages_per_s"] >= 500 and bad == 0,
    })
    pl = s.get("post_latency", {})
    rows.append({
        "figure": f"POST latency, {pl.get('posters', 50)} concurrent posters at {_fmt(pl.get('target_rate_per_s'))}/s",
        "target": "p99 ≤ 25 ms",
        "measured": f"p50 {_fmt(pl.get('p50_ms'))} / p99 {_fmt(pl.get('p99_ms'))} ms" if pl else "—",
        "met": bool(pl) and pl.get("p99_ms") is not None and pl["p99_ms"] <= 25,
    })
    page = s.get("page", {})
    rows.append({
        "figure": f"room page with {page.get('messages_shown', 50)} messages",
        "target": "p50 ≤ 10 ms",
        "measured": f"p50 {_fmt(page.get('p50_ms'))} / p99 {_fmt(page.get('p99_ms'))} ms" if page else "—",
        "met": bool(page) and page["p50_ms"] <= 10,
    })
    rp = s.get("replay", {})
    rows.append({
        "figure": "replay of 1,000 missed events",
        "target": "≤ 200 ms",
        "measured": f"p50 {_fmt(rp.get('p50_ms'))} / max {_fmt(rp.get('max_ms'))} ms" if rp else "—",
        "met": bool(rp) and rp["p50_ms"] <= 200 and not rp.get("wrong_replays"),
    })
    for count in ("1", "2"):
        w = _get(results, "workers", count, default={})
        if w:
            thr, lat = w.get("throughput", {}), w.get("post_latency", {})
            rows.append({
                "figure": f"WEB_CONCURRENCY={count} (PostgreSQL, Redis): throughput; POST p99 at 50 posters",
                "target": "(reported)",
                "measured": f"{_fmt(thr.get('messages_per_s'))} msg/s, lost {thr.get('lost')}; "
                            f"{_fmt(lat.get('p99_ms'))} ms",
                "met": None,
            })
    for size in ("100", "1000", "10000"):
        one = _get(s, "fanout", size, "last_receipt", "p99_ms")
        two = _get(r, "fanout", size, "last_receipt", "p99_ms")
        missing = _get(r, "fanout", size, "missing_deliveries")
        ratio = two / one if one and two else None
        rows.append({
            "figure": f"Redis, two processes: fan-out p99, {int(size):,} subscribers",
            "target": "≤ 1.25 × one process",
            "measured": (f"{_fmt(two)} ms = {ratio:.2f} × {_fmt(one)} ms"
                         + (f", {missing} missing" if missing else "")) if ratio else "—",
            "met": ratio is not None and ratio <= 1.25 and not missing,
        })
    return rows


def _mark(met) -> str:
    return {True: "yes", False: "NO", None: ""}[met]


def print_table(results: dict) -> None:
    m = results["machine"]
    print(f"webchat benchmark ({results['mode']}) on {m['nproc']} × {m['cpu_model']}, "
          f"{m['memory_gib']} GiB, Python {m['python']}, {m['date']}; load average before "
          f"{m.get('loadavg_at_start')}, after {m.get('loadavg_at_end')}")
    rows = results["targets"]
    w1 = max(len(r["figure"]) for r in rows)
    w2 = max(len(r["measured"]) for r in rows)
    w3 = max(len(r["target"]) for r in rows)
    print(f"{'figure':<{w1}}  {'measured':<{w2}}  {'target':<{w3}}  met")
    print(f"{'-' * w1}  {'-' * w2}  {'-' * w3}  ---")
    for r in rows:
        print(f"{r['figure']:<{w1}}  {r['measured']:<{w2}}  {r['target']:<{w3}}  {_mark(r['met'])}")
    extra = _extras(results)
    if extra:
        print()
        for line in extra:
            print(line)


def _extras(results: dict) -> list[str]:
    lines = []
    for name, part in (("one process", results.get("single", {})), ("Redis pair", results.get("redis", {}))):
        tp = part.get("post_latency_flat_out")
        if tp:
            lines.append(f"{name}: 50 posters flat out: {tp['rate_per_s']} msg/s, POST p50 {tp.get('p50_ms')} ms, "
                         f"p99 {tp.get('p99_ms')} ms")
        thr = part.get("throughput")
        if thr and name == "Redis pair":
            lines.append(f"{name}: throughput {thr['messages_per_s']} msg/s, lost {thr['lost']}, "
                         f"duplicated {thr['duplicated']}, out of order {thr['out_of_order']}")
        for key in ("page", "replay"):
            if key in part and name == "Redis pair":
                lines.append(f"{name}: {key} p50 {part[key]['p50_ms']} ms, p99 {part[key]['p99_ms']} ms")
    return lines


def markdown(results: dict) -> str:
    m = results["machine"]
    out = [
        f"Measured {m['date']} with `{results['command']}` ({results['mode']} run, "
        f"{results.get('duration_s')} s) on {m['nproc']} × {m['cpu_model']}, {m['memory_gib']} GiB, "
        f"Python {m['python']}, {m['platform']}; load average before {m.get('loadavg_at_start')}, "
        f"after {m.get('loadavg_at_end')}.",
        "",
        "| figure | target | measured | met |",
        "|---|---|---|---|",
    ]
    for r in results["targets"]:
        out.append(f"| {r['figure']} | {r['target']} | {r['measured']} | {_mark(r['met'])} |")
    extra = _extras(results)
    if extra:
        out.append("")
        out += [f"- {line}" for line in extra]
    return "\n".join(out)
