"""Site administration: administrators, deactivation, password-reset links, invitations, the
rooms overview and the report queue. Each change is written with its audit entry in one
transaction. (What a change does to open streams is webchat.enforce's business.)"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.admin import audit
from webchat.models import (
    Invite,
    Membership,
    Message,
    PasswordReset,
    Report,
    Room,
    User,
)

USERS_PAGE = 50
ROOMS_PAGE = 100
RESET_HOURS = 24
INVITE_MAX_DAYS = 90
INVITE_MAX_USES = 1000


class NotAllowed(Exception):
    """The action would leave the site in a bad state (no administrator left, say): the message says why."""


def now() -> datetime:
    return datetime.now(UTC)


def new_token() -> tuple[str, str]:
    """A random token for a link, and the hash that is stored (the table alone opens nothing)."""
    token = secrets.token_urlsafe(24)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def who(user: User) -> str:
    return f"@{user.username}"


# --- administrators --------------------------------------------------------------------------

async def first_account_becomes_admin(user: User) -> bool:
    """On an empty instance the first account is its administrator (nobody else could be)."""
    if await User.filter(id__lt=user.id).exists():
        return False
    async with in_transaction() as conn:
        await User.filter(id=user.id).using_db(conn).update(is_admin=True)
        await audit.record(user, "admin.grant", who(user), "the first account of the site", using_db=conn)
    user.is_admin = True
    return True


async def set_admin(actor: User | None, user: User, on: bool) -> bool:
    """Promote or demote; False if nothing changed. Never demotes the last active administrator."""
    if user.is_admin == on:
        return False
    if not on and not await User.filter(is_admin=True, is_active=True).exclude(id=user.id).exists():
        raise NotAllowed(i18n.gettext("This is the last administrator: promote someone else first."))
    async with in_transaction() as conn:
        await User.filter(id=user.id).using_db(conn).update(is_admin=on)
        await audit.record(actor, "admin.grant" if on else "admin.revoke", who(user), using_db=conn)
    user.is_admin = on
    return True


# --- users ------------------------------------------------------------------------------------

@dataclass
class UsersPage:
    users: list[User]
    page: int
    more: bool


async def users(query: str = "", page: int = 1, state: str = "") -> UsersPage:
    """Accounts by username: those whose username or display name contains the query."""
    found = User.filter(deleted=False)
    query = query.strip()[:64]
    if query:
        found = found.filter(Q(username_key__contains=query.lower().lstrip("@")) | Q(display_name__icontains=query))
    if state == "admins":
        found = found.filter(is_admin=True)
    elif state == "deactivated":
        found = found.filter(is_active=False)
    rows = await found.order_by("username_key").offset((page - 1) * USERS_PAGE).limit(USERS_PAGE + 1)
    return UsersPage(rows[:USERS_PAGE], page, len(rows) > USERS_PAGE)


async def deactivate(actor: User, user: User, conn) -> None:
    """Inside the caller's transaction (webchat.streams.revoking): no sign-in, every session
    ended (the version in every cookie is stale now). Messages stay, under the person's name."""
    if user.id == actor.id:
        raise NotAllowed(i18n.gettext("You cannot deactivate your own account here."))
    if user.is_admin and not await User.filter(is_admin=True, is_active=True).exclude(id=user.id).exists():
        raise NotAllowed(i18n.gettext("This is the last administrator: promote someone else first."))
    await User.filter(id=user.id).using_db(conn).update(is_active=False, session_version=F("session_version") + 1)
    await audit.record(actor, "user.deactivate", who(user), using_db=conn)
    user.is_active = False


async def reactivate(actor: User, user: User) -> bool:
    if user.is_active or user.deleted:
        return False
    async with in_transaction() as conn:
        await User.filter(id=user.id).using_db(conn).update(is_active=True)
        await audit.record(actor, "user.reactivate", who(user), using_db=conn)
    user.is_active = True
    return True


# --- password-reset links ---------------------------------------------------------------------

async def create_reset(actor: User, user: User, minutes: int = RESET_HOURS * 60) -> str:
    """A one-time link, valid RESET_HOURS (or `minutes`: one the user asked for by email);
    earlier unused links of the user stop working."""
    token, hashed = new_token()
    valid = f"valid {RESET_HOURS} hours" if minutes == RESET_HOURS * 60 else f"valid {minutes} minutes"
    if actor.id == user.id:
        valid += ", sent to their verified email address"
    async with in_transaction() as conn:
        await PasswordReset.filter(user_id=user.id, used=False).using_db(conn).update(used=True)
        await PasswordReset.create(user_id=user.id, token_hash=hashed,
                                   expires_at=now() + timedelta(minutes=minutes), using_db=conn)
        await audit.record(actor, "user.reset_link", who(user), valid, using_db=conn)
    return token


async def valid_reset(token: str) -> PasswordReset | None:
    if not token or len(token) > 100:
        return None
    reset = await PasswordReset.get_or_none(token_hash=token_hash(token)).select_related("user")
    if reset is None or reset.used or reset.expires_at <= now() or not reset.user.is_active:
        return None
    return reset


