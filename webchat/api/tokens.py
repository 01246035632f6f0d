"""API tokens and bot accounts: made, found, revoked. Only a token's SHA-256 digest is stored.

A token is 32 random bytes (256 bits) shown once: a fast hash is enough to store it, since no
one can guess their way to a preimage (unlike a password, which needs a slow hash).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from webchat import i18n
from webchat.accounts.names import USERNAME, hidden_characters
from webchat.db import placeholder
from webchat.models import ApiToken, User

PREFIX = "wct_"
SCOPES = ("read", "post")
NAME_MAX = 80
EXPIRY_DAYS_MAX = 3650
# "Last used" is written at most this often per token: not a database write per API call.
LAST_USED_EVERY = timedelta(seconds=60)
# A bot account's password hash matches no password: it cannot sign in.
NO_PASSWORD = "!bot-accounts-cannot-sign-in"


class TokenError(ValueError):
    """What is wrong with a token request, per field: {"name": "…"}."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret(prefix: str = PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Made:
    token: ApiToken
    secret: str  # shown once, never stored


def check_request(name: str, scopes: list[str], expires_days: str | int | None) -> tuple[str, list[str], int | None]:
    """The name, scopes and expiry (days, or None) of a token to create; TokenError if invalid."""
    problems = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = i18n.gettext("Give the token a name, to tell it apart later.")
    elif len(name) > NAME_MAX or hidden_characters(name):
        problems["name"] = i18n.gettext("Token names are at most %(max)s visible characters.", max=NAME_MAX)
    chosen = [s for s in SCOPES if s in scopes]
    if not chosen or len(set(scopes)) != len(chosen):
        problems["scope"] = i18n.gettext("Choose what the token may do: read, post, or both.")
    days = None
    if expires_days not in (None, ""):
        raw = str(expires_days)
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= EXPIRY_DAYS_MAX:
            problems["expires"] = i18n.gettext("Expiry is a number of days from 1 to %(max)s, or empty for none.",
                                                  max=EXPIRY_DAYS_MAX)
        else:
            days = int(raw)
    if problems:
        raise TokenError(problems)
    return name, chosen, days


async def create(creator: User, name: str, scopes: list[str], expires_days: int | None = None,
                 account: User | None = None) -> Made:
    """A token for the creator's own account, or for one of their bots (`account`)."""
    name, scopes, days = check_request(name, scopes, expires_days)
    account = account or creator
    if account.id != creator.id and account.bot_owner_id != creator.id:
        raise TokenError({"account": i18n.gettext("Tokens can be made for your own account and your bots only.")})
    secret = new_secret()
    token = await ApiToken.create(
        user_id=account.id, creator_id=creator.id, name=name, digest=digest(secret), hint=secret[:8],
        scopes=" ".join(scopes),
        expires_at=datetime.now(UTC) + timedelta(days=days) if days else None,
    )
    return Made(token, secret)


async def create_bot(owner: User, username: str, display_name: str = "") -> User:
    """A bot account owned by this person; TokenError if the name is not free or not a name."""
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise TokenError({"bot": i18n.gettext("Bot names are 3 to 32 letters, digits, '.', '_' or '-'.")})
    display = (display_name or username).strip()[:64]
    try:
        async with in_transaction():
            return await User.create(
                username=username, username_key=username.lower(), display_name=display,
                password_hash=NO_PASSWORD, bot_owner_id=owner.id,
            )
    except IntegrityError:
        raise TokenError({"bot": i18n.gettext("The name “%(name)s” is taken.", name=username)}) from None


async def bot_named(owner: User, username: str) -> User | None:
    """The owner's bot of that name, if it is theirs."""
    if not USERNAME.fullmatch(username.strip()):
        return None
    return await User.get_or_none(username_key=username.strip().lower(), bot_owner_id=owner.id)


def usable(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


_LOOKUP: dict[str, str] = {}


def _lookup_sql(conn) -> str:
    """The token, its account and its creator in one statement, written once per dialect: every
    API call makes this look-up, and building it through the ORM's query builder each time cost
    more than running it (see docs/performance.md)."""
    dialect = conn.capabilities.dialect
    if dialect not in _LOOKUP:
        def columns(model, alias: str, prefix: str) -> str:
            return ", ".join(f'{alias}."{column}" AS "{prefix}{column}"'
                             for column in model._meta.fields_db_projection.values())

        _LOOKUP[dialect] = (
            f"SELECT {columns(ApiToken, 't', '')}, {columns(User, 'u', 'u.')}, {columns(User, 'c', 'c.')} "
            "FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN users c ON c.id = t.creator_id "
            f"WHERE t.digest = {placeholder(conn, 1)}"
        )
    return _LOOKUP[dialect]


async def _token_of(secret: str) -> ApiToken | None:
    """The token stored for this secret (revoked or not), its `user` and `creator` loaded: what
    `ApiToken.get_or_none(digest=…).select_related("user", "creator")` gives, without the query
    builder."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_lookup_sql(conn), [digest(secret)])
    if not rows:
        return None
    row = rows[0]
    token = ApiToken._init_from_db(**{k: v for k, v in row.items() if "." not in k})
    for attr, prefix in (("user", "u."), ("creator", "c.")):
        account = User._init_from_db(**{k[2:]: v for k, v in row.items() if k.startswith(prefix)})
        object.__setattr__(token, f"_{attr}", account)  # as select_related attaches it
    return token


async def authenticate(secret: str) -> ApiToken | None:
    """The live token this secret is, with its account; None for anything else. Read from the
    database on every call, so a revoked token or a deactivated account stops working at once in
    every process."""
    if not secret.startswith(PREFIX) or len(secret) > 100 or not secret.isascii():
        return None
    token = await _token_of(secret)
    if token is None or not usable(token) or not _accounts_active(token):
        return None
    now = datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        token.last_used_at = now
        await ApiToken.filter(id=token.id).update(last_used_at=now)
    return token


async def still_usable(token_id: int) -> bool:
    token = await ApiToken.get_or_none(id=token_id).select_related("user", "creator")
    return token is not None and usable(token) and _accounts_active(token)


def _accounts_active(token: ApiToken) -> bool:
    """A deactivated or deleted account (or the person a bot belongs to) acts through no token."""
    return all(account.is_active and not account.deleted for account in (token.user, token.creator))


async def listed(user: User) -> list[ApiToken]:
    """Tokens this person made (for themselves and their bots), newest first."""
    return await ApiToken.filter(creator_id=user.id).select_related("user").order_by("-id")


async def revoke(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of this person's tokens; None if it is not theirs. Revoking twice is harmless."""
    token = await ApiToken.get_or_none(id=token_id, creator_id=user.id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await ApiToken.filter(id=token.id).update(revoked_at=token.revoked_at)
    return token
