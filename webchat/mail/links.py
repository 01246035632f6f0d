"""Signed links in emails: they carry who and which address, so they work without signing in,
and a changed address or a forged link opens nothing."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

VERIFY_SECONDS = 48 * 3600


class LinkExpired(ValueError):
    pass


def _verify_signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="webchat-email-verify")


def _unsubscribe_signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="webchat-email-unsubscribe")


def verify_token(secret: str, user_id: int, address: str) -> str:
    return _verify_signer(secret).dumps([user_id, address])


def read_verify_token(secret: str, token: str) -> tuple[int, str] | None:
    """(user id, address); None for a forged or damaged link; LinkExpired for an old one."""
    try:
        user_id, address = _verify_signer(secret).loads(token[:1000], max_age=VERIFY_SECONDS)
    except SignatureExpired:
        raise LinkExpired from None
    except (BadSignature, ValueError, TypeError):
        return None
    return (user_id, address) if isinstance(user_id, int) and isinstance(address, str) else None


def unsubscribe_token(secret: str, user_id: int, address: str) -> str:
    """Never expires: an old digest's link still turns digests off."""
    return _unsubscribe_signer(secret).dumps([user_id, address])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    try:
        user_id, address = _unsubscribe_signer(secret).loads(token[:1000])
    except (BadSignature, ValueError, TypeError):
        return None
    return (user_id, address) if isinstance(user_id, int) and isinstance(address, str) else None
