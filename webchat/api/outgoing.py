"""Outgoing webhooks: every new message of a room is POSTed as signed JSON to the URLs its owner
registered. Deliveries are queued in the database (so they survive a restart), made by a worker
in each process that claims due rows under a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so with
several processes each delivery is made by one of them; SQLite has one process), and retried
with backoff for 24 hours. Receivers drop repeats by the delivery id.

Signature: `X-Webchat-Signature: sha256=HEX`, the HMAC-SHA256 with the hook's secret of
`TIMESTAMP.BODY`, where TIMESTAMP is the `X-Webchat-Timestamp` header (Unix seconds).

Addresses are checked after DNS resolution, at registration and again at every delivery:
loopback, private, link-local (cloud metadata), reserved and multicast addresses are refused
unless WEBCHAT_WEBHOOK_PRIVATE=allow (the development default); production needs https.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from webchat import dbqueue, i18n
from webchat.models import Delivery, OutgoingHook, Room

log = logging.getLogger("webchat.webhooks")

URL_MAX = 2000
RETRY_FOR = timedelta(hours=24)
BACKOFF = (1, 2, 4, 8, 16, 30, 60, 120, 300, 600, 1200, 1800, 3600)
LEASE = timedelta(seconds=60)  # a claimed delivery is retried by anyone after this
BATCH = 20
TIMEOUT = 10.0
KEEP = 50  # deliveries shown per hook


class HookUrlError(ValueError):
    pass


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)


async def check_url(url: str, *, production: bool, allow_private: bool) -> str:
    """The URL, if webchat may POST to it now; HookUrlError saying why not."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise HookUrlError(i18n.gettext("That is not a URL.")) from None
    if len(url) > URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise HookUrlError(i18n.gettext("Give an http:// or https:// URL, without a user name or password."))
    if production and parts.scheme != "https":
        raise HookUrlError(i18n.gettext("Webhook URLs must use https."))
    if allow_private:
        return url
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise HookUrlError(i18n.gettext("The name %(host)s does not resolve.", host=parts.hostname)) from None
    for info in infos:
        if _refused_address(info[4][0]):
            raise HookUrlError(i18n.gettext("%(host)s resolves to %(address)s, a loopback, private, link-local or "
                                            "otherwise internal address: refused.",
                                            host=parts.hostname, address=info[4][0]))
    return url


async def register(room: Room, creator_id: int, url: str, *, production: bool, allow_private: bool) -> OutgoingHook:
    url = await check_url(url, production=production, allow_private=allow_private)
    return await OutgoingHook.create(room_id=room.id, creator_id=creator_id, url=url,
                                     secret=secrets.token_hex(32))


async def of_room(room: Room) -> list[OutgoingHook]:
    return await OutgoingHook.filter(room_id=room.id).order_by("-id")


async def revoke(hook: OutgoingHook) -> None:
    if hook.revoked_at is None:
        await OutgoingHook.filter(id=hook.id).update(revoked_at=datetime.now(UTC))


async def recent(hook: OutgoingHook) -> list[Delivery]:
    return await Delivery.filter(hook_id=hook.id).order_by("-id").limit(KEEP)


