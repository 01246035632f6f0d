"""The upload half of posting a message: the files of the request, checked and stored."""

from __future__ import annotations

import asyncio

from quart import g, request

from webchat.files import service as files
from webchat.runtime import current


async def incoming() -> list[files.Incoming]:
    """The files of a multipart post (a file field left empty sends a nameless empty part)."""
    if request.mimetype != "multipart/form-data":
        return []
    sent = await request.files
    return [files.Incoming(item.filename or "file", item.stream) for item in sent.getlist("file")
            if item.filename or _has_bytes(item.stream)]


def _has_bytes(stream) -> bool:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size > 0


async def take(items: list[files.Incoming], form) -> list[files.Prepared]:
    """Check and store the files of a post (raises FileProblem); nothing is kept on a refusal."""
    if not items:
        return []
    rt = current()
    prepared = await files.prepare(g.user, items, form, rt.settings.max_upload, rt.settings.upload_quota)
    await files.store(rt.storage, prepared)
    return prepared


async def give_back(prepared: list[files.Prepared]) -> None:
    """Delete stored files whose message was not written (an error, or a double submit)."""
    if prepared:
        await asyncio.shield(files.discard(current().storage, prepared))
