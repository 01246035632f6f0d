"""Tortoise models. Migrations live in webchat/migrations (`tortoise makemigrations`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

ANNOUNCE_CHOICES = ("all", "mentions", "none")


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=32)
    # Lower-cased username: uniqueness regardless of case, on every database.
    username_key = fields.CharField(max_length=32, unique=True)
    display_name = fields.CharField(max_length=64)
    password_hash = fields.CharField(max_length=255)
    # Part of the auth cookie; bumping it signs out every session of this user.
    session_version = fields.IntField(default=1)
    announce = fields.CharField(max_length=10, default="all")
    # Whether the screen-reader announcer says when someone starts typing (off: it is chatter).
    # db_default: the column is added to a table that already has users (NOT NULL needs a value).
    announce_typing = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Room(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=80)
    topic = fields.CharField(max_length=200, default="")
    kind = fields.CharField(max_length=10)  # public | private | direct
    owner = fields.ForeignKeyField("models.User", related_name="owned_rooms", null=True)
    # "small:large" user ids of a direct room, so the same two people always get the same room.
    direct_key = fields.CharField(max_length=40, null=True, unique=True)
    # Per-room sequences, allocated under a row lock in the writing transaction.
    last_event = fields.IntField(default=0)  # event ids of the room's stream
    last_seq = fields.IntField(default=0)  # message numbers, for unread arithmetic
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rooms"
        indexes = (("kind",),)


class Membership(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="memberships")
    room = fields.ForeignKeyField("models.Room", related_name="memberships")
    # Read marker: the message number (Room.last_seq space) and id read up to; moves forward only.
    read_seq = fields.IntField(default=0)
    read_message_id = fields.IntField(default=0)
    joined_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "memberships"
        unique_together = (("user", "room"),)
        indexes = (("room_id", "user_id"),)


class Message(Model):
    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="messages")
    author = fields.ForeignKeyField("models.User", related_name="messages")
    seq = fields.IntField()  # message number within the room
    body = fields.TextField()
    # The body as HTML, rendered once when it is written (webchat.text), so that no page, replay
    # or stream renders it again; empty once the message is deleted.
    html = fields.TextField(default="", db_default="")
    nonce = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    deleted = fields.BooleanField(default=False)
    # The message this one answers (same room), and how many answer this one ("N replies").
    reply_to = fields.ForeignKeyField("models.Message", related_name="replies", null=True,
                                      on_delete=fields.SET_NULL)
    reply_count = fields.IntField(default=0, db_default=0)
    # Reactions as shown: [[emoji, [[username, display name], …]], …] in the order first given,
    # kept with the message (the Reaction rows are the truth) so its fragment renders from one row.
    reactions = fields.JSONField(null=True)
    # Bumped by every change that shows in the message's fragment (edit, delete, reaction, reply):
    # the renderer's cache key.
    revision = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "messages"
        unique_together = (("room", "seq"), ("author", "nonce"))
        indexes = (("room_id", "id"),)


class Reaction(Model):
    """One person's reaction to a message with one emoji."""

    id = fields.IntField(primary_key=True)
    message = fields.ForeignKeyField("models.Message", related_name="reaction_rows")
    user = fields.ForeignKeyField("models.User", related_name="reactions")
    emoji = fields.CharField(max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reactions"
        unique_together = (("message", "user", "emoji"),)


class Event(Model):
    """One entry of a room's event stream: the durable log that resumes are replayed from."""

    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="events")
    seq = fields.IntField()  # the SSE id: 1, 2, 3, ... per room with no gaps
    kind = fields.CharField(max_length=20)  # message | message_updated
    message = fields.ForeignKeyField("models.Message", related_name="events")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events"
        unique_together = (("room", "seq"),)
