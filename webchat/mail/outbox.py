"""The email outbox: every email is a row first (webchat.models.OutgoingEmail), then the worker of
some process claims it (webchat.dbqueue: each row by one process), sends it over SMTP and marks it
sent, or retries it with backoff while the server is away, for up to two days."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
from tortoise.exceptions import IntegrityError

from webchat import dbqueue
from webchat.mail import smtp
from webchat.models import OutgoingEmail

log = logging.getLogger("webchat.mail")

BACKOFF = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
GIVE_UP = timedelta(days=2)
LEASE = timedelta(seconds=120)  # longer than one SMTP conversation can take (smtp.TIMEOUT)
BATCH = 20


async def enqueue(recipient: str, kind: str, subject: str, text: str, html: str = "", *, dedupe_key: str,
                  headers: dict[str, str] | None = None, using_db=None) -> bool:
    """Queue one email; False when one with this dedupe key was queued already (nothing twice)."""
    try:
        await OutgoingEmail.create(recipient=recipient, kind=kind, subject=subject[:200], text=text, html=html,
                                   headers=headers or None, dedupe_key=dedupe_key[:100],
                                   next_attempt_at=datetime.now(UTC), using_db=using_db)
    except IntegrityError:
        if using_db is not None:  # the caller's transaction is spoilt: it decides
            raise
        return False
    return True


def build(row: OutgoingEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    return message


async def claim(limit: int = BATCH) -> list[int]:
    return await dbqueue.claim("email_outbox", "state", LEASE, limit)


async def attempt(row_id: int, server: smtp.Server, sender: str) -> str:
    """Send one claimed row; its new state."""
    row = await OutgoingEmail.get(id=row_id)
    now = datetime.now(UTC)
    error = ""
    try:
        await smtp.send(server, build(row, sender))
        state = "sent"
    except aiosmtplib.SMTPRecipientsRefused as refused:
        state, error = "failed", f"refused: {refused}"
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as failure:
        state, error = "pending", f"{type(failure).__name__}: {failure}"
    attempts = row.attempts + 1
    if state == "pending" and now - row.created_at >= GIVE_UP:
        state = "failed"
    wait = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
    await OutgoingEmail.filter(id=row.id).update(
        state=state, attempts=attempts, last_error=error[:300], next_attempt_at=now + timedelta(seconds=wait),
        sent_at=now if state == "sent" else None)
    if error:
        log.warning("email %s to %s: %s", row.id, row.recipient, error)
    return state


async def send_due(server: smtp.Server, sender: str) -> int:
    """Claim what is due and send it; how many were sent."""
    sent = 0
    for row_id in await claim():
        sent += await attempt(row_id, server, sender) == "sent"
    return sent


async def worker(stopping: asyncio.Event, smtp_url: str, sender: str, every: float = 1.0) -> None:
    server = smtp.Server.from_url(smtp_url)
    await dbqueue.every(stopping, every, lambda: send_due(server, sender), log, "email outbox")
