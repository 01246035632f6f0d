"""The API's event stream: placeholder for revocation news (filled in below)."""

from __future__ import annotations

from webchat.live import topics
from webchat.live.hub import Envelope
from webchat.runtime import Runtime


def token_topic(token_id: int):
    return topics.named(f"token:{token_id}")


async def token_revoked(rt: Runtime, token_id: int) -> None:
    """End every open event stream of this token, in every process, at once."""
    await rt.broker.publish(Envelope(token_topic(token_id), "revoked", room=0))
