"""Running a room: the owner's settings and hand-over, moderators, removing messages (the
tombstone says by whom), muting, removing and banning, archiving and deleting, reports. Each
action is refused to those it is not for, and written to the audit log."""

from __future__ import annotations

import re

from webchat.models import AuditEntry, Ban, Membership, Message, Report, Room


async def actions() -> list[str]:
    return [e.action for e in await AuditEntry.all().order_by("id")]


async def message_id(body: str) -> int:
    return (await Message.get(body=body)).id


async def setup_room(ana, ben, cleo, kind="public") -> int:
    room = await ana.create_room("Harbour", kind)
    for person in (ben, cleo):
        if kind == "public":
            assert (await person.post(f"/rooms/{room}/join")).status == 303
        else:
            assert (await ana.post(f"/rooms/{room}/members", {"username": person.username})).status == 303
    return room


async def test_the_owner_appoints_moderators_who_remove_any_message(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo)
    await cleo.say(room, "something rude")
    mid = await message_id("something rude")
    assert (await ben.post(f"/rooms/{room}/messages/{mid}/delete")).status == 403  # not yet
    assert (await ben.get(f"/rooms/{room}/settings")).status == 403
    assert (await cleo.post(f"/rooms/{room}/moderators", {"username": "ben"})).status == 403
    assert (await ana.post(f"/rooms/{room}/moderators", {"username": "ben"})).status == 303
    assert (await Membership.get(room_id=room, user__username="ben")).role == "moderator"
    settings = await ben.get(f"/rooms/{room}/settings")
    assert settings.status == 200 and "Mute Cleo for" in settings.text
    assert f'action="/rooms/{room}/settings"' not in settings.text  # the owner's part is the owner's

    page = await ben.get(f"/rooms/{room}")
    assert ".act-moderate { display: inline; }" in page.text
    assert (await ben.post(f"/rooms/{room}/messages/{mid}/delete")).status == 303
    message = await Message.get(id=mid)
    assert message.deleted and message.body == "" and message.removed_by == "a moderator, Ben Okafor"
    shown = (await cleo.get(f"/rooms/{room}")).text
    assert "Message deleted by a moderator, Ben Okafor" in shown
    assert "message.remove" in await actions() and "room.moderator" in await actions()
    # A moderator cannot act on the owner; the owner dismisses the moderator.
    assert (await ben.post(f"/rooms/{room}/moderation/ana/mute", {"minutes": "10"})).status == 409
    assert (await ana.post(f"/rooms/{room}/moderators/ben/remove")).status == 303
    assert (await ben.get(f"/rooms/{room}/settings")).status == 403


async def test_a_muted_member_reads_but_cannot_post_until_then(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo)
    await cleo.say(room, "earlier")
    bad = await ana.post(f"/rooms/{room}/moderation/cleo/mute", {"minutes": "7"})
    assert bad.status == 422
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/mute", {"minutes": "60"})).status == 303
    earlier = await message_id("earlier")
    refused = await cleo.say(room, "can I?")
    assert refused.status == 403
    edit = await cleo.post(f"/rooms/{room}/messages/{earlier}/edit", {"body": "edited while muted"})
    assert edit.status == 403 and (await Message.get(id=earlier)).body == "earlier"
    assert re.search(r"muted in this room until \d{4}-\d\d-\d\d \d\d:\d\d UTC", refused.text)
    assert (await cleo.post(f"/rooms/{room}/typing", htmx=True)).status == 403
    page = await cleo.get(f"/rooms/{room}")
    assert page.status == 200 and 'id="muted-notice"' in page.text
    assert not await Message.exists(body="can I?")
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/unmute")).status == 303
    assert (await cleo.say(room, "thanks")).status == 303
    assert ["room.mute", "room.unmute"] == [a for a in await actions() if "mute" in a]