def _body(payload: dict, uid: str) -> str:
    return json.dumps({**payload, "delivery": uid}, ensure_ascii=False, separators=(",", ":"),
                      default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


async def enqueue(room_id: int, payload: dict) -> int:
    """Queue the payload for every live hook of the room; how many were queued."""
    hooks = await OutgoingHook.filter(room_id=room_id, revoked_at=None).values_list("id", flat=True)
    now = datetime.now(UTC)
    for hook_id in hooks:
        uid = str(uuid.uuid4())
        await Delivery.create(hook_id=hook_id, uid=uid, payload=_body(payload, uid), next_attempt_at=now)
    return len(hooks)


def live_hooks_sql(conn) -> str:
    """An SQL expression, evaluated on a row of `rooms`, listing the ids of the room's live hooks
    ("3,7"; NULL for none). The message writer reads it in the same statement that allocates the
    message's number, under the room's row lock: no query of its own, and no cache to go stale
    when another process adds or revokes a hook."""
    concat = "string_agg(h.id::text, ',')" if conn.capabilities.dialect == "postgres" else "group_concat(h.id, ',')"
    return f"(SELECT {concat} FROM outgoing_hooks h WHERE h.room_id = rooms.id AND h.revoked_at IS NULL)"


def hook_ids(value: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(",")) if value else ()


async def queue_messages(conn, written: list[tuple[object, int, tuple[int, ...]]]) -> int:
    """Queue new messages for their rooms' hooks, inside the transaction that writes them, so that
    a message is never saved without its deliveries (nor the reverse): `written` holds each
    message, its event id and its room's live hook ids. One INSERT for the whole batch; nothing
    at all when no room of the batch has a hook. How many deliveries were queued."""
    from webchat.api.schemas import message_json  # schemas imports the message service, which calls this

    now = datetime.now(UTC)
    rows = []
    for message, event_id, hooks in written:
        if not hooks:
            continue
        payload = {"type": "message", "room": message.room_id, "event_id": event_id,
                   "message": message_json(message, event_id)}
        for hook_id in hooks:
            uid = str(uuid.uuid4())
            rows.append(Delivery(hook_id=hook_id, uid=uid, payload=_body(payload, uid), next_attempt_at=now))
    if rows:
        await Delivery.bulk_create(rows, using_db=conn)
    return len(rows)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def claim(limit: int = BATCH) -> list[int]:
    """Take up to `limit` due deliveries: their lease moves forward, so no other process takes
    them meanwhile (PostgreSQL skips rows another process is claiming at the same moment)."""
    return await dbqueue.claim("webhook_deliveries", "status", LEASE, limit)


async def attempt(delivery_id: int, client: httpx.AsyncClient, *, production: bool, allow_private: bool) -> str:
    """Make one delivery; its new status."""
    delivery = await Delivery.get(id=delivery_id).select_related("hook")
    hook = delivery.hook
    now = datetime.now(UTC)
    code, error = None, ""
    if hook.revoked_at is not None:
        status, error = "failed", "the webhook was revoked"
    else:
        try:
            await check_url(hook.url, production=production, allow_private=allow_private)  # again: DNS changes
            body = delivery.payload.encode()
            timestamp = str(int(time.time()))
            response = await client.post(hook.url, content=body, headers={
                "Content-Type": "application/json", "User-Agent": "webchat-webhooks",
                "X-Webchat-Delivery": delivery.uid, "X-Webchat-Timestamp": timestamp,
                "X-Webchat-Signature": sign(hook.secret, timestamp, body)})
            code = response.status_code
            status = "delivered" if 200 <= code < 300 else "pending"
            error = "" if status == "delivered" else f"answered {code}"
        except HookUrlError as refused:
            status, error = "failed", str(refused)
        except (httpx.HTTPError, OSError) as failure:
            status, error = "pending", f"{type(failure).__name__}: {failure}"[:300]
    attempts = delivery.attempts + 1
    if status == "pending" and now - delivery.created_at >= RETRY_FOR:
        status = "failed"
    wait = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
    await Delivery.filter(id=delivery.id).update(
        status=status, attempts=attempts, last_code=code, last_error=error[:300],
        next_attempt_at=now + timedelta(seconds=wait), delivered_at=now if status == "delivered" else None)
    return status


async def worker(stopping: asyncio.Event, *, production: bool, allow_private: bool, every: float = 0.5) -> None:
    """Deliver what is due, until the process stops."""
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:

        async def step() -> None:
            for delivery_id in await claim():
                await attempt(delivery_id, client, production=production, allow_private=allow_private)

        await dbqueue.every(stopping, every, step, log, "webhook deliveries")
