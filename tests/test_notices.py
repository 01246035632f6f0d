"""Notices: mentions and replies recorded with the message, in its transaction, on SQLite and
PostgreSQL (the `app` fixture): who gets one, edits, deletions and read state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from webchat.messages import notices, service
from webchat.models import Message, Notice, Room, User


async def notices_of(message_id: int) -> dict[str, str]:
    rows = await Notice.filter(message_id=message_id).select_related("user")
    return {n.user.username: n.kind for n in rows}


async def test_a_mention_notifies_members_named_in_any_case_but_not_the_author(ana, ben, cleo, browser_factory):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    # cleo is not a member: a mention of her notifies nobody (she may not be able to read it).
    await ana.say(room, "@BEN and @cleo and @ana and @nobody, look")
    message = await Message.get(room_id=room)
    assert await notices_of(message.id) == {"ben": "mention"}
    notice = await Notice.get(message_id=message.id)
    assert notice.room_id == room and notice.seen_at is None


async def test_a_message_without_an_at_sign_writes_no_notice(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "ben, no at sign here")
    assert await Notice.all().count() == 0


async def test_a_private_room_notifies_only_its_members(ana, ben, cleo):
    room = await ana.create_room("Secret", "private")
    await ana.say(room, "@ben @cleo")
    assert await Notice.all().count() == 0


async def test_a_deactivated_member_is_not_notified(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await User.filter(username="ben").update(is_active=False)
    await ana.say(room, "@ben")
    assert await Notice.all().count() == 0


async def test_a_reply_notifies_the_author_of_the_message_it_answers(ana, ben, cleo):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await cleo.post(f"/rooms/{room}/join")
    await ben.say(room, "a question")
    question = await Message.get(room_id=room)
    # Posting with reply_to is another part's route: written here as the service writes it.
    async with in_transaction() as conn:
        answer = await Message.create(room_id=room, author_id=(await User.get(username="ana")).id, seq=99,
                                      body="an answer, @ben and @cleo", html="", reply_to_id=question.id,
                                      using_db=conn)
        assert await notices.record(conn, answer) == sorted(
            [(await User.get(username="ben")).id, (await User.get(username="cleo")).id])
    # Named and answered: one notice, a reply.
    assert await notices_of(answer.id) == {"ben": "reply", "cleo": "mention"}
    # Answering yourself notifies nobody.
    async with in_transaction() as conn:
        own = await Message.create(room_id=room, author_id=question.author_id, seq=100, body="me again",
                                   html="", reply_to_id=question.id, using_db=conn)
        assert await notices.record(conn, own) == []


async def test_an_edit_recomputes_mentions_and_a_deletion_removes_them(ana, ben, cleo):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await cleo.post(f"/rooms/{room}/join")
    await ana.say(room, "hello @ben")
    message = await Message.get(room_id=room)
    ben_user = await User.get(username="ben")
    await notices.mark_seen(ben_user)
    first = await Notice.get(message_id=message.id)
    assert first.seen_at is not None

    page = await ana.post(f"/rooms/{room}/messages/{message.id}/edit", {"body": "hello @ben and @cleo"})
    assert page.status in (200, 303)
    assert await notices_of(message.id) == {"ben": "mention", "cleo": "mention"}
    # Ben, still named, keeps his notice as it was (seen).
    assert (await Notice.get(message_id=message.id, user_id=ben_user.id)).seen_at is not None

    await ana.post(f"/rooms/{room}/messages/{message.id}/edit", {"body": "only @cleo now"})
    assert await notices_of(message.id) == {"cleo": "mention"}

    await ana.post(f"/rooms/{room}/messages/{message.id}/delete")
    assert (await Message.get(id=message.id)).deleted
    assert await Notice.filter(message_id=message.id).count() == 0


async def test_reading_lists_counts_and_marks_seen(ana, ben, no_limits):
    general = await ana.create_room("General")
    other = await ana.create_room("Other")
    for room in (general, other):
        await ben.post(f"/rooms/{room}/join")
    for n in range(5):
        await ana.say(general, f"@ben number {n}")
    await ana.say(other, "@ben elsewhere")
    ben_user = await User.get(username="ben")
    assert await notices.unread_counts(ben_user) == {general: 5, other: 1}
    assert await notices.unread_total(ben_user) == 6

    shown, more = await notices.for_user(ben_user, count=4)
    assert [n.message.body for n in shown] == ["@ben elsewhere"] + [f"@ben number {n}" for n in (4, 3, 2)]
    assert more and shown[0].room.name == "Other" and shown[0].message.author.username == "ana"
    older, more = await notices.for_user(ben_user, before=shown[-1].id, count=4)
    assert [n.message.body for n in older] == ["@ben number 1", "@ben number 0"] and not more

    # The room read up to its third message: those three are seen.
    third = (await Message.filter(room_id=general).order_by("id"))[2]
    assert await notices.mark_seen(ben_user, room_id=general, up_to=third.id) == 3
    assert await notices.unread_counts(ben_user) == {general: 2, other: 1}
    assert await notices.mark_seen(ben_user, ids=[shown[0].id]) == 1
    assert await notices.unread_counts(ben_user) == {general: 2}
    assert await notices.mark_seen(ben_user, ids=[]) == 0
    # Nobody else's notices are touched by ben's.
    ana_user = await User.get(username="ana")
    assert await notices.mark_seen(ana_user) == 0
    assert await notices.unread_total(ben_user) == 2


async def test_unseen_notices_older_than_a_cutoff_are_for_the_digest(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "@ben old")
    await Notice.all().update(created_at=datetime.now(UTC) - timedelta(minutes=20))
    await ana.say(room, "@ben new")
    due = await notices.unseen_since(datetime.now(UTC) - timedelta(minutes=15))
    assert [n.message.body for n in due] == ["@ben old"] and due[0].user.username == "ben"


async def test_deleting_a_room_or_account_takes_the_notices_with_it(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "@ben")
    assert await Notice.all().count() == 1
    await Message.filter(room_id=room).delete()
    assert await Notice.all().count() == 0
    assert await Room.filter(id=room).exists()


async def test_a_batch_of_posts_writes_each_ones_notices(ana, ben):
    room_id = await ana.create_room("General")
    await ben.post(f"/rooms/{room_id}/join")
    room = await Room.get(id=room_id)
    author = await User.get(username="ana")
    ben_id = (await User.get(username="ben")).id
    results = await asyncio.gather(*(service.post(room, author, f"@ben {n}", None) for n in range(10)))
    assert all(message.notified == [ben_id] for message, _ in results)
    assert await Notice.filter(room_id=room_id).count() == 10
