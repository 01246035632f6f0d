"""Serving attachments to readers of their room."""

from __future__ import annotations

import asyncio

from quart import Blueprint, g, redirect, send_file

from webchat import i18n
from webchat.files import content
from webchat.files.storage import S3Storage, content_disposition
from webchat.models import Attachment
from webchat.refusals import Refused
from webchat.rooms import service as rooms
from webchat.rooms.service import parse_id
from webchat.runtime import current

bp = Blueprint("files", __name__)

# Served files may be anything someone uploaded: never sniffed into something else, never run as
# a page of ours (a sandboxed, opaque origin even if a browser did render it).
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


@bp.get("/rooms/<room_id>/files/<file_id>")
async def original(room_id: str, file_id: str):
    return await _serve(room_id, file_id, thumbnail=False)


@bp.get("/rooms/<room_id>/files/<file_id>/thumbnail")
async def thumbnail(room_id: str, file_id: str):
    return await _serve(room_id, file_id, thumbnail=True)


async def _serve(room_id: str, file_id: str, *, thumbnail: bool):
    found = await rooms.access(parse_id(room_id), g.user)  # 403 and 404 as for the room itself
    attachment = await Attachment.get_or_none(id=parse_id(file_id), room_id=found.room.id,
                                              message_id__isnull=False)
    key = attachment and (attachment.thumb_key if thumbnail else attachment.key)
    if not key:
        raise Refused(404, i18n.gettext("There is no such file in this room."), i18n.gettext("File not found"))
    inline = content.inline_type(attachment.content_type)
    disposition = content_disposition("inline" if inline else "attachment", attachment.name)
    served_type = attachment.content_type if inline else _download_type(attachment.content_type)
    storage = current().storage
    if isinstance(storage, S3Storage):
        url = await asyncio.to_thread(storage.signed_url, key, served_type, disposition)
        response = redirect(url, 302)
    else:
        path = storage.path(key)
        if not path.is_file():
            raise Refused(404, i18n.gettext("This file is no longer stored."), i18n.gettext("File not found"))
        response = await send_file(path, mimetype=served_type, conditional=True, cache_timeout=0)
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["Content-Disposition"] = disposition
    response.headers.update(FILE_HEADERS)
    return response


def _download_type(kind: str) -> str:
    """Downloads keep their type, but no type a browser would run: HTML, SVG and XML are
    offered as plain bytes (Content-Disposition says to save them anyway)."""
    if kind in ("text/html", "image/svg+xml", "application/xml") or "script" in kind:
        return "application/octet-stream"
    if kind == "text/plain":
        return "text/plain; charset=utf-8"
    return kind