async def use_reset(reset: PasswordReset, password_hash: str, conn) -> bool:
    """Spend the link (once: of two uses at the same moment one wins) and set the password,
    signing out every session. Inside the caller's transaction."""
    spent = await PasswordReset.filter(id=reset.id, used=False, expires_at__gt=now()).using_db(conn).update(used=True)
    if not spent:
        return False
    await User.filter(id=reset.user_id).using_db(conn).update(
        password_hash=password_hash, session_version=F("session_version") + 1)
    await audit.record(reset.user, "user.password_reset", who(reset.user), "through a reset link", using_db=conn)
    return True


# --- invitations ------------------------------------------------------------------------------

async def create_invite(actor: User, days: int, uses: int) -> str:
    token, hashed = new_token()
    async with in_transaction() as conn:
        invite = await Invite.create(created_by_id=actor.id, token_hash=hashed, max_uses=uses,
                                     expires_at=now() + timedelta(days=days), using_db=conn)
        await audit.record(actor, "invite.create", f"invite #{invite.id}",
                           f"{uses} use{'s' if uses != 1 else ''}, {days} day{'s' if days != 1 else ''}",
                           using_db=conn)
    return token


async def invites(limit: int = 200, made_by: int | None = None) -> list[Invite]:
    """The newest invitations (a member's own only, given `made_by`)."""
    query = Invite.all() if made_by is None else Invite.filter(created_by_id=made_by)
    return await query.order_by("-id").limit(limit).select_related("created_by")


async def revoke_invite(actor: User, invite_id: int, made_by: int | None = None) -> bool:
    query = Invite.filter(id=invite_id, revoked=False)
    if made_by is not None:
        query = query.filter(created_by_id=made_by)
    async with in_transaction() as conn:
        changed = await query.using_db(conn).update(revoked=True)
        if changed:
            await audit.record(actor, "invite.revoke", f"invite #{invite_id}", using_db=conn)
    return bool(changed)


async def valid_invite(token: str) -> Invite | None:
    if not token or len(token) > 100:
        return None
    invite = await Invite.get_or_none(token_hash=token_hash(token))
    if invite is None or invite.revoked or invite.uses >= invite.max_uses or invite.expires_at <= now():
        return None
    return invite


async def spend_invite(invite: Invite, conn) -> bool:
    """One use of the invitation, inside the registering transaction; False if it ran out meanwhile."""
    return bool(await Invite.filter(
        id=invite.id, revoked=False, uses__lt=F("max_uses"), expires_at__gt=now()
    ).using_db(conn).update(uses=F("uses") + 1))


# --- rooms --------------------------------------------------------------------------------------

@dataclass
class RoomRow:
    room: Room
    members: int
    last_activity: datetime | None


async def rooms(page: int = 1, query: str = "") -> tuple[list[RoomRow], bool]:
    """Every room but direct conversations (they are private to their people), busiest first."""
    found = Room.exclude(kind="direct")
    if query.strip():
        found = found.filter(name__icontains=query.strip()[:80])
    rows = await found.order_by("-last_seq", "id").offset((page - 1) * ROOMS_PAGE).limit(ROOMS_PAGE + 1)
    more = len(rows) > ROOMS_PAGE
    rows = rows[:ROOMS_PAGE]
    ids = [room.id for room in rows]
    counts = dict(await Membership.filter(room_id__in=ids).annotate(n=Count("id"))
                  .group_by("room_id").values_list("room_id", "n")) if ids else {}
    latest = dict(await Message.filter(room_id__in=ids).annotate(at=Max("created_at"))
                  .group_by("room_id").values_list("room_id", "at")) if ids else {}
    return [RoomRow(room, counts.get(room.id, 0), latest.get(room.id)) for room in rows], more


# --- reports ------------------------------------------------------------------------------------

REASON_MAX = 500


async def report(reporter: User, message: Message, reason: str) -> Report:
    async with in_transaction() as conn:
        made = await Report.create(message_id=message.id, reporter_id=reporter.id, reason=reason, using_db=conn)
        await audit.record(reporter, "report.create", f"message #{message.id} in room #{message.room_id}",
                           reason, using_db=conn)
    return made


async def reports(status: str = "open", limit: int = 200) -> list[Report]:
    return await (Report.filter(status=status).order_by("id" if status == "open" else "-id").limit(limit)
                  .select_related("reporter", "message", "message__author", "message__room"))


async def close_report(actor: User, report_id: int, status: str) -> Report | None:
    """Resolve or dismiss an open report; None if it is not open (handled by someone else)."""
    found = await Report.get_or_none(id=report_id).select_related("message")
    if found is None:
        return None
    async with in_transaction() as conn:
        if not await Report.filter(id=report_id, status="open").using_db(conn).update(status=status):
            return None
        await audit.record(actor, f"report.{'resolve' if status == 'resolved' else 'dismiss'}",
                           f"report #{report_id} (message #{found.message_id})", using_db=conn)
    found.status = status
    return found
