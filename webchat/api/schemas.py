"""What the API reads and writes, as pydantic models: they validate requests (422 naming the
field) and are the OpenAPI document's schemas. And the JSON shape of messages and rooms."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from webchat.messages.service import BODY_MAX, NONCE_MAX
from webchat.rooms.service import MAX_ID

Id = StrictInt


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NewMessage(Strict):
    body: StrictStr = Field(description=f"The text, 1 to {BODY_MAX:,} characters after trimming.")
    nonce: StrictStr | None = Field(default=None, max_length=NONCE_MAX, pattern=r"^[\x21-\x7e]+$",
                                    description="Any text of yours: a second post with the same nonce "
                                                "creates nothing and answers with the first message.")
    reply_to: Id | None = Field(default=None, ge=1, le=MAX_ID,
                                description="The message this one answers: one of the same room, not deleted.")


class EditMessage(Strict):
    body: StrictStr


class ReadMarker(Strict):
    message: Id = Field(ge=1, le=MAX_ID, description="The newest message read (the marker never moves back).")


class DirectRoom(Strict):
    username: StrictStr = Field(min_length=1, max_length=64)


class Notify(Strict):
    room: Id | None = Field(default=None, ge=1, le=MAX_ID, description="A room the account is a member of.")
    user: StrictStr | None = Field(default=None, min_length=1, max_length=64,
                                   description="A username: the message goes to the direct room with them.")
    body: StrictStr
    nonce: StrictStr | None = Field(default=None, max_length=NONCE_MAX, pattern=r"^[\x21-\x7e]+$")


class Author(BaseModel):
    id: int
    username: str
    display_name: str
    bot: bool


class AttachmentOut(BaseModel):
    id: int
    name: str = Field(description="The file's name as sent.")
    content_type: str = Field(description="The type, decided by the file's content.")
    size: int = Field(description="Bytes.")
    image: bool = Field(description="Shown inline as an image (re-encoded, metadata stripped).")
    width: int | None
    height: int | None
    alt: str = Field(description="The image's description; empty for a decorative image or a file.")
    decorative: bool
    url: str = Field(description="The file, for readers of the room signed in on the website "
                                 "(read-only here: files are sent with the website's form).")


class MessageOut(BaseModel):
    id: int
    room: int
    seq: int = Field(description="The message's number in its room.")
    author: Author
    body: str = Field(description="The text as written; empty once deleted.")
    html: str = Field(description="The text as HTML (escaped, links made links).")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    event_id: int | None = Field(default=None, description="The room's event id that announced it.")
    attachments: list[AttachmentOut] = Field(default_factory=list, description="Files sent with it, in order.")
    reply_to: int | None = Field(default=None, description="The message this one answers, if any.")
    reply_count: int = Field(default=0, description="How many messages answer this one.")


class MessagePage(BaseModel):
    messages: list[MessageOut]
    more: bool = Field(description="Whether there are more in the direction asked for.")


class RoomOut(BaseModel):
    id: int
    name: str
    kind: str = Field(description="public, private or direct")
    topic: str
    unread: int
    latest_seq: int
    read_seq: int


class RoomList(BaseModel):
    rooms: list[RoomOut]


class Me(BaseModel):
    id: int
    username: str
    display_name: str
    bot: bool
    scopes: list[str]
    token_expires_at: datetime | None


class ReadOut(BaseModel):
    room: int
    read_message_id: int
    unread: int


class Notified(BaseModel):
    room: int
    message: MessageOut


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str


def author_json(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "bot": user.is_bot}


def message_json(message, event_id: int | None = None) -> dict:
    return {
        "id": message.id, "room": message.room_id, "seq": message.seq, "author": author_json(message.author),
        "body": message.body, "html": message.html, "created_at": message.created_at,
        "edited_at": message.edited_at, "deleted": message.deleted, "event_id": event_id,
        "reply_to": message.reply_to_id, "reply_count": message.reply_count,
        "attachments": [attachment_json(message.room_id, item) for item in message.files or []],
    }


def attachment_json(room_id: int, item: dict) -> dict:
    return {
        "id": item["id"], "name": item["name"], "content_type": item["type"], "size": item["size"],
        "image": item["image"], "width": item["width"], "height": item["height"], "alt": item["alt"],
        "decorative": item["decorative"], "url": f"/rooms/{room_id}/files/{item['id']}",
    }


def room_json(entry) -> dict:
    room = entry.room
    return {"id": room.id, "name": str(entry.title), "kind": room.kind, "topic": room.topic, "unread": entry.unread,
            "latest_seq": room.last_seq, "read_seq": entry.read_seq}