async def test_ban_removes_and_keeps_out_of_a_public_room(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo)
    assert (await ben.post(f"/rooms/{room}/moderation/cleo/ban")).status == 403  # not a moderator
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/ban")).status == 303
    assert not await Membership.exists(room_id=room, user__username="cleo")
    assert (await cleo.get(f"/rooms/{room}")).status == 403
    assert (await cleo.post(f"/rooms/{room}/join")).status == 403
    assert await cleo.stream_status(f"/rooms/{room}/events") == 403
    assert f'href="/rooms/{room}"' not in (await cleo.get("/rooms")).text
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/unban")).status == 303
    assert (await cleo.post(f"/rooms/{room}/join")).status == 303
    assert ["room.ban", "room.unban"] == [a for a in await actions() if "ban" in a]


async def test_remove_from_a_room_and_bans_only_for_public_rooms(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo, "private")
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/ban")).status == 409
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/remove")).status == 303
    assert (await cleo.get(f"/rooms/{room}")).status == 403
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/remove")).status == 404
    assert (await ana.post(f"/rooms/{room}/moderation/ana/remove")).status == 409
    assert (await ana.post(f"/rooms/{room}/moderation/nobody/remove")).status == 404
    assert (await ana.post(f"/rooms/{room}/moderation/ben/explode")).status == 404
    assert "room.remove" in await actions()


async def test_owner_renames_changes_visibility_and_hands_over(ana, ben, cleo, browser_factory):
    room = await setup_room(ana, ben, cleo)
    assert (await ben.post(f"/rooms/{room}/settings", {"name": "Mine", "visibility": "public"})).status == 403
    bad = await ana.post(f"/rooms/{room}/settings", {"name": "", "topic": "t" * 201, "visibility": "secret"})
    assert bad.status == 422
    for field in ("settings-name", "settings-topic", "settings-public"):
        assert f'href="#{field}"' in bad.text
    done = await ana.post(f"/rooms/{room}/settings", {"name": "Lighthouse", "topic": "Lamps",
                                                      "visibility": "private"})
    assert done.status == 303
    updated = await Room.get(id=room)
    assert (updated.name, updated.topic, updated.kind) == ("Lighthouse", "Lamps", "private")
    outsider = browser_factory()
    await outsider.register("otto")
    assert (await outsider.get(f"/rooms/{room}")).status == 403  # private now
    assert (await ana.post(f"/rooms/{room}/transfer", {"username": "otto"})).status == 422  # not a member
    assert (await ana.post(f"/rooms/{room}/transfer", {"username": "ben"})).status == 303
    assert (await Room.get(id=room)).owner_id == (await Membership.get(room_id=room, user__username="ben")).user_id
    assert (await Membership.get(room_id=room, user__username="ana")).role == "moderator"
    assert (await ana.post(f"/rooms/{room}/settings", {"name": "Back", "visibility": "public"})).status == 403
    assert "room.settings" in await actions() and "room.transfer" in await actions()


async def test_owner_archives_and_deletes_by_typing_the_name(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo)
    await ben.say(room, "before")
    assert (await ben.post(f"/rooms/{room}/archive")).status == 403
    assert (await ana.post(f"/rooms/{room}/archive")).status == 303
    assert (await ben.say(room, "after")).status == 403
    before = await message_id("before")
    assert (await ben.post(f"/rooms/{room}/messages/{before}/edit", {"body": "rewritten"})).status == 403
    assert (await Message.get(id=before)).body == "before"
    page = await ben.get(f"/rooms/{room}")
    assert "This room is archived" in page.text and 'id="composer-body"' not in page.text and "before" in page.text
    # Still searchable: the archive is read-only, not hidden.
    found = await ben.get(f"/search?q=before&room={room}")
    assert found.status == 200 and f"/rooms/{room}/messages/{before}" in found.text
    assert (await ana.post(f"/rooms/{room}/unarchive")).status == 303
    assert (await ben.get(f"/rooms/{room}/delete")).status == 403
    assert (await ana.get(f"/rooms/{room}/delete")).status == 200
    wrong = await ana.post(f"/rooms/{room}/delete", {"confirm": "harbour"})
    assert wrong.status == 422 and 'value="harbour"' in wrong.text
    assert (await ana.post(f"/rooms/{room}/delete", {"confirm": "Harbour"})).status == 303
    assert not await Room.exists(id=room) and not await Message.exists(body="before")
    assert (await ben.get(f"/rooms/{room}")).status == 404


