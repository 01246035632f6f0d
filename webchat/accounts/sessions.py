"""Who is signed in: quart-auth's cookie carries "USERID:SESSIONVERSION", checked on every request.

Bumping a user's session_version ("sign out everywhere", a password change) makes every older cookie
worthless at its next request, and ends that user's open streams.
"""

from __future__ import annotations

from quart import g
from quart_auth import AuthUser, current_user, login_user, logout_user

from webchat.models import User


def auth_id(user: User) -> str:
    return f"{user.id}:{user.session_version}"


async def load_user() -> None:
    """before_request: set g.user to the signed-in User, or None."""
    g.user = None
    identity = current_user.auth_id
    if not identity:
        return
    head, _, version = identity.partition(":")
    if not (head.isdigit() and version.isdigit()):
        logout_user()
        return
    user = await User.get_or_none(id=int(head))
    if user is None or user.session_version != int(version):
        logout_user()  # a revoked or stale cookie: clear it
        return
    g.user = user


def sign_in(user: User) -> None:
    login_user(AuthUser(auth_id(user)), remember=True)
    g.user = user


def sign_out() -> None:
    logout_user()
    g.user = None
