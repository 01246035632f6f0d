"""Sending one message over SMTP_URL: `smtps://` is TLS from the first byte (port 465 by default),
`smtp://` upgrades with STARTTLS whenever the server offers it (port 587 by default); a user name
and password in the URL sign in."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

TIMEOUT = 20.0


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        implicit = parts.scheme == "smtps"
        return cls(host=parts.hostname or "localhost", port=parts.port or (465 if implicit else 587),
                   implicit_tls=implicit, username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)


async def send(server: Server, message: EmailMessage) -> None:
    """Raises aiosmtplib.SMTPException or OSError when the server is away or refuses."""
    await aiosmtplib.send(
        message, hostname=server.host, port=server.port, username=server.username, password=server.password,
        use_tls=server.implicit_tls, start_tls=None if not server.implicit_tls else False, timeout=TIMEOUT)
