"""People's own pages: a profile for each person, blocking, and the account's own settings
(profile, password, deleting the account, downloading one's data)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from quart import Blueprint, Response, flash, g, render_template, request
from tortoise.expressions import F

from webchat import enforce, i18n, web
from webchat.accounts import people
from webchat.accounts.names import find_user, hidden_characters
from webchat.accounts.passwords import (
    WAIT_SECONDS,
    Busy,
    hash_password,
    too_common,
    verify_password,
)
from webchat.accounts.sessions import sign_in, sign_out
from webchat.models import Block, Membership, Message, Report, User
from webchat.refusals import Refused, SlowDown
from webchat.rooms import broadcasts
from webchat.runtime import current
from webchat.streams import revoking

bp = Blueprint("profile", __name__)

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
EXPORT_MESSAGES = 100_000


async def _person(username: str) -> User:
    user = await find_user(username)
    if user is None or user.deleted:
        raise Refused(404, i18n.gettext("There is nobody called “%(name)s”.", name=username[:40]),
                      i18n.gettext("No such person"))
    return user


@bp.get("/users/<username>")
async def profile(username: str):
    user = await _person(username)
    return await render_template("accounts/profile.html", person=user,
                                 blocked=await people.blocks(g.user, user) if user.id != g.user.id else False)


@bp.post("/users/<username>/block")
@bp.post("/users/<username>/unblock")
@web.rate_limit("action", "changes")
async def block(username: str):
    user = await _person(username)
    if user.id == g.user.id:
        raise Refused(409, i18n.gettext("You cannot block yourself."), i18n.gettext("Not allowed"))
    if request.path.endswith("/block"):
        await Block.get_or_create(blocker_id=g.user.id, blocked_id=user.id)
        await flash(i18n.gettext("You blocked %(name)s: no direct messages from them, and their messages are "
                                 "folded away.", name=user.display_name))
    else:
        await Block.filter(blocker_id=g.user.id, blocked_id=user.id).delete()
        await flash(i18n.gettext("You no longer block %(name)s.", name=user.display_name))
    return web.see_other(f"/users/{user.username}")


@bp.route("/settings/profile", methods=["GET", "POST"])
@web.rate_limit("action", "changes")
async def edit_profile():
    me = g.user
    values = {"display_name": me.display_name, "bio": me.bio}
    errors = web.FormErrors()
    if request.method == "POST":
        form = web.form()
        values = {key: form.get(key, "").strip() for key in values}
        if not values["display_name"]:
            values["display_name"] = me.username
        if len(values["display_name"]) > 64:
            errors.add("profile-name", i18n.gettext("Keep the display name to %(most)s characters or fewer.",
                                                    most=64))
        elif hidden_characters(values["display_name"]):
            errors.add("profile-name", i18n.gettext("The display name cannot contain invisible, control or "
                                                    "direction-changing characters."))
        if len(values["bio"]) > people.BIO_MAX:
            errors.add("profile-bio", i18n.gettext("Keep the bio to %(most)s characters or fewer.",
                                                   most=people.BIO_MAX))
        elif "\x00" in values["bio"]:
            errors.add("profile-bio", i18n.gettext("The bio contains a null character."))
        if not errors:
            await User.filter(id=me.id).update(**values)
            await flash(i18n.gettext("Profile saved."))
            return web.see_other(f"/users/{me.username}")
    body = await render_template("accounts/edit_profile.html", values=values, errors=errors)
    return body, 422 if errors else 200


@bp.route("/settings/password", methods=["GET", "POST"])
@web.rate_limit("action", "changes")
async def change_password():
    errors = web.FormErrors()
    if request.method == "POST":
        form = web.form()
        old, new = form.get("current_password", ""), form.get("new_password", "")
        if len(new) < MIN_PASSWORD:
            errors.add("new-password", i18n.gettext("Choose a password of at least %(least)s characters.",
                                                    least=MIN_PASSWORD))
        elif len(new) > MAX_PASSWORD:
            errors.add("new-password", i18n.gettext("Choose a password of at most %(most)s characters.",
                                                    most=MAX_PASSWORD))
        elif too_common(new, g.user.username):
            errors.add("new-password", i18n.gettext("That password is among the most common ones. Choose another."))
        try:
            if not old or not await verify_password(g.user.password_hash, old[:MAX_PASSWORD]):
                errors.add("current-password", i18n.gettext("That is not your current password."))
            if not errors:
                hashed = await hash_password(new)
        except Busy:
            raise SlowDown(WAIT_SECONDS, "password checks at this moment") from None
        if not errors:
            async with revoking():
                await User.filter(id=g.user.id).update(password_hash=hashed, session_version=F("session_version") + 1)
                # Every other session (and its open streams) ends; this one carries on, re-signed.
                await broadcasts.revoke_user(current(), g.user.id)
            sign_in(await User.get(id=g.user.id))
            await flash(i18n.gettext("Password changed. Your other sessions were signed out."))
            return web.see_other("/settings")
    body = await render_template("accounts/password.html", errors=errors)
    return body, 422 if errors else 200


@bp.route("/settings/delete", methods=["GET", "POST"])
@web.rate_limit("action", "changes")
async def delete_account():
    errors = web.FormErrors()
    values = {"messages": "keep"}
    if request.method == "POST":
        form = web.form()
        values["messages"] = form.get("messages", "")
        if values["messages"] not in ("keep", "erase"):
            errors.add("messages-keep", i18n.gettext("Choose what happens to your messages."))
        try:
            if not await verify_password(g.user.password_hash, form.get("password", "")[:MAX_PASSWORD]):
                errors.add("delete-password", i18n.gettext("That is not your password."))
        except Busy:
            raise SlowDown(WAIT_SECONDS, "password checks at this moment") from None
        if g.user.is_admin and not await User.filter(is_admin=True, is_active=True).exclude(id=g.user.id).exists():
            errors.add("delete-password", i18n.gettext("You are the site's last administrator: make someone else "
                                                       "one first."))
        if not errors:
            await enforce.delete_account(current(), g.user, values["messages"] == "erase")
            sign_out()
            await flash(i18n.gettext("Your account was deleted."))
            return web.see_other("/")
    body = await render_template("accounts/delete.html", errors=errors, values=values)
    return body, 422 if errors else 200


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


@bp.get("/settings/export")
async def export():
    """Everything the account holds, as JSON: profile, rooms, messages, blocks and reports."""
    me = g.user
    memberships = await Membership.filter(user_id=me.id).select_related("room")
    written = await Message.filter(author_id=me.id, deleted=False).order_by("id").limit(EXPORT_MESSAGES).values(
        "id", "room_id", "body", "created_at", "edited_at")
    data = {
        "exported_at": _iso(datetime.now(UTC)),
        "account": {"username": me.username, "display_name": me.display_name, "time_zone": me.time_zone,
                    "bio": me.bio, "created_at": _iso(me.created_at), "administrator": me.is_admin,
                    "announce": me.announce, "announce_typing": me.announce_typing},
        "rooms": [{"id": m.room_id, "name": m.room.name if m.room.kind != "direct" else "direct conversation",
                   "kind": m.room.kind, "joined_at": _iso(m.joined_at), "role": m.role} for m in memberships],
        "messages": [{"id": m["id"], "room_id": m["room_id"], "body": m["body"], "created_at": _iso(m["created_at"]),
                      "edited_at": _iso(m["edited_at"])} for m in written],
        "blocked": await people.blocked_usernames(me),
        "reports": [{"message_id": r.message_id, "reason": r.reason, "status": r.status,
                     "created_at": _iso(r.created_at)} for r in await Report.filter(reporter_id=me.id)],
    }
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, 200, {"Content-Type": "application/json; charset=utf-8",
                                "Content-Disposition": f'attachment; filename="webchat-{me.username}.json"'})
