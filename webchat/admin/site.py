"""The site's own settings (name, welcome message, how people register): one row, id 1."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from webchat.models import Site

REGISTRATION_MODES = ("open", "invite", "closed")
NAME_MAX = 60
WELCOME_MAX = 2000


@dataclass(frozen=True)
class SiteSettings:
    name: str
    welcome: str
    registration: str  # open | invite | closed, with the environment's default applied
    member_invites: bool


def defaults(default_registration: str) -> SiteSettings:
    return SiteSettings("webchat", "", default_registration, False)


async def settings(default_registration: str) -> SiteSettings:
    # One primary-key read; nothing is written until an administrator saves the settings.
    row = await Site.get_or_none(id=1)
    if row is None:
        return defaults(default_registration)
    return SiteSettings(row.name, row.welcome, row.registration or default_registration, row.member_invites)


async def update(**values) -> None:
    try:
        await Site.get_or_create(id=1)
    except IntegrityError:  # another request made it at the same moment
        pass
    await Site.filter(id=1).update(**values)
