"""Search at size: a generated corpus on each engine, the index built after it, and the figures.

    .venv/bin/python -m bench.search                       # 1,000,000 messages, 1,000 rooms, both engines
    .venv/bin/python -m bench.search --messages 200000 --engine sqlite

For each engine: a fresh database (a temporary SQLite file; a `webchat_bench_search_*` database
on the PostgreSQL server at --postgres, dropped afterwards), migrated, with the search index taken
away again while the corpus is loaded with raw SQL in big batches; then

1. the cost of a post without the index (p50 of --posts posts through `messages.service.post`);
2. the time to build the index (the migration's own statements), and its size on disk;
3. the same posts with the index: the difference of the p50s is the cost the index adds;
4. p50/p95 of whole searches (`search.service.search`: the count, the page of 20, the messages and
   their excerpts) for a one-word, a two-word and a Thai query, as a reader who is in 20 rooms
   and may read the public ones (a tenth of the rooms).

The corpus: 1,000 users; rooms of which one in ten is public; messages of 3 to 25 words drawn
with a Zipf-like skew from a vocabulary of 5,000 made-up English-like words, one in ten in Thai
(words run together, as Thai is written), one in twenty with a code snippet, spread over a year.
Queries use words of middling frequency (neither the commonest nor ones that are almost never
said), different on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

SYLLABLES = ["ba", "ka", "ta", "ri", "lo", "mi", "ne", "su", "do", "pe", "an", "or", "el", "in", "ur",
             "str", "pl", "gr", "ch", "th", "sh", "bl", "qu", "ve", "zo", "ly", "ing", "ed", "er", "ax"]
THAI = ["ประชุม", "งบประมาณ", "วันจันทร์", "สวัสดี", "ครับ", "ค่ะ", "โครงการ", "ลูกค้า", "รายงาน", "ส่ง",
        "พรุ่งนี้", "เมื่อวาน", "ทีม", "ขอบคุณ", "ช่วย", "ดู", "ไฟล์", "แก้ไข", "ปัญหา", "ระบบ", "เซิร์ฟเวอร์",
        "ทดสอบ", "ออกแบบ", "เอกสาร", "นัด", "เวลา", "บ่าย", "เช้า", "อาหาร", "กาแฟ"]
CODE = ["`SELECT * FROM t WHERE x LIKE '%a_%'`", "`def f(x): return x[0]`", "`git rebase -i HEAD~3`",
        "`curl -s https://example.org/api?q=1`", "`{\"key\": [1, 2, 3]}`"]
VOCABULARY = 5000
USERS = 1000
READER_ROOMS = 20
BATCH = 20_000


def vocabulary(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda w: rng.random())


def corpus(count: int, rooms: int, seed: int = 7):
    """(room_id, author_id, seq, body, created_at) rows, in id order; also the vocabulary."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    step = timedelta(days=365) / count
    seqs = [0] * (rooms + 1)

    def rows():
        for n in range(count):
            room = rng.randint(1, rooms)
            seqs[room] += 1
            kind = rng.random()
            if kind < 0.1:
                body = "".join(rng.choice(THAI) for _ in range(rng.randint(2, 8)))
            else:
                body = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 25)))
                if kind > 0.95:
                    body += " " + rng.choice(CODE)
            yield (room, rng.randint(1, USERS), seqs[room], body, start + step * n)

    return rows(), words, seqs


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---- loading -------------------------------------------------------------------------------------

def _migration():
    import importlib

    return importlib.import_module("webchat.migrations.0006_search")


