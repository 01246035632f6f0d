"""Attachments: check what was sent, keep it, record it with its message, delete it with it.

The order keeps storage and database in step: a file is written to storage whole (or not at
all), then recorded in the same transaction as its message (webchat.messages.service); if that
transaction fails, or the post turns out to be a double submit, the objects are deleted again.
A crash between the two leaves an object with no row: `cleanup` deletes such orphans once they
are older than ORPHAN_AGE (so never an upload still on its way to its row).
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from tortoise.functions import Sum

from webchat import i18n
from webchat.files import content
from webchat.i18n import lazy_gettext
from webchat.files.storage import Storage
from webchat.models import Attachment, Message, User

MAX_FILES = 5
ALT_MAX = 1000
NAME_MAX = 255
ORPHAN_AGE = timedelta(hours=1)
SWEEP_FIRST = 60.0  # seconds after start-up
SWEEP_EVERY = 6 * 3600.0
log = logging.getLogger(__name__)
NEEDS_ALT = lazy_gettext("Describe the image for people who cannot see it.")


class FileProblem(ValueError):
    """A refusal for the sender: `status` 413 (too big) or 422, `field` the form field at fault."""

    def __init__(self, message: str, status: int = 422, field: str = "composer-files") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(slots=True)
class Incoming:
    """A file as it came in the form: its name and a readable file (on disk past a few hundred KB)."""

    name: str
    stream: BinaryIO


@dataclass(slots=True)
class Prepared:
    name: str
    content_type: str
    size: int
    stream: BinaryIO | None = None  # the original bytes, for files kept as sent
    image: content.CleanImage | None = None
    alt: str = ""
    decorative: bool = False
    key: str = ""
    thumb_key: str | None = None
    keys: list[str] = field(default_factory=list)


def _size(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def clean_name(raw: str) -> str:
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip() or "file"
    return name[:NAME_MAX]


def descriptions(form, count: int) -> list[tuple[str, bool]]:
    """(alt, decorative) for each of `count` images, in order: the i-th `alt` field, and the i-th
    `decorative` field (`1` for yes) or a checkbox `decorative-N` (N from 1)."""
    alts = form.getlist("alt") if hasattr(form, "getlist") else [form.get("alt", "")]
    flags = form.getlist("decorative") if hasattr(form, "getlist") else [form.get("decorative", "")]
    found = []
    for n in range(count):
        alt = alts[n].strip() if n < len(alts) else ""
        flag = (flags[n] if n < len(flags) else "") == "1" or form.get(f"decorative-{n + 1}") == "1"
        found.append((alt, flag))
    return found


async def prepare(user: User, files: list[Incoming], form, max_upload: int, quota: int) -> list[Prepared]:
    """Check every file and decide its type by its bytes; clean the images. Raises FileProblem."""
    if len(files) > MAX_FILES:
        raise FileProblem(i18n.gettext("Send at most %(most)d files with one message; you chose %(chosen)d.",
                                       most=MAX_FILES, chosen=len(files)))
    prepared: list[Prepared] = []
    total = 0
    for incoming in files:
        name = clean_name(incoming.name)
        size = _size(incoming.stream)
        if size == 0:
            raise FileProblem(i18n.gettext("“%(name)s” is empty.", name=name))
        if size > max_upload:
            raise FileProblem(i18n.gettext("“%(name)s” is %(size)s; files can be at most %(most)s.", name=name,
                                           size=_megabytes(size), most=_megabytes(max_upload)), 413)
        total += size
        head = incoming.stream.read(content.HEAD)
        incoming.stream.seek(0)
        kind = content.sniff(head)
        item = Prepared(name=name, content_type=kind, size=size, stream=incoming.stream)
        if kind in content.IMAGE_TYPES:
            try:
                item.image = await asyncio.to_thread(content.clean_image, incoming.stream)
            except content.Unusable as error:
                if error.too_large:
                    raise FileProblem(i18n.gettext("“%(name)s”: %(problem)s", name=name, problem=str(error))) from None
                item.content_type = "application/octet-stream"  # not an image after all: a download
            else:
                item.content_type, item.size, item.stream = item.image.content_type, len(item.image.data), None
        prepared.append(item)
    used = await used_bytes(user.id)
    if used + total > quota:
        raise FileProblem(i18n.gettext("Your files would take %(size)s, over your %(quota)s allowance. Delete some "
                                       "messages with files, or send a smaller file.",
                                       size=_megabytes(used + total), quota=_megabytes(quota)))
    images = [item for item in prepared if item.image is not None]
    for item, (alt, decorative) in zip(images, descriptions(form, len(images)), strict=True):
        if len(alt) > ALT_MAX:
            raise FileProblem(descriptions_too_long(), field="composer-alt-1")
        item.alt, item.decorative = ("", True) if decorative and not alt else (alt, decorative)
    missing = [n for n, item in enumerate(images, 1) if not item.alt and not item.decorative]
    if missing:
        if len(images) == 1:
            problem = str(NEEDS_ALT)
        else:
            problem = i18n.gettext("Describe the image for people who cannot see it (image %(n)d).", n=missing[0])
        raise FileProblem(problem, field=f"composer-alt-{missing[0]}")
    return prepared


def descriptions_too_long() -> str:
    return i18n.gettext("Descriptions can be at most %(most)s characters.", most=format(ALT_MAX, ","))


async def used_bytes(user_id: int) -> int:
    rows = await Attachment.filter(uploader_id=user_id).annotate(total=Sum("size")).values_list("total", flat=True)
    return int(rows[0] or 0) if rows else 0


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def _new_key(prefix: str) -> str:
    return f"{prefix}/{secrets.token_urlsafe(24)}"


async def store(storage: Storage, items: list[Prepared]) -> None:
    """Write every file (and thumbnail) whole; on any failure delete what was written."""
    try:
        for item in items:
            item.key = _new_key("f")
            if item.image is not None:
                await storage.save(item.key, io.BytesIO(item.image.data))
                item.keys.append(item.key)
                item.thumb_key = _new_key("t")
                await storage.save(item.thumb_key, io.BytesIO(item.image.thumb))
                item.keys.append(item.thumb_key)
            else:
                item.stream.seek(0)
                await storage.save(item.key, item.stream)
                item.keys.append(item.key)
    except BaseException:
        await asyncio.shield(discard(storage, items))
        raise


async def discard(storage: Storage, items: list[Prepared]) -> None:
    keys = [key for item in items for key in item.keys]
    if keys:
        await storage.delete(keys)


def summary(attachment: Attachment) -> dict:
    """What the message's fragment shows of an attachment (kept on the message: Message.files)."""
    return {
        "id": attachment.id, "name": attachment.name, "type": attachment.content_type, "size": attachment.size,
        "image": attachment.thumb_key is not None, "width": attachment.width, "height": attachment.height,
        "thumb_width": attachment.thumb_width, "thumb_height": attachment.thumb_height,
        "alt": attachment.alt, "decorative": attachment.decorative,
    }


