"""The audit log: every administrative and moderation action, who took it, when, and on what.

Written in the same transaction as the action where there is one, so the log never claims an
action that did not happen, nor misses one that did.
"""

from __future__ import annotations

from dataclasses import dataclass

from webchat.models import AuditEntry, User

PAGE = 50
CLI = "command line"


async def record(actor: User | None, action: str, target: str = "", detail: str = "", using_db=None) -> AuditEntry:
    """Log one action. `actor` None: the command line."""
    return await AuditEntry.create(
        actor_id=actor.id if actor else None,
        actor_name=actor_name(actor) if actor else CLI,
        action=action,
        target=target[:200],
        detail=detail[:500],
        using_db=using_db,
    )


NAME_MAX = 64  # AuditEntry.actor_name


def actor_name(actor: User) -> str:
    """"Ana Lima (@ana)": the username kept whole, a long display name shortened to fit."""
    handle = f" (@{actor.username})"
    name = actor.display_name
    if len(name) + len(handle) > NAME_MAX:
        name = name[:NAME_MAX - len(handle) - 1].rstrip() + "…"
    return name + handle


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    more: bool
    actions: list[str]  # every action the log holds, for the filter


async def entries(page: int = 1, action: str = "", who: str = "", target: str = "") -> AuditPage:
    """Newest first, PAGE at a time; filtered by action, by actor (name contains) and target."""
    query = AuditEntry.all()
    if action:
        query = query.filter(action=action)
    if who:
        query = query.filter(actor_name__icontains=who)
    if target:
        query = query.filter(target__icontains=target)
    rows = await query.order_by("-id").offset((page - 1) * PAGE).limit(PAGE + 1)
    actions = sorted(set(await AuditEntry.all().distinct().values_list("action", flat=True)))
    return AuditPage(rows[:PAGE], page, len(rows) > PAGE, actions)
