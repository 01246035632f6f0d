"""Tortoise models. Migrations live in webchat/migrations (`tortoise makemigrations`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

ANNOUNCE_CHOICES = ("all", "mentions", "none")
CLOCK_CHOICES = ("auto", "12", "24")


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
    # A bot account belongs to the person who made it: it acts only through API tokens and
    # incoming webhooks (its password hash matches no password), and is labelled "bot" wherever
    # its name is shown.
    bot_owner = fields.ForeignKeyField("models.User", related_name="bots", null=True)
    # Site administrator: the /admin pages. The first account of an empty instance is one.
    is_admin = fields.BooleanField(default=False, db_default=False)
    # False once an administrator deactivated the account (or its owner deleted it): no sign-in,
    # no session, kept messages.
    is_active = fields.BooleanField(default=True, db_default=True)
    # The account was deleted by its owner: shown as "deleted user" wherever it appears.
    deleted = fields.BooleanField(default=False, db_default=False)
    bio = fields.CharField(max_length=300, default="", db_default="")
    time_zone = fields.CharField(max_length=64, default="UTC", db_default="UTC")
    # Whether the person chose their time zone (on /settings): until then pages without script show
    # UTC, labelled as such, and the script shows the browser's own zone (and offers to keep it).
    time_zone_set = fields.BooleanField(default=False, db_default=False)
    # The clock times are shown in: "12" (6:40 PM), "24" (18:40) or "auto" (the page's language's).
    clock = fields.CharField(max_length=4, default="auto", db_default="auto")
    # "Do not disturb": no browser notification and no email, whatever each room's level says.
    do_not_disturb = fields.BooleanField(default=False, db_default=False)
    # The language pages are in ("en", "th"); empty: the browser's Accept-Language decides.
    language = fields.CharField(max_length=8, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"

    @property
    def is_bot(self) -> bool:
        return self.bot_owner_id is not None


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
    # Read-only: readable (and searchable), nobody posts.
    archived = fields.BooleanField(default=False, db_default=False)
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
    # "member" or "moderator" (the owner is Room.owner): moderators remove messages, mute, ban.
    role = fields.CharField(max_length=10, default="member", db_default="member")
    muted_until = fields.DatetimeField(null=True)  # may read but not post until then
    # What notifies this member (browser notifications, email): all | mentions | none; unset: the
    # room's default (webchat.messages.notices.default_level).
    notify = fields.CharField(max_length=10, null=True)
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
    # Who removed it, when not its author: the tombstone says so ("Removed by a moderator, Olga").
    removed_by = fields.CharField(max_length=64, null=True)
    # The message this one answers (same room), and how many answer this one ("N replies").
    reply_to = fields.ForeignKeyField("models.Message", related_name="replies", null=True,
                                      on_delete=fields.SET_NULL)
    reply_count = fields.IntField(default=0, db_default=0)
    # Reactions as shown: [[emoji, [[username, display name], …]], …] in the order first given,
    # kept with the message (the Reaction rows are the truth) so its fragment renders from one row.
    reactions = fields.JSONField(null=True)
    # Attachments as shown: [{id, name, type, size, image, width, height, thumb_width,
    # thumb_height, alt, decorative}, …] in the order sent, kept with the message (the Attachment
    # rows are the truth) so its fragment renders from one row, on pages and streams alike.
    files = fields.JSONField(null=True)
    # Bumped by every change that shows in the message's fragment (edit, delete, reaction, reply):
    # the renderer's cache key.
    revision = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "messages"
        unique_together = (("room", "seq"), ("author", "nonce"))
        # ("reply_to_id", "id"): a message's replies page, in order, without reading the room.
        indexes = (("room_id", "id"), ("reply_to_id", "id"))


class Notice(Model):
    """A message that mentions someone (`mention`) or answers their message (`reply`): what
    /mentions lists and the email digest sends. Written in the message's own transaction; gone
    with the message. `seen_at` is set once the person has seen it (opened /mentions, or read
    the room past it)."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="notices")
    message = fields.ForeignKeyField("models.Message", related_name="notices")
    room = fields.ForeignKeyField("models.Room", related_name="notices")
    kind = fields.CharField(max_length=10)  # mention | reply
    created_at = fields.DatetimeField(auto_now_add=True)
    seen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notices"
        unique_together = (("message", "user"),)
        indexes = (("user_id", "id"), ("user_id", "seen_at"))


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


class ApiToken(Model):
    """A personal access token (or a bot's): only its SHA-256 digest is kept."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="api_tokens")  # whom it acts as
    creator = fields.ForeignKeyField("models.User", related_name="created_tokens")
    name = fields.CharField(max_length=80)
    digest = fields.CharField(max_length=64, unique=True)
    hint = fields.CharField(max_length=16)  # the token's first characters, to recognise it
    scopes = fields.CharField(max_length=20)  # "read", "post" or "read post"
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_tokens"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class IncomingHook(Model):
    """A secret URL that posts into one room as its own bot account."""

    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="incoming_hooks")
    bot = fields.ForeignKeyField("models.User", related_name="incoming_hooks")
    creator = fields.ForeignKeyField("models.User", related_name="created_hooks")
    name = fields.CharField(max_length=64)
    digest = fields.CharField(max_length=64, unique=True)
    hint = fields.CharField(max_length=16)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "incoming_hooks"


class OutgoingHook(Model):
    """A URL that every new message of a room is POSTed to, signed with its secret."""

    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="outgoing_hooks")
    creator = fields.ForeignKeyField("models.User", related_name="created_outgoing_hooks")
    url = fields.CharField(max_length=2000)
    secret = fields.CharField(max_length=64)  # the HMAC key: the receiver needs it too, so it is kept
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "outgoing_hooks"


class Delivery(Model):
    """One POST of one message to one outgoing webhook: queued here, retried until delivered or
    24 hours old. `next_attempt_at` is also the lease of the process delivering it."""

    id = fields.IntField(primary_key=True)
    hook = fields.ForeignKeyField("models.OutgoingHook", related_name="deliveries")
    uid = fields.CharField(max_length=36, unique=True)  # the receivers' key for dropping repeats
    payload = fields.TextField()
    status = fields.CharField(max_length=12, default="pending")  # pending | delivered | failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (("status", "next_attempt_at"),)


class Site(Model):
    """The one row (id 1) of the site's own settings, changed on /admin."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=60, default="webchat")
    welcome = fields.TextField(default="")  # shown to new members on their room list
    # open | invite | closed; None: WEBCHAT_REGISTRATION decides.
    registration = fields.CharField(max_length=10, null=True)
    member_invites = fields.BooleanField(default=False)  # members may make invite links too

    class Meta:
        table = "site"


