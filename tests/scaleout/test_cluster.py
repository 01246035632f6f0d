"""Three processes, one chat: everything said, changed, typed or seen through any process reaches
the users of every other process, exactly once and in the room's order."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.helpers.live import LiveUser, body_text, event_ids, message_id

pytestmark = pytest.mark.slow


async def database_events(url: str, room: int) -> list[tuple[int, str, int]]:
    """The room's durable event log: (event id, kind, message id), in order."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await connection.fetch(
            "SELECT seq, kind, message_id FROM events WHERE room_id = $1 ORDER BY seq", room
        )
    finally:
        await connection.close()
    return [(row["seq"], row["kind"], row["message_id"]) for row in rows]


async def people(cluster, *names: str) -> list[LiveUser]:
    """Register each person through a different process (sign-in works on every one)."""
    made = []
    for index, name in enumerate(names):
        person = LiveUser(cluster[index % 3].url, name.lower())
        await person.register(name)
        made.append(person)
    return made


async def test_three_processes_one_chat(cluster, pg_url):
    ana, ben, cleo = await people(cluster, "Ana", "Ben", "Cleo")
    s0, s1, s2 = cluster
    room = await ana.create_room("General")
    for person, server in ((ben, s1), (cleo, s2)):
        assert (await person.on(server).post(f"/rooms/{room}/join")).status_code == 303

    async with (
        ana.on(s0).events(room) as at_ana,
        ben.on(s1).events(room) as at_ben,
        cleo.on(s2).events(room) as at_cleo,
    ):
        streams = {"ana": at_ana, "ben": at_ben, "cleo": at_cleo}
        # Presence: each stream, on its own process, comes to show all three.
        for stream in streams.values():
            await stream.until("presence", lambda d: all(n in d for n in ("Ana", "Ben", "Cleo")))

        # 1. Thirty messages posted at once, each person rotating through all three processes.
        async def talk(person: LiveUser, offset: int) -> list[str]:
            said = []
            for n in range(10):
                body = f"{person.username} says {n}"
                await person.on(cluster[(offset + n) % 3]).say(room, body)
                said.append(body)
            return said

        said = await asyncio.gather(talk(ana, 0), talk(ben, 1), talk(cleo, 2))
        seen = {name: await stream.take("message", 30, timeout=20) for name, stream in streams.items()}
        durable = await database_events(pg_url, room)
        assert [seq for seq, _, _ in durable] == list(range(1, 31))
        for name, events in seen.items():
            assert event_ids(events) == list(range(1, 31)), name  # every id, once, in order
            assert [message_id(e.data) for e in events] == [mid for _, _, mid in durable], name
            bodies = [body_text(e.data) for e in events]
            assert sorted(bodies) == sorted(b for person in said for b in person), name
            for person in said:  # each person's messages in the order they were sent
                assert [b for b in bodies if b in person] == person, name
        # The very same bytes reached every process's users.
        assert [e.data for e in seen["ana"]] == [e.data for e in seen["ben"]] == [e.data for e in seen["cleo"]]
        for stream in streams.values():
            assert await stream.quiet("message", 0.5) == []

        # 2. An edit and two deletes, each made through a process other than the viewer's.
        first_of = {name: message_id(next(e.data for e in seen["ana"] if f"{name} says 0" in e.data))
                    for name in ("ana", "ben", "cleo")}
        response = await ana.on(s1).post(f"/rooms/{room}/messages/{first_of['ana']}/edit",
                                     {"body": "ana says 0, corrected"})
        assert response.status_code == 303
        response = await cleo.on(s0).post(f"/rooms/{room}/messages/{first_of['cleo']}/delete")
        assert response.status_code == 303
        response = await ana.on(s2).post(f"/rooms/{room}/messages/{first_of['ben']}/delete")  # owner
        assert response.status_code == 303
        for name, stream in streams.items():
            updates = await stream.take("message_updated", 3)
            assert event_ids(updates) == [31, 32, 33], name
            assert [message_id(e.data) for e in updates] == [first_of["ana"], first_of["cleo"], first_of["ben"]]
            assert body_text(updates[0].data) == "ana says 0, corrected" and "(edited)" in updates[0].data
            for deleted in updates[1:]:
                assert "Message deleted" in deleted.data and "says 0" not in deleted.data
            assert await stream.quiet("message_updated", 0.3) == []

        # 3. Typing, sent through one process, shown by the others; never to the typer.
        assert (await ana.on(s2).post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
        for name in ("ben", "cleo"):
            await streams[name].until("typing", lambda d: "Ana is typing" in d)
        assert (await ben.on(s0).post(f"/rooms/{room}/typing", htmx=True)).status_code == 204
        await at_cleo.until("typing", lambda d: "Ana and Ben are typing" in d)
        await at_ana.until("typing", lambda d: "Ben is typing" in d)
        await ana.on(s1).say(room, "sent, so no longer typing")
        await at_cleo.until("typing", lambda d: "Ben is typing" in d and "Ana" not in d)
        await at_ben.until("typing", lambda d: "Ana" not in d)
        for name, stream in streams.items():
            assert all("Ana" not in e.data for e in stream.of("typing")) or name != "ana"
            assert all("Ben" not in e.data for e in stream.of("typing")) or name != "ben"
        for stream in streams.values():
            assert (await stream.seen("message", lambda d: "no longer typing" in d)).id == "34"

        # 4. Presence: Dave opens the room on one process; everyone sees him come and go, once.
        dave = LiveUser(s1.url, "dave")
        await dave.register("Dave")
        async with dave.on(s1).events(room) as at_dave:
            await at_dave.until("presence", lambda d: "Dave" in d)
            for stream in streams.values():
                await stream.until("presence", lambda d: "Dave" in d and "Ana" in d)
                assert await stream.quiet("presence", 0.3) == []
        for stream in streams.values():
            await stream.until("presence", lambda d: "Dave" not in d and "Ana" in d)
            assert await stream.quiet("presence", 0.3) == []

        # Nothing in any stream was ever repeated or skipped.
        for name, stream in streams.items():
            assert event_ids(stream.of("message", "message_updated")) == list(range(1, 35)), name
    for person in (ana, ben, cleo, dave):
        await person.aclose()
