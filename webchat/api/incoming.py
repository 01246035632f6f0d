"""Incoming webhooks: a secret URL that posts into one room as the hook's own bot account.

Like API tokens, only the URL's SHA-256 digest is kept; the URL is shown once, to whoever made it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.accounts.names import hidden_characters
from webchat.api.tokens import NO_PASSWORD, digest, new_secret
from webchat.models import IncomingHook, Membership, Room, User

PREFIX = "whk_"
NAME_MAX = 64


class HookError(ValueError):
    pass


@dataclass(frozen=True)
class MadeHook:
    hook: IncomingHook
    secret: str


def check_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name or len(name) > NAME_MAX or hidden_characters(name):
        raise HookError(i18n.gettext("Give the webhook a name of 1 to %(max)s visible characters, such as “CI”.",
                                     max=NAME_MAX))
    return name


async def create(room: Room, creator: User, name: str) -> MadeHook:
    """The hook, its bot (named after it, a member of the room) and its secret."""
    name = check_name(name)
    secret = new_secret(PREFIX)
    async with in_transaction():
        username = f"hook-{secrets.token_hex(5)}"
        bot = await User.create(username=username, username_key=username, display_name=name,
                                password_hash=NO_PASSWORD, bot_owner_id=creator.id)
        await Membership.create(room_id=room.id, user_id=bot.id, read_seq=room.last_seq)
        hook = await IncomingHook.create(room_id=room.id, bot_id=bot.id, creator_id=creator.id, name=name,
                                         digest=digest(secret), hint=secret[:8])
    return MadeHook(hook, secret)


async def find(secret: str) -> IncomingHook | None:
    if not secret.startswith(PREFIX) or len(secret) > 100 or not secret.isascii():
        return None
    hook = await IncomingHook.get_or_none(digest=digest(secret), revoked_at=None).select_related("bot", "room")
    return hook


async def of_room(room: Room) -> list[IncomingHook]:
    return await IncomingHook.filter(room_id=room.id).select_related("creator").order_by("-id")


async def revoke(hook: IncomingHook) -> None:
    if hook.revoked_at is None:
        hook.revoked_at = datetime.now(UTC)
        await IncomingHook.filter(id=hook.id).update(revoked_at=hook.revoked_at)


def slack_text(content_type: str, raw: bytes, form_payload: str | None) -> str:
    """The text of a Slack-style post: JSON {"text": …}, or a form with payload={"text": …}.
    HookError for anything else."""
    try:
        if content_type == "application/json":
            data = json.loads(raw.decode("utf-8"))
        elif form_payload is not None:
            data = json.loads(form_payload)
        else:
            raise HookError(i18n.gettext("Send JSON {\"text\": \"…\"}, or a form with payload={\"text\": \"…\"}."))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HookError(i18n.gettext("The body is not valid JSON.")) from None
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise HookError(i18n.gettext("The JSON needs a \"text\" field holding the message."))
    return text