def _people_and_rooms(rooms: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    now = datetime(2025, 11, 30, tzinfo=UTC)
    users = [(i, f"user{i}", f"user{i}", f"User {i}", "x", 1, "all", False, now) for i in range(1, USERS + 1)]
    room_rows = [(i, f"Room {i}", "", "public" if i % 10 == 0 else "private", None, now) for i in range(1, rooms + 1)]
    # The reader (user 1) is in 20 private rooms; every user is in a few rooms.
    members = [(1, r) for r in range(1, READER_ROOMS * 10, 10) if r % 10 != 0][:READER_ROOMS]
    members += [(u, (u * 7) % rooms + 1) for u in range(2, USERS + 1)]
    members = sorted(set(members))
    return users, room_rows, members


def sqlite_load(path: Path, messages: int, rooms: int) -> tuple[list[str], float]:
    from webchat import db

    asyncio.run(db.migrate(f"sqlite://{path}"))
    m = _migration()
    con = sqlite3.connect(path)
    for sql in m.SQLITE_DOWN:
        con.execute(sql)
    con.execute("PRAGMA synchronous = OFF")
    users, room_rows, members = _people_and_rooms(rooms)
    con.executemany("INSERT INTO users (id, username, username_key, display_name, password_hash, session_version, "
                    "announce, announce_typing, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    [(*u[:8], u[8].isoformat(" ")) for u in users])
    con.executemany("INSERT INTO rooms (id, name, topic, kind, direct_key, last_event, last_seq, created_at) "
                    "VALUES (?,?,?,?,?,0,0,?)", [(*r[:5], r[5].isoformat(" ")) for r in room_rows])
    con.executemany("INSERT INTO memberships (user_id, room_id, read_seq, read_message_id, joined_at) "
                    "VALUES (?,?,0,0,'2025-11-30 00:00:00+00:00')", members)
    rows, words, seqs = corpus(messages, rooms)
    started = time.perf_counter()
    batch = []
    for room, author, seq, body, created in rows:
        batch.append((room, author, seq, body, body, created.isoformat(" ")))
        if len(batch) >= BATCH:
            con.executemany("INSERT INTO messages (room_id, author_id, seq, body, html, created_at, deleted) "
                            "VALUES (?,?,?,?,?,?,0)", batch)
            con.commit()
            batch = []
    if batch:
        con.executemany("INSERT INTO messages (room_id, author_id, seq, body, html, created_at, deleted) "
                        "VALUES (?,?,?,?,?,?,0)", batch)
    con.executemany("UPDATE rooms SET last_seq = ?, last_event = ? WHERE id = ?",
                    [(s, s, r) for r, s in enumerate(seqs) if r])
    con.commit()
    con.execute("PRAGMA synchronous = FULL")
    con.close()
    return words, time.perf_counter() - started


def sqlite_build(path: Path) -> tuple[float, int]:
    m = _migration()
    con = sqlite3.connect(path)
    before = _sqlite_bytes(con)
    started = time.perf_counter()
    for sql in m.SQLITE:
        con.execute(sql)
    con.commit()
    took = time.perf_counter() - started
    size = _sqlite_bytes(con) - before
    con.close()
    return took, size


def _sqlite_bytes(con) -> int:
    pages = con.execute("PRAGMA page_count").fetchone()[0] - con.execute("PRAGMA freelist_count").fetchone()[0]
    return pages * con.execute("PRAGMA page_size").fetchone()[0]


async def postgres_load(url: str, messages: int, rooms: int) -> tuple[list[str], float]:
    from webchat import db

    await db.migrate(url)
    m = _migration()
    con = await asyncpg.connect(url)
    try:
        for sql in m.POSTGRES_DOWN:
            await con.execute(sql)
        users, room_rows, members = _people_and_rooms(rooms)
        await con.copy_records_to_table("users", records=users, columns=[
            "id", "username", "username_key", "display_name", "password_hash", "session_version", "announce",
            "announce_typing", "created_at"])
        await con.copy_records_to_table("rooms", records=[(*r, 0, 0) for r in room_rows], columns=[
            "id", "name", "topic", "kind", "direct_key", "created_at", "last_event", "last_seq"])
        await con.copy_records_to_table("memberships", records=[(u, r, 0, 0, datetime.now(UTC)) for u, r in members],
                                        columns=["user_id", "room_id", "read_seq", "read_message_id", "joined_at"])
        rows, words, seqs = corpus(messages, rooms)
        started = time.perf_counter()
        batch = []
        for room, author, seq, body, created in rows:
            batch.append((room, author, seq, body, body, created, False))
            if len(batch) >= BATCH * 5:
                await con.copy_records_to_table("messages", records=batch, columns=[
                    "room_id", "author_id", "seq", "body", "html", "created_at", "deleted"])
                batch = []
        if batch:
            await con.copy_records_to_table("messages", records=batch, columns=[
                "room_id", "author_id", "seq", "body", "html", "created_at", "deleted"])
        await con.executemany("UPDATE rooms SET last_seq = $1, last_event = $1 WHERE id = $2",
                              [(s, r) for r, s in enumerate(seqs) if r])
        for table in ("users", "rooms", "messages"):
            await con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await con.execute("VACUUM ANALYZE messages")
        return words, time.perf_counter() - started
    finally:
        await con.close()


async def postgres_build(url: str) -> tuple[float, int]:
    m = _migration()
    con = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for sql in m.POSTGRES:
            await con.execute(sql)
        took = time.perf_counter() - started
        await con.execute("ANALYZE messages")
        size = await con.fetchval("SELECT pg_relation_size('messages_body_trgm')")
        return took, size
    finally:
        await con.close()


# ---- measuring -----------------------------------------------------------------------------------

async def post_p50(url: str, posts: int) -> float:
    """p50 of posts through the application's own write path (its transaction, its triggers)."""
    from webchat import db
    from webchat.messages import service
    from webchat.models import Room, User

    await db.open_database(url)
    try:
        author = await User.get(id=1)
        rooms = await Room.filter(memberships__user_id=1).limit(5)
        times = []
        for n in range(posts):
            room = rooms[n % len(rooms)]
            started = time.perf_counter()
            await service.post(room, author, f"bench post {uuid.uuid4().hex} งบประมาณ budget {n}", None)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000
    finally:
        await db.close_database()


async def query_times(url: str, words: list[str], runs: int, seed: int) -> dict[str, dict]:
    from webchat import db
    from webchat.models import User
    from webchat.search import service

    rng = random.Random(seed)
    middling = words[50:1000]  # neither the commonest words nor the rarest
    kinds = {
        "one word": lambda: rng.choice(middling),
        "two words": lambda: f"{rng.choice(words[20:300])} {rng.choice(words[20:300])}",
        "Thai": lambda: rng.choice(THAI[:25]),
    }
    await db.open_database(url)
    results = {}
    try:
        reader = await User.get(id=1)
        for kind, make in kinds.items():
            times, found = [], []
            for _ in range(runs):
                q = make()
                started = time.perf_counter()
                asked = await service.prepare(reader, q)
                hits = await service.search(reader, asked)
                times.append((time.perf_counter() - started) * 1000)
                found.append(hits.total)
            results[kind] = {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
                             "max_ms": round(max(times), 2), "median_results": statistics.median(found)}
    finally:
        await db.close_database()
    return results


async def _admin(server: str, sql: str) -> None:
    con = await asyncpg.connect(server)
    try:
        await con.execute(sql)
    finally:
        await con.close()


def run_engine(engine: str, args) -> dict:
    report: dict = {"engine": engine, "messages": args.messages, "rooms": args.rooms}
    workdir = Path(tempfile.mkdtemp(prefix="webchat-bench-search-"))
    name = f"webchat_bench_search_{uuid.uuid4().hex[:8]}"
    server = args.postgres
    url = f"sqlite://{workdir / 'search.sqlite3'}" if engine == "sqlite" else server.rsplit("/", 1)[0] + "/" + name
    try:
        print(f"[{engine}] loading {args.messages:,} messages in {args.rooms:,} rooms…", flush=True)
        if engine == "sqlite":
            words, took = sqlite_load(workdir / "search.sqlite3", args.messages, args.rooms)
        else:
            asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
            words, took = asyncio.run(postgres_load(url, args.messages, args.rooms))
        report["load_s"] = round(took, 1)
        print(f"[{engine}] loaded in {took:.1f} s; posts without the index…", flush=True)
        report["post_p50_without_ms"] = round(asyncio.run(post_p50(url, args.posts)), 3)
        print(f"[{engine}] building the index…", flush=True)
        took, size = sqlite_build(workdir / "search.sqlite3") if engine == "sqlite" else asyncio.run(postgres_build(url))
        report["index_build_s"] = round(took, 1)
        report["index_mb"] = round(size / 2**20, 1)
        print(f"[{engine}] index built in {took:.1f} s, {size / 2**20:.1f} MiB; posts with it…", flush=True)
        report["post_p50_with_ms"] = round(asyncio.run(post_p50(url, args.posts)), 3)
        report["post_added_p50_ms"] = round(report["post_p50_with_ms"] - report["post_p50_without_ms"], 3)
        print(f"[{engine}] queries…", flush=True)
        report["queries"] = asyncio.run(query_times(url, words, args.queries, args.seed))
    finally:
        if engine == "postgres":
            asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for child in sorted(workdir.glob("*"), reverse=True):
            child.unlink()
        workdir.rmdir()
    print(json.dumps(report, indent=2), flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=1_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--queries", type=int, default=100, help="searches of each kind")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--postgres", default=os.environ.get("WEBCHAT_BENCH_POSTGRES",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--out", default="bench-results/search.json")
    args = parser.parse_args()
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    reports = [run_engine(engine, args) for engine in engines]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(reports, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