class AuditEntry(Model):
    """One administrative or moderation action: who, what, when, on what. Never changed."""

    id = fields.IntField(primary_key=True)
    actor = fields.ForeignKeyField("models.User", related_name="audit_entries", null=True)
    actor_name = fields.CharField(max_length=64)  # as they were called then ("command line" for the CLI)
    action = fields.CharField(max_length=40)
    target = fields.CharField(max_length=200, default="")
    detail = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_log"
        indexes = (("action", "id"),)


class Invite(Model):
    """A link /join/TOKEN that lets people register while registration is by invitation."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)  # SHA-256 of the token: a leak of the table is no link
    created_by = fields.ForeignKeyField("models.User", related_name="invites")
    expires_at = fields.DatetimeField()
    max_uses = fields.IntField()
    uses = fields.IntField(default=0)
    revoked = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invites"


class PasswordReset(Model):
    """A one-time, expiring link an administrator made for a user to choose a new password."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="password_resets")
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "password_resets"


class Ban(Model):
    """A person banned from a public room: they may not read, join or post there."""

    id = fields.IntField(primary_key=True)
    room = fields.ForeignKeyField("models.Room", related_name="bans")
    user = fields.ForeignKeyField("models.User", related_name="bans")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "room_bans"
        unique_together = (("room", "user"),)


class Report(Model):
    """A message someone reported, with their reason: the administrators' queue."""

    id = fields.IntField(primary_key=True)
    message = fields.ForeignKeyField("models.Message", related_name="reports")
    reporter = fields.ForeignKeyField("models.User", related_name="reports")
    reason = fields.CharField(max_length=500)
    status = fields.CharField(max_length=10, default="open")  # open | resolved | dismissed
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reports"
        indexes = (("status", "id"),)


class Block(Model):
    """One person blocking another: no direct messages from them, their messages folded away."""

    id = fields.IntField(primary_key=True)
    blocker = fields.ForeignKeyField("models.User", related_name="blocking")
    blocked = fields.ForeignKeyField("models.User", related_name="blocked_by")

    class Meta:
        table = "blocks"
        unique_together = (("blocker", "blocked"),)


class Attachment(Model):
    """A file sent with a message.

    Kept in the storage (webchat.files.storage) under `key`; an image also has a thumbnail under
    `thumb_key`. A stored object with no row is an abandoned upload, which the cleanup removes."""

    id = fields.IntField(primary_key=True)
    message = fields.ForeignKeyField("models.Message", related_name="attachments", null=True,
                                     on_delete=fields.SET_NULL)
    uploader = fields.ForeignKeyField("models.User", related_name="attachments")
    room = fields.ForeignKeyField("models.Room", related_name="attachments")
    key = fields.CharField(max_length=128, unique=True)
    name = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    thumb_key = fields.CharField(max_length=128, null=True)
    thumb_width = fields.IntField(null=True)
    thumb_height = fields.IntField(null=True)
    alt = fields.TextField(default="")
    decorative = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachments"
        indexes = (("uploader_id", "size"),)

    @property
    def image(self) -> bool:
        return self.thumb_key is not None
class EmailAddress(Model):
    """A person's email address: nothing but its verification link is sent to it until verified."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="email_address")
    address = fields.CharField(max_length=254)
    verified_at = fields.DatetimeField(null=True)
    digests = fields.BooleanField(default=True)  # away digests; off through the unsubscribe link
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "email_addresses"


class OutgoingEmail(Model):
    """One email to send: queued here (it survives a restart), sent by the outbox worker of one
    process (`next_attempt_at` is also its lease), retried with backoff while the server is away."""

    id = fields.IntField(primary_key=True)
    recipient = fields.CharField(max_length=254)
    kind = fields.CharField(max_length=20)  # verify | reset | digest
    subject = fields.CharField(max_length=200)
    text = fields.TextField()
    html = fields.TextField(default="")
    headers = fields.JSONField(null=True)  # extra headers (List-Unsubscribe)
    dedupe_key = fields.CharField(max_length=100, unique=True)
    state = fields.CharField(max_length=10, default="pending")  # pending | sent | failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_outbox"
        indexes = (("state", "next_attempt_at"),)


class DigestedMessage(Model):
    """A message that went out in someone's away digest: never in a second one."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="digested")
    message = fields.ForeignKeyField("models.Message", related_name="digested")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "email_digested"
        unique_together = (("user", "message"),)
