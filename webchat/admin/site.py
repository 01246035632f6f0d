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


async def _row() -> Site:
    # One primary-key read per page (every page shows the name); no cache, so that a change made
    # through one process shows at once in every other.
    row = await Site.get_or_none(id=1)
    if row is None:
        try:
            row = await Site.create(id=1)
        except IntegrityError:  # another request made it at the same moment
            row = await Site.get(id=1)
    return row


async def settings(default_registration: str) -> SiteSettings:
    row = await _row()
    return SiteSettings(row.name, row.welcome, row.registration or default_registration, row.member_invites)


async def update(using_db=None, **values) -> None:
    await _row()
    await Site.filter(id=1).using_db(using_db).update(**values)
