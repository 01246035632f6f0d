"""Where uploaded files are kept: a local folder, or S3-compatible object storage.

Both engines write a whole object or nothing: the folder writes to a temporary file beside the
final name and renames it when complete; S3 makes an object visible only when its upload ends. So
a dropped connection or a crash mid-write never leaves a half file under a real key. Objects
written but never recorded (a crash between the write and the database's commit) are orphans,
which `cleanup` (webchat.files.service) removes.

boto3 is synchronous: every S3 call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

CHUNK = 256 * 1024
# How long a signed S3 link stays valid: long enough to start a download, short enough that a
# copied link stops working soon after the reader loses access.
SIGNED_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    modified: datetime


class LocalStorage:
    """A folder (WEBCHAT_STORAGE_URL as a path; default instance/uploads)."""

    kind = "local"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        if not _safe_key(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.folder / key

    def _write(self, key: str, source: BinaryIO) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.part")
        try:
            with open(partial, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    async def save(self, key: str, source: BinaryIO) -> None:
        await asyncio.to_thread(self._write, key, source)

    async def delete(self, keys: list[str]) -> None:
        def remove() -> None:
            for key in keys:
                self.path(key).unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    async def list(self) -> list[Stored]:
        def walk() -> list[Stored]:
            found = []
            if not self.folder.is_dir():
                return found
            for path in self.folder.rglob("*"):
                if path.is_file():
                    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    found.append(Stored(path.relative_to(self.folder).as_posix(), stamp))
            return found

        return await asyncio.to_thread(walk)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)


class S3Storage:
    """A bucket (WEBCHAT_STORAGE_URL=s3://BUCKET, with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_REGION or AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL for an S3-compatible service)."""

    kind = "s3"

    def __init__(self, bucket: str, endpoint_url: str | None = None, client=None) -> None:
        self.bucket = bucket
        if client is None:
            # boto3 takes about half a second to import: only a server that uses S3 pays for it.
            import boto3
            from botocore.config import Config  # with boto3, late

            client = boto3.client(
                "s3", endpoint_url=endpoint_url or None,
                config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
            )
        self.client = client

    async def save(self, key: str, source: BinaryIO) -> None:
        # upload_fileobj reads in parts (8 MB by default) and uses a multipart upload for large
        # files: the object appears only when every part has arrived.
        await asyncio.to_thread(self.client.upload_fileobj, source, self.bucket, key)

    async def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            if batch:
                await asyncio.to_thread(self.client.delete_objects, Bucket=self.bucket,
                                        Delete={"Objects": batch, "Quiet": True})

    async def list(self) -> list[Stored]:
        def walk() -> list[Stored]:
            found = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    found.append(Stored(item["Key"], item["LastModified"]))
            return found

        return await asyncio.to_thread(walk)

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError  # botocore comes with boto3: imported late, as it is

        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True

    def signed_url(self, key: str, content_type: str, disposition: str) -> str:
        """A short-lived link to the object, answered with our content type and disposition.
        S3 cannot be asked for other headers (no `nosniff`, no `sandbox` on the object's answer):
        what keeps it inert there is the forced type and disposition, the re-encoded images, and
        the bucket's origin, which is not ours (our redirect itself carries both headers)."""
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition, "ResponseCacheControl": "private, max-age=60",
            },
            ExpiresIn=SIGNED_SECONDS,
        )


Storage = LocalStorage | S3Storage


def open_storage(url: str) -> Storage:
    if url.startswith("s3://"):
        bucket = url[len("s3://"):].strip("/")
        return S3Storage(bucket, os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_S3_ENDPOINT_URL"))
    return LocalStorage(url)


def content_disposition(kind: str, name: str) -> str:
    """`inline` or `attachment`, with the name in both forms (RFC 6266): an ASCII fallback and
    the exact name as UTF-8."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name) or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _safe_key(key: str) -> bool:
    parts = key.split("/")
    return len(parts) == 2 and all(
        part and part.replace("-", "").replace("_", "").replace(".", "").isalnum() for part in parts)


# The process's storage, opened when the app starts (webchat.app): the services that delete
# messages reach it here without knowing about requests.
_active: Storage | None = None


def use(storage: Storage | None) -> None:
    global _active
    _active = storage


def active() -> Storage:
    if _active is None:
        raise RuntimeError("no storage opened: webchat.files.storage.use() runs at start-up")
    return _active
