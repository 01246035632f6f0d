"""Away digests: the mentions, replies and direct messages someone has not seen within the delay
(WEBCHAT_DIGEST_DELAY, 15 minutes by default) go to their verified address as one email, each
item linked to its message. A person is due once the oldest thing they have not seen has waited
the delay; their digest then carries everything unseen so far, so that a conversation arrives as
one email rather than a slice of it every round. What went out is recorded
(webchat.models.DigestedMessage), so nothing is emailed twice, whichever process makes the round."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jinja2 import Environment
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from webchat import dbqueue, i18n
from webchat.clock import clock_for
from webchat.mail import links, outbox
from webchat.messages import notices
from webchat.models import DigestedMessage, EmailAddress, Membership, Message, Notice

log = logging.getLogger("webchat.mail")

LOOK_BACK = timedelta(days=3)  # older unseen messages are not news any more
MAX_ITEMS = 50


@dataclass(frozen=True)
class Item:
    message: Message
    why: str  # "mention" | "reply" | "direct"


async def unseen_items(user_id: int, until: datetime, since: datetime) -> list[Item]:
    """What a digest carries: the person's unseen notices (mentions and replies,
    webchat.messages.notices) and the direct messages to them, written between `since` and
    `until`, still after their read marker, never emailed before, and wanted by the room's
    notification level ("do not disturb" is checked by the round, before this)."""
    emailed = set(await DigestedMessage.filter(user_id=user_id, created_at__gte=since - LOOK_BACK)
                  .values_list("message_id", flat=True))
    memberships = {m.room_id: m for m in await Membership.filter(user_id=user_id).select_related("room")}

    def wanted(message: Message, kind: str) -> bool:
        membership = memberships.get(message.room_id)
        return (membership is not None and not message.deleted and message.seq > membership.read_seq
                and message.id not in emailed and not message.author.deleted
                # The room's notification level (a direct message is a `message`).
                and notices.notifies(notices.level_of(membership, membership.room),
                                     "message" if kind == "direct" else kind))

    items: list[Item] = []
    unseen = await (Notice.filter(user_id=user_id, seen_at=None, message__created_at__lte=until,
                                   message__created_at__gte=since)
                     .order_by("id").limit(MAX_ITEMS).select_related("message", "message__author", "room"))
    for notice in unseen:
        if wanted(notice.message, notice.kind):
            notice.message.room = notice.room
            # In a direct room it is written to them whatever else it is (the room has no name
            # to say "in" of).
            items.append(Item(notice.message, "direct" if notice.room.kind == "direct" else notice.kind))
    taken = {item.message.id for item in items}
    for membership in memberships.values():
        if membership.room.kind != "direct":
            continue
        messages = await (Message.filter(room_id=membership.room_id, seq__gt=membership.read_seq, deleted=False,
                                         created_at__lte=until, created_at__gte=since)
                          .exclude(author_id=user_id).order_by("id").limit(MAX_ITEMS).select_related("author"))
        for message in messages:
            # A direct message that mentions or answers them is already an item, once: the
            # record of what went out holds each message once per person.
            if message.id not in taken and wanted(message, "direct"):
                message.room = membership.room
                items.append(Item(message, "direct"))
    items.sort(key=lambda item: item.message.id)
    return items[:MAX_ITEMS]


def render(env: Environment, *, person, items: list[Item], base_url: str, unsubscribe: str) -> tuple[str, str, str]:
    """(subject, text, html) of one digest, in the person's language (English when they left it to
    the browser: no browser asks for an email), its times in their zone and clock."""
    language = i18n.supported(person.language) or i18n.DEFAULT
    with i18n.speaking(language):
        subject = i18n.ngettext("%(num)d message for you on webchat while you were away",
                                "%(num)d messages for you on webchat while you were away", len(items))
        clock = clock_for(person.time_zone if person.time_zone_set else None, person.clock, language)
        context = {"person": person, "items": items, "base_url": base_url, "unsubscribe": unsubscribe,
                   "subject": subject, "clock": clock}
        return (subject, env.get_template("mail/digest.txt").render(context),
                env.get_template("mail/digest.html").render(context))


async def run_round(env: Environment, *, secret: str, base_url: str, delay: float) -> int:
    """One round: a digest for everyone with something unseen for longer than the delay; how
    many digests were queued."""
    now = datetime.now(UTC)
    cutoff, since = now - timedelta(seconds=delay), now - LOOK_BACK
    queued = 0
    addresses = await EmailAddress.filter(verified_at__not_isnull=True, digests=True,
                                          user__is_active=True).select_related("user")
    for address in addresses:
        person = address.user
        if person.do_not_disturb:
            continue
        items = await unseen_items(person.id, now, since)
        if not items or min(item.message.created_at for item in items) > cutoff:  # none has waited enough
            continue
        token = links.unsubscribe_token(secret, person.id, address.address)
        unsubscribe = f"{base_url}/unsubscribe/{token}"
        subject, body, html = render(env, person=person, items=items, base_url=base_url, unsubscribe=unsubscribe)
        try:
            async with in_transaction() as conn:
                # The record first: a second process making the same round at the same moment
                # fails on the unique (user, message) pair and queues nothing.
                await DigestedMessage.bulk_create(
                    [DigestedMessage(user_id=person.id, message_id=item.message.id) for item in items], using_db=conn)
                await outbox.enqueue(
                    address.address, "digest", subject, body, html, using_db=conn,
                    dedupe_key=f"digest:{person.id}:{items[0].message.id}:{items[-1].message.id}",
                    headers={"List-Unsubscribe": f"<{unsubscribe}>",
                             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        except IntegrityError:
            continue
        queued += 1
    return queued


async def worker(stopping: asyncio.Event, env: Environment, *, secret: str, base_url: str, delay: float) -> None:
    every = min(60.0, max(0.5, delay / 4))
    await dbqueue.every(stopping, every, lambda: run_round(env, secret=secret, base_url=base_url, delay=delay),
                        log, "email digests")
