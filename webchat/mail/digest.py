"""Away digests: the mentions, replies and direct messages someone has not seen within the delay
(WEBCHAT_DIGEST_DELAY, 15 minutes by default) go to their verified address as one email per
person per round, each item linked to its message; what went out is recorded
(webchat.models.DigestedMessage), so nothing is emailed twice, whichever process makes the round."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jinja2 import Environment
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from webchat import dbqueue, text
from webchat.mail import links, outbox
from webchat.models import DigestedMessage, EmailAddress, Membership, Message

log = logging.getLogger("webchat.mail")

LOOK_BACK = timedelta(days=3)  # older unseen messages are not news any more
MAX_ITEMS = 50


@dataclass(frozen=True)
class Item:
    message: Message
    why: str  # "mention" | "reply" | "direct"


async def unseen_items(user_id: int, username: str, cutoff: datetime, since: datetime) -> list[Item]:
    """The messages of the person's rooms written between `since` and `cutoff`, after their read
    marker, not by them and never emailed, that are direct messages, mention @them or reply to
    them: what a digest carries. (One function, so that a notices table can answer it instead.)"""
    name = username.lower()
    items: list[Item] = []
    emailed = set(await DigestedMessage.filter(user_id=user_id, created_at__gte=since - LOOK_BACK)
                  .values_list("message_id", flat=True))
    memberships = await Membership.filter(user_id=user_id).select_related("room")
    for membership in memberships:
        room = membership.room
        query = Message.filter(room_id=room.id, seq__gt=membership.read_seq, deleted=False,
                               created_at__lte=cutoff, created_at__gte=since).exclude(author_id=user_id)
        if room.kind != "direct":
            # Only messages that may concern the person are read in full.
            candidates = await query.filter(body__icontains=f"@{name}").select_related("author", "reply_to")
            candidates += await query.filter(reply_to__author_id=user_id).select_related("author", "reply_to")
        else:
            candidates = await query.select_related("author", "reply_to")
        seen: set[int] = set()
        for message in sorted(candidates, key=lambda m: m.id):
            if message.id in seen or message.id in emailed or message.author.deleted:
                continue
            seen.add(message.id)
            message.room = room
            if room.kind == "direct":
                items.append(Item(message, "direct"))
            elif name in text.mentions(message.body):
                items.append(Item(message, "mention"))
            elif message.reply_to is not None and message.reply_to.author_id == user_id:
                items.append(Item(message, "reply"))
    items.sort(key=lambda item: item.message.id)
    return items[:MAX_ITEMS]


def render(env: Environment, *, person, items: list[Item], base_url: str, unsubscribe: str) -> tuple[str, str, str]:
    """(subject, text, html) of one digest."""
    count = len(items)
    subject = f"{count} message{'s' if count != 1 else ''} for you on webchat while you were away"
    context = {"person": person, "items": items, "base_url": base_url, "unsubscribe": unsubscribe,
               "subject": subject}
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
        items = await unseen_items(person.id, person.username, cutoff, since)
        if not items:
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