async def test_report_a_message_and_the_administrators_resolve_or_dismiss(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo)
    await cleo.say(room, "buy cheap pills")
    await cleo.say(room, "just a joke")
    spam, joke = await message_id("buy cheap pills"), await message_id("just a joke")
    assert (await cleo.get(f"/rooms/{room}/messages/{spam}/report")).status == 409  # your own
    form = await ben.get(f"/rooms/{room}/messages/{spam}/report")
    assert form.status == 200 and "buy cheap pills" in form.text
    empty = await ben.post(f"/rooms/{room}/messages/{spam}/report", {"reason": "  "})
    assert empty.status == 422 and 'href="#report-reason"' in empty.text
    assert (await ben.post(f"/rooms/{room}/messages/{spam}/report", {"reason": "spam"})).status == 303
    assert (await ben.post(f"/rooms/{room}/messages/{joke}/report", {"reason": "unkind"})).status == 303
    assert (await ben.get("/admin/reports")).status == 403
    queue = await ana.get("/admin/reports")
    assert "buy cheap pills" in queue.text and "Reason: spam" in queue.text
    spam_report = await Report.get(message_id=spam)
    joke_report = await Report.get(message_id=joke)
    assert (await ana.post(f"/admin/reports/{spam_report.id}/resolve")).status == 303
    assert (await ana.post(f"/admin/reports/{joke_report.id}/dismiss")).status == 303
    assert (await ana.post(f"/admin/reports/{joke_report.id}/resolve")).status == 409  # handled already
    removed = await Message.get(id=spam)
    assert removed.deleted and removed.removed_by == "an administrator"
    assert not (await Message.get(id=joke)).deleted
    assert "No open reports" in (await ana.get("/admin/reports")).text
    assert "buy cheap pills" not in (await ana.get("/admin/reports?status=resolved")).text  # erased
    assert [a for a in await actions() if a.startswith("report.")] == [
        "report.create", "report.create", "report.resolve", "report.dismiss"]


async def test_moderation_forms_need_csrf(ana, ben, cleo):
    room = await setup_room(ana, ben, cleo)
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/ban", csrf=False)).status == 403
    assert not await Ban.exists(room_id=room)


async def test_until_when_is_said_in_each_persons_time_zone(ana, ben, cleo):
    """The muted member's refusal and the moderator's notice give the time as each of them reads
    times (their zone and clock); the audit log keeps UTC, for readers anywhere."""
    from webchat.clock import clock_for

    room = await setup_room(ana, ben, cleo)
    assert (await cleo.post("/settings", {"time_zone": "Asia/Bangkok", "clock": "24"})).status == 303
    assert (await ana.post("/settings", {"time_zone": "America/New_York", "clock": "12"})).status == 303
    assert (await ana.post(f"/rooms/{room}/moderation/cleo/mute", {"minutes": "60"})).status == 303
    until = (await Membership.get(room_id=room, user__username="cleo")).muted_until
    in_bangkok = clock_for("Asia/Bangkok", "24").time(until)
    in_new_york = clock_for("America/New_York", "12").time(until)
    assert in_bangkok != in_new_york and "UTC" not in in_bangkok + in_new_york
    notice = (await ana.get(f"/rooms/{room}/settings")).text
    assert f"Cleo is muted until {in_new_york}." in notice
    refused = await cleo.say(room, "may I?")
    assert refused.status == 403
    assert f"muted in this room until {in_bangkok}:" in refused.text
    entry = await AuditEntry.get(action="room.mute")
    assert re.fullmatch(r"until \d{4}-\d\d-\d\d \d\d:\d\d UTC", entry.detail)