async def record(conn, message: Message, uploader_id: int, items: list[Prepared]) -> list[dict]:
    """The rows of a message's files, in its transaction; and the summary kept on the message."""
    shown = []
    for item in items:
        image = item.image
        row = await Attachment.create(
            message_id=message.id, uploader_id=uploader_id, room_id=message.room_id, key=item.key,
            name=item.name, content_type=item.content_type, size=item.size,
            width=image.width if image else None, height=image.height if image else None,
            thumb_key=item.thumb_key, thumb_width=image.thumb_width if image else None,
            thumb_height=image.thumb_height if image else None, alt=item.alt, decorative=item.decorative,
            using_db=conn,
        )
        shown.append(summary(row))
    return shown


async def keys_of(message_id: int, conn=None) -> list[str]:
    rows = await Attachment.filter(message_id=message_id).using_db(conn).values_list("key", "thumb_key")
    return [key for pair in rows for key in pair if key]


async def keys_of_room(room_id: int, conn=None) -> list[str]:
    """Every stored object of a room's files (their rows go with the room, by cascade)."""
    rows = await Attachment.filter(room_id=room_id).using_db(conn).values_list("key", "thumb_key")
    return [key for pair in rows for key in pair if key]


async def forget(conn, message_id: int) -> list[str]:
    """In a deleting transaction: remove the message's rows; the keys to delete after commit."""
    keys = await keys_of(message_id, conn)
    if keys:
        await Attachment.filter(message_id=message_id).using_db(conn).delete()
    return keys


async def delete_objects(storage: Storage, keys: list[str]) -> None:
    if keys:
        await storage.delete(keys)


async def set_descriptions(message: Message, changes: dict[int, tuple[str, bool]], conn=None) -> bool:
    """New alt texts (id -> (alt, decorative)) for a message's images; whether anything changed."""
    changed = False
    files = [dict(item) for item in message.files or []]
    for item in files:
        if item["id"] in changes and item["image"]:
            alt, decorative = changes[item["id"]]
            if (alt, decorative) != (item["alt"], item["decorative"]):
                item["alt"], item["decorative"] = alt, decorative
                await Attachment.filter(id=item["id"], message_id=message.id).using_db(conn).update(
                    alt=alt, decorative=decorative)
                changed = True
    if changed:
        message.files = files
        await Message.filter(id=message.id).using_db(conn).update(files=files)
    return changed


async def cleanup(storage: Storage, older_than: timedelta = ORPHAN_AGE) -> int:
    """Delete stored objects that no attachment row names (abandoned uploads), older than
    `older_than`; the number deleted."""
    cutoff = datetime.now(UTC) - older_than
    stored = [item for item in await storage.list() if item.modified < cutoff]
    if not stored:
        return 0
    known: set[str] = set()
    keys = [item.key for item in stored]
    for start in range(0, len(keys), 500):
        batch = keys[start:start + 500]
        for key, thumb in await Attachment.filter(key__in=batch).values_list("key", "thumb_key"):
            known.add(key)
            known.add(thumb)
        for key, thumb in await Attachment.filter(thumb_key__in=batch).values_list("key", "thumb_key"):
            known.add(key)
            known.add(thumb)
    orphans = [key for key in keys if key not in known]
    await storage.delete(orphans)
    return len(orphans)


async def sweep(storage: Storage, stopping: asyncio.Event) -> None:
    """Run `cleanup` a minute after start-up and then every few hours, until the server stops.
    Every process does it; deleting an orphan twice is harmless."""
    delay = SWEEP_FIRST
    while not stopping.is_set():
        try:
            await asyncio.wait_for(stopping.wait(), delay)
            return
        except TimeoutError:
            pass
        delay = SWEEP_EVERY
        try:
            removed = await cleanup(storage)
        except Exception:
            log.exception("file cleanup failed; trying again later")
        else:
            if removed:
                log.info("file cleanup: %d abandoned uploads deleted", removed)
