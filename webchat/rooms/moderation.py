"""Running a room: its owner renames it, changes its topic and visibility, hands it over, appoints
moderators, archives and deletes it; the owner and moderators mute members, remove and ban them.
Every action here is a rate-limited form post, written to the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quart import Blueprint, flash, g, render_template, request
from tortoise.transactions import in_transaction

from webchat import enforce, i18n, web
from webchat.accounts.names import find_user, hidden_characters
from webchat.admin import audit
from webchat.admin import service as admin
from webchat.i18n import lazy_gettext
from webchat.live import topics
from webchat.models import Ban, Membership, Message, Room, User
from webchat.refusals import Refused
from webchat.rooms import broadcasts, service
from webchat.rooms.service import NAME_MAX, TOPIC_MAX, Access, parse_id, until_for, until_text
from webchat.runtime import current
from webchat.streams import revoking

bp = Blueprint("moderation", __name__)

# How long a member may be muted for: the choices the form offers, in minutes.
MUTE_CHOICES = {"10": lazy_gettext("10 minutes"), "60": lazy_gettext("1 hour"), "1440": lazy_gettext("1 day"),
                "10080": lazy_gettext("1 week")}


def _target(room: Room) -> str:
    return f"room #{room.id} ({room.name})"


async def _room(room_id: str, *, owner: bool = False) -> Access:
    found = await service.access(parse_id(room_id), g.user)
    if found.room.kind == "direct":
        raise Refused(404, i18n.gettext("Direct conversations have no settings."), i18n.gettext("Not found"))
    if owner and not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the room's owner can do that."), i18n.gettext("Owners only"))
    if not found.moderates(g.user):
        raise Refused(403, i18n.gettext("Only the room's owner and moderators can do that."),
                      i18n.gettext("Moderators only"))
    return found


async def _page(found: Access, errors=None, values=None, status=200):
    room = found.room
    rows = await Membership.filter(room_id=room.id).select_related("user").order_by("user__display_name")
    bans = await Ban.filter(room_id=room.id).select_related("user").order_by("user__username_key")
    body = await render_template(
        "rooms/settings.html", room=room, access=found, is_owner=found.owner(g.user), members=rows, bans=bans,
        errors=errors or web.FormErrors(), values=values or {"name": room.name, "topic": room.topic,
                                                             "visibility": room.kind},
        mute_choices=MUTE_CHOICES, now=datetime.now(UTC),
    )
    return body, status


@bp.get("/rooms/<room_id>/settings")
async def settings_page(room_id: str):
    return await _page(await _room(room_id))


@bp.post("/rooms/<room_id>/settings")
@web.rate_limit("action", "changes")
async def save_settings(room_id: str):
    found = await _room(room_id, owner=True)
    room = found.room
    form = web.form()
    values = {"name": form.get("name", "").strip(), "topic": form.get("topic", "").strip(),
              "visibility": form.get("visibility", "")}
    errors = web.FormErrors()
    if not values["name"]:
        errors.add("settings-name", i18n.gettext("Give the room a name."))
    elif len(values["name"]) > NAME_MAX:
        errors.add("settings-name", i18n.gettext("Room names can be at most %(max)s characters.", max=NAME_MAX))
    if len(values["topic"]) > TOPIC_MAX:
        errors.add("settings-topic", i18n.gettext("Topics can be at most %(max)s characters.", max=TOPIC_MAX))
    if values["visibility"] not in ("public", "private"):
        errors.add("settings-public", i18n.gettext("Choose whether the room is public or private."))
    if hidden_characters(values["name"] + values["topic"]):
        errors.add("settings-name", i18n.gettext("Names and topics cannot contain invisible, control or "
                                                 "direction-changing characters."))
    if errors:
        return await _page(found, errors, values, 422)
    changes = [key for key, old in (("name", room.name), ("topic", room.topic), ("visibility", room.kind))
               if values[key] != old]
    if changes:
        rt = current()
        async with revoking() as conn:
            await Room.filter(id=room.id).using_db(conn).update(
                name=values["name"], topic=values["topic"], kind=values["visibility"])
            await audit.record(g.user, "room.settings", _target(room), ", ".join(changes), using_db=conn)
            if room.kind == "public" and values["visibility"] == "private":
                # Readers who are not members may no longer read: every stream of the room ends
                # and reopens (members' pages reload into a room their stream is guarded for).
                await rt.broker.publish(broadcasts.close_envelope(
                    rt, topics.room(room.id), room.id, lazy_gettext("This room is now private."),
                    (f"/rooms/{room.id}", lazy_gettext("Reload"))))
        if "name" in changes:
            await broadcasts.room_renamed(rt, room.id, values["name"])
        await flash(i18n.gettext("Room settings saved."))
    return web.see_other(f"/rooms/{room.id}/settings")


@bp.post("/rooms/<room_id>/transfer")
@web.rate_limit("action", "changes")
async def transfer(room_id: str):
    found = await _room(room_id, owner=True)
    room = found.room
    user = await find_user(web.form().get("username", ""))
    if user is None or user.id == g.user.id or not await Membership.exists(room_id=room.id, user_id=user.id):
        errors = web.FormErrors()
        errors.add("transfer-username", i18n.gettext("Choose another member of the room to hand it to."))
        return await _page(found, errors, status=422)
    async with in_transaction() as conn:
        await Room.filter(id=room.id).using_db(conn).update(owner_id=user.id)
        # The old owner stays on as a moderator; the new one's role is the ownership itself.
        await Membership.filter(room_id=room.id, user_id=g.user.id).using_db(conn).update(role="moderator")
        await Membership.filter(room_id=room.id, user_id=user.id).using_db(conn).update(role="member")
        await audit.record(g.user, "room.transfer", _target(room), f"to @{user.username}", using_db=conn)
    await flash(i18n.gettext("%(name)s (@%(username)s) owns the room now; you are a moderator.",
                             name=user.display_name, username=user.username))
    return web.see_other(f"/rooms/{room.id}")


@bp.post("/rooms/<room_id>/moderators")
@web.rate_limit("action", "changes")
async def appoint(room_id: str):
    found = await _room(room_id, owner=True)
    user = await find_user(web.form().get("username", ""))
    member = user and await Membership.get_or_none(room_id=found.room.id, user_id=user.id)
    if not member or user.id == g.user.id:
        errors = web.FormErrors()
        errors.add("moderator-username",
                   i18n.gettext("Choose a member of the room (by username) to make a moderator."))
        return await _page(found, errors, status=422)
    await _set_role(found.room, user, "moderator")
    return web.see_other(f"/rooms/{found.room.id}/settings")


@bp.post("/rooms/<room_id>/moderators/<username>/remove")
@web.rate_limit("action", "changes")
async def dismiss(room_id: str, username: str):
    found = await _room(room_id, owner=True)
    user = await _member(found, username)
    await _set_role(found.room, user, "member")
    return web.see_other(f"/rooms/{found.room.id}/settings")


async def _set_role(room: Room, user: User, role: str) -> None:
    async with in_transaction() as conn:
        changed = await Membership.filter(room_id=room.id, user_id=user.id).exclude(role=role).using_db(conn).update(
            role=role)
        if changed:
            await audit.record(g.user, "room.moderator" if role == "moderator" else "room.unmoderator",
                               f"@{user.username} in {_target(room)}", using_db=conn)
    if changed:
        if role == "moderator":
            await flash(i18n.gettext("%(name)s is now a moderator.", name=user.display_name))
        else:
            await flash(i18n.gettext("%(name)s is no longer a moderator.", name=user.display_name))


async def _member(found: Access, username: str) -> User:
    user = await find_user(username)
    if user is None or not await Membership.exists(room_id=found.room.id, user_id=user.id):
        raise Refused(404, i18n.gettext("“%(username)s” is not a member of this room.", username=username[:40]),
                      i18n.gettext("No such member"))
    return user


async def _subject(found: Access, username: str) -> User:
    """Whom a moderation action is on: never yourself, never the owner; moderators only by the owner."""
    user = await find_user(username)
    if user is None:
        raise Refused(404, i18n.gettext("There is nobody called “%(username)s”.", username=username[:40]),
                      i18n.gettext("No such person"))
    if user.id == g.user.id or user.id == found.room.owner_id:
        raise Refused(409, i18n.gettext("The owner, and you yourself, are out of reach of moderation."),
                      i18n.gettext("Not allowed"))
    membership = await Membership.get_or_none(room_id=found.room.id, user_id=user.id)
    if membership is not None and membership.role == "moderator" and not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the owner can act on a moderator."), i18n.gettext("Owners only"))
    return user


@bp.post("/rooms/<room_id>/moderation/<username>/<action>")
@web.rate_limit("action", "changes")
async def moderate(room_id: str, username: str, action: str):
    if action not in ("mute", "unmute", "remove", "ban", "unban"):
        raise Refused(404, i18n.gettext("There is no such action."), i18n.gettext("Not found"))
    found = await _room(room_id)
    room, rt = found.room, current()
    user = await _subject(found, username)
    if action == "mute":
        minutes = web.form().get("minutes", "")
        if minutes not in MUTE_CHOICES:
            errors = web.FormErrors()
            errors.add(f"mute-{user.username}", i18n.gettext("Choose how long to mute them for."))
            return await _page(found, errors, status=422)
        until = datetime.now(UTC) + timedelta(minutes=int(minutes))
        async with in_transaction() as conn:
            if not await Membership.filter(room_id=room.id, user_id=user.id).using_db(conn).update(muted_until=until):
                raise Refused(404, i18n.gettext("%(name)s is not a member of this room.", name=user.display_name),
                              i18n.gettext("No such member"))
            await audit.record(g.user, "room.mute", f"@{user.username} in {_target(room)}",
                               f"until {until_text(until)}", using_db=conn)
        await flash(i18n.gettext("%(name)s is muted until %(time)s.", name=user.display_name,
                                 time=until_for(g.user, until)))
    elif action == "unmute":
        async with in_transaction() as conn:
            if await Membership.filter(room_id=room.id, user_id=user.id, muted_until__isnull=False).using_db(
                    conn).update(muted_until=None):
                await audit.record(g.user, "room.unmute", f"@{user.username} in {_target(room)}", using_db=conn)
        await flash(i18n.gettext("%(name)s can post again.", name=user.display_name))
    elif action == "remove":
        if not await enforce.remove(rt, g.user, room, user):
            raise Refused(404, i18n.gettext("%(name)s is not a member of this room.", name=user.display_name),
                              i18n.gettext("No such member"))
        await flash(i18n.gettext("%(name)s was removed from the room.", name=user.display_name))
    elif action == "ban":
        if room.kind != "public":
            raise Refused(409, i18n.gettext(
                "Bans are for public rooms; remove the member from a private room instead."),
                i18n.gettext("Public rooms only"))
        if await enforce.ban(rt, g.user, room, user):
            await flash(i18n.gettext("%(name)s is banned from the room.", name=user.display_name))
    else:
        async with in_transaction() as conn:
            if await Ban.filter(room_id=room.id, user_id=user.id).using_db(conn).delete():
                await audit.record(g.user, "room.unban", f"@{user.username} from {_target(room)}", using_db=conn)
        await flash(i18n.gettext("%(name)s may join the room again.", name=user.display_name))
    return web.see_other(f"/rooms/{room.id}/settings")


@bp.post("/rooms/<room_id>/archive")
@bp.post("/rooms/<room_id>/unarchive")
@web.rate_limit("action", "changes")
async def archive(room_id: str):
    found = await _room(room_id, owner=True)
    room = found.room
    archived = request.path.endswith("/archive")
    if room.archived != archived:
        async with in_transaction() as conn:
            await Room.filter(id=room.id).using_db(conn).update(archived=archived)
            await audit.record(g.user, "room.archive" if archived else "room.unarchive", _target(room), using_db=conn)
        await flash(i18n.gettext("The room is archived: it can be read, nobody can post.") if archived
                    else i18n.gettext("The room is open for posting again."))
    return web.see_other(f"/rooms/{room.id}/settings")


@bp.get("/rooms/<room_id>/delete")
async def delete_page(room_id: str):
    found = await _room(room_id, owner=True)
    return await render_template("admin/delete_room.html", room=found.room, errors=web.FormErrors(), typed="",
                                 action=f"/rooms/{found.room.id}/delete")


@bp.post("/rooms/<room_id>/delete")
@web.rate_limit("action", "changes")
async def delete(room_id: str):
    found = await _room(room_id, owner=True)
    room = found.room
    typed = web.form().get("confirm", "")
    if typed.strip() != room.name:
        errors = web.FormErrors()
        errors.add("confirm-name", i18n.gettext("Type the room's name exactly as shown to delete it."))
        return await render_template("admin/delete_room.html", room=room, errors=errors, typed=typed[:200],
                                     action=f"/rooms/{room.id}/delete"), 422
    await enforce.delete_room(current(), g.user, room)
    await flash(i18n.gettext("“%(name)s” was deleted.", name=room.name))
    return web.see_other("/rooms")


async def _reported(room_id: str, message_id: str):
    found = await service.access(parse_id(room_id), g.user)
    message = await Message.get_or_none(id=parse_id(message_id), room_id=found.room.id).select_related("author")
    if message is None or message.deleted:
        raise Refused(404, i18n.gettext("There is no such message in this room."), i18n.gettext("Message not found"))
    if message.author_id == g.user.id:
        raise Refused(409, i18n.gettext("You cannot report your own message; delete it instead."),
                      i18n.gettext("Your own message"))
    return found, message


@bp.get("/rooms/<room_id>/messages/<message_id>/report")
async def report_page(room_id: str, message_id: str):
    found, message = await _reported(room_id, message_id)
    return await render_template("rooms/report.html", room=found.room, message=message, reason="",
                                 errors=web.FormErrors())


@bp.post("/rooms/<room_id>/messages/<message_id>/report")
@web.rate_limit("action", "changes")
async def report(room_id: str, message_id: str):
    """Anyone who can read the message may report it to the site's administrators."""
    found, message = await _reported(room_id, message_id)
    reason = web.form().get("reason", "").strip()
    errors = web.FormErrors()
    if not reason:
        errors.add("report-reason", i18n.gettext("Say what is wrong with the message."))
    elif len(reason) > admin.REASON_MAX:
        errors.add("report-reason",
                   i18n.gettext("Keep the reason to %(max)s characters or fewer.", max=admin.REASON_MAX))
    elif "\x00" in reason:
        errors.add("report-reason", i18n.gettext("The reason contains a null character."))
    if errors:
        return await render_template("rooms/report.html", room=found.room, message=message, reason=reason[:2000],
                                     errors=errors), 422
    await admin.report(g.user, message, reason)
    await flash(i18n.gettext("Thank you: the message was reported to the site's administrators."))
    return web.see_other(f"/rooms/{found.room.id}#m-{message.id}")
