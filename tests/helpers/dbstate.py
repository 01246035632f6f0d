"""The whole database as comparable data, to prove that a refused request changed nothing."""

from __future__ import annotations

from webchat.models import (
    AuditEntry,
    Ban,
    Block,
    Event,
    Invite,
    Membership,
    Message,
    PasswordReset,
    Reaction,
    Report,
    Room,
    Site,
    User,
)


async def snapshot() -> dict:
    return {
        "users": await User.all().order_by("id").values_list(
            "id", "username_key", "display_name", "password_hash", "session_version", "announce", "is_admin",
            "is_active", "deleted", "bio", "time_zone"),
        "rooms": await Room.all().order_by("id").values_list(
            "id", "name", "topic", "kind", "owner_id", "direct_key", "last_event", "last_seq", "archived"),
        "memberships": await Membership.all().order_by("id").values_list(
            "id", "user_id", "room_id", "read_seq", "read_message_id", "role", "muted_until"),
        "messages": await Message.all().order_by("id").values_list(
            "id", "room_id", "author_id", "seq", "body", "nonce", "edited_at", "deleted", "removed_by", "reply_to_id",
            "reply_count", "reactions", "revision"),
        "reactions": await Reaction.all().order_by("id").values_list("id", "message_id", "user_id", "emoji"),
        "events": await Event.all().order_by("id").values_list(
            "id", "room_id", "seq", "kind", "message_id"),
        "site": await Site.all().values_list("id", "name", "welcome", "registration", "member_invites"),
        "audit": await AuditEntry.all().order_by("id").values_list("id", "action", "target"),
        "invites": await Invite.all().order_by("id").values_list("id", "uses", "revoked"),
        "resets": await PasswordReset.all().order_by("id").values_list("id", "used"),
        "bans": await Ban.all().order_by("id").values_list("room_id", "user_id"),
        "reports": await Report.all().order_by("id").values_list("id", "status"),
        "blocks": await Block.all().order_by("id").values_list("blocker_id", "blocked_id"),
    }


async def assert_invariants() -> None:
    """Each room's events are numbered 1..N with no gap or repeat, and its messages likewise."""
    for room_id, last_event, last_seq in await Room.all().values_list("id", "last_event", "last_seq"):
        seqs = sorted(await Event.filter(room_id=room_id).values_list("seq", flat=True))
        assert seqs == list(range(1, last_event + 1)), (room_id, seqs, last_event)
        numbers = sorted(await Message.filter(room_id=room_id).values_list("seq", flat=True))
        assert numbers == list(range(1, last_seq + 1)), (room_id, numbers, last_seq)
