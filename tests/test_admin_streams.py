"""Deactivation and bans take effect on open streams at once: in one process with the in-process
broker, and on two processes sharing PostgreSQL and Redis (streams opened on both, the action
taken through the first). Each trial races loops that keep reopening the person's streams against
the action; then the room hears a message, and no stream that was still open may carry it.
"""

from __future__ import annotations

import pytest

from tests.helpers.live import LiveUser
from tests.helpers.streams import open_stream
from tests.test_revocation import Opener, carried, presence_names, servers  # noqa: F401 (a fixture)

TRIALS = 5


@pytest.mark.slow
async def test_deactivation_ends_every_stream_and_none_hears_what_follows(servers):  # noqa: F811
    admin = await LiveUser(servers[0].url, "olga").register("Olga")  # the first account: the administrator
    rita = await LiveUser(servers[0].url, "rita").register("Rita")
    try:
        room = await admin.create_room("Inner circle", "private")
        assert (await admin.post(f"/rooms/{room}/members", {"username": "rita"})).status_code == 303
        leaks, racing = [], 0
        for trial in range(TRIALS):
            opener = Opener(servers, f"/rooms/{room}/events", rita.cookie_header())
            # Her own stream (the room list) too, on the other server.
            own = await open_stream(servers[-1].port, "/events", rita.cookie_header())
            assert own.status == 200

            async def deactivate():
                response = await admin.post("/admin/users/rita/deactivate")
                assert response.status_code == 303, response.text

            held = await opener.run(deactivate)
            events = await own.events_until(lambda event: event.event == "close", 5)
            assert any(e.event == "close" and "deactivated" in e.data for e in events)
            own.close(abrupt=True)
            marker = f"after deactivation {trial}"
            await admin.say(room, marker)
            leaks.append(await carried(held, marker))
            racing += opener.racing
            assert "Rita" not in presence_names((await admin.page(f"/rooms/{room}")).text)
            for server in servers:
                refused = await open_stream(server.port, f"/rooms/{room}/events", rita.cookie_header())
                assert refused.status == 401
            assert (await admin.post("/admin/users/rita/reactivate")).status_code == 303
            await rita.login()
        print(f"deactivation: {racing} opens under way during it in {TRIALS} trials; leaks per trial {leaks}")
        assert racing > 0
        assert sum(leaks) == 0, leaks
    finally:
        await admin.aclose()
        await rita.aclose()


@pytest.mark.slow
async def test_a_ban_ends_the_room_streams_and_keeps_them_shut(servers):  # noqa: F811
    owner = await LiveUser(servers[0].url, "olga").register("Olga")
    rita = await LiveUser(servers[0].url, "rita").register("Rita")
    try:
        room = await owner.create_room("Town square", "public")
        leaks, racing = [], 0
        for trial in range(TRIALS):
            assert (await rita.post(f"/rooms/{room}/join")).status_code == 303
            opener = Opener(servers, f"/rooms/{room}/events", rita.cookie_header())

            async def ban():
                response = await owner.post(f"/rooms/{room}/moderation/rita/ban")
                assert response.status_code == 303, response.text

            held = await opener.run(ban)
            marker = f"after the ban {trial}"
            await owner.say(room, marker)
            leaks.append(await carried(held, marker))
            racing += opener.racing
            for server in servers:
                refused = await open_stream(server.port, f"/rooms/{room}/events", rita.cookie_header())
                assert refused.status == 403
            assert (await rita.post(f"/rooms/{room}/join")).status_code == 403
            assert (await rita.page(f"/rooms/{room}")).status_code == 403
            assert (await owner.post(f"/rooms/{room}/moderation/rita/unban")).status_code == 303
        print(f"ban: {racing} opens under way during it in {TRIALS} trials; leaks per trial {leaks}")
        assert racing > 0
        assert sum(leaks) == 0, leaks
    finally:
        await owner.aclose()
        await rita.aclose()


@pytest.mark.slow
async def test_a_change_of_the_site_settings_shows_at_once_in_every_process(servers):  # noqa: F811
    """Each process keeps the site's settings between pages; a change made through one process is
    shown by the next page of every other (a version in Redis that the change bumps)."""
    admin = await LiveUser(servers[0].url, "olga").register("Olga")
    elsewhere = admin.on(servers[-1])
    try:
        for round, name in enumerate(("Harbour", "Lighthouse")):
            before = (await elsewhere.page("/rooms")).text  # read, and kept, by the other process
            assert f"· {name}</title>" not in before
            saved = await admin.post("/admin/site", {"name": name, "welcome": f"Welcome {round}",
                                                     "registration": "open"})
            assert saved.status_code == 303, saved.text
            shown = (await elsewhere.page("/rooms")).text
            assert f"· {name}</title>" in shown, f"round {round}: the other process shows the old name"
    finally:
        await admin.aclose()
