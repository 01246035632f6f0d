"""Who is signed in: quart-auth's cookie carries "USERID:SESSIONVERSION", checked on every request.

Bumping a user's session_version ("sign out everywhere", a password change) makes every older cookie
worthless at its next request, and ends that user's open streams.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from itsdangerous import BadSignature, Signer
from quart import current_app, g, request
from quart_auth import AuthUser, current_user, login_user, logout_user

from webchat.models import User
from webchat.security import cookie_name, set_lasting_cookie


def auth_id(user: User) -> str:
    return f"{user.id}:{user.session_version}"


async def user_for(identity: str | None) -> User | None:
    """The user an auth id names, if the session it carries is still current."""
    head, _, version = (identity or "").partition(":")
    if not (head.isascii() and head.isdigit() and version.isascii() and version.isdigit()):
        return None
    if len(head) > 10 or len(version) > 10:
        return None
    user = await User.get_or_none(id=int(head))
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


async def load_user() -> None:
    """before_request: set g.user to the signed-in User, or None."""
    g.user = None
    identity = current_user.auth_id
    if not identity:
        return
    user = await user_for(identity)
    if user is None:
        logout_user()  # a malformed, revoked or stale cookie: clear it
        return
    g.user = user


def cookie_reader(app):
    """For transports outside Quart's request handling: the auth id in a raw Cookie header."""
    auth = app.extensions["QUART_AUTH"][0]

    def identity(raw: bytes | None) -> str | None:
        if not raw:
            return None
        try:
            cookie = SimpleCookie(raw.decode("latin-1"))
        except CookieError:
            return None
        morsel = cookie.get(auth.cookie_name)
        return (morsel and auth.load_token(morsel.value, app)) or None

    return identity


DEVICE_COOKIE = "webchat_device"
DEVICE_ACCOUNTS = 8  # the accounts a browser remembers having signed in to


def _device_signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="webchat-device")


def _device_accounts() -> list[str]:
    raw = request.cookies.get(cookie_name(DEVICE_COOKIE))
    if not raw:
        return []
    try:
        return _device_signer().unsign(raw).decode().split(",")
    except BadSignature:
        return []


def known_device(account: str) -> bool:
    """Whether this browser has signed in to the account (lower-cased username) before."""
    return account in _device_accounts()


def remember_device(account: str) -> None:
    """After a successful sign-in: this browser is one of the account's own from now on."""
    accounts = [account] + [a for a in _device_accounts() if a != account]
    g.device_accounts = accounts[:DEVICE_ACCOUNTS]


async def set_device_cookie(response):
    if "device_accounts" in g:
        set_lasting_cookie(response, DEVICE_COOKIE, _device_signer().sign(",".join(g.device_accounts)).decode())
    return response


def sign_in(user: User) -> None:
    login_user(AuthUser(auth_id(user)), remember=True)
    g.user = user


def sign_out() -> None:
    logout_user()
    g.user = None
