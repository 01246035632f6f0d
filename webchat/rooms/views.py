"""Room pages and membership: list, create, show, join, leave, members, direct rooms, read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from quart import Blueprint, flash, g, render_template, request

from webchat import i18n, web
from webchat.accounts import people
from webchat.accounts.names import find_user, hidden_characters, resolve_person
from webchat.admin import audit
from webchat.messages import notices
from webchat.models import Membership
from webchat.refusals import Refused, SlowDown
from webchat.rooms import broadcasts, service
from webchat.rooms.page import reply_composer, room_page
from webchat.rooms.service import NAME_MAX, TOPIC_MAX, parse_id
from webchat.runtime import current
from webchat.streams import revoking

# Set by static/js/read.js on every page: this browser runs the script.
SCRIPT_COOKIE = "webchat_js"

bp = Blueprint("rooms", __name__)
# What the notification form says once saved, by level (webchat.messages.notices.LEVELS).
NOTIFICATIONS_SET = {
    "all": i18n.lazy_gettext("Notifications for this room: all messages."),
    "mentions": i18n.lazy_gettext("Notifications for this room: mentions and replies only."),
    "none": i18n.lazy_gettext("Notifications for this room: nothing."),
}


async def _room_list(values=None, errors=None, dm_values=None, dm_errors=None, candidates=(), status=200,
                     group_values=None, group_errors=None):
    body = await render_template(
        "rooms/list.html",
        entries=await service.rooms_of(g.user),
        public=await service.public_rooms_to_join(g.user),
        values=values or {"visibility": "public"},
        errors=errors or web.FormErrors(),
        dm_values=dm_values or {},
        dm_errors=dm_errors or web.FormErrors(),
        candidates=candidates,
        group_values=group_values or {},
        group_errors=group_errors or web.FormErrors(),
        # The site's welcome message is for people in their first week.
        new_member=g.user.created_at > datetime.now(UTC) - timedelta(days=7),
    )
    return body, status


@bp.get("/rooms")
async def room_list():
    return await _room_list()


@bp.post("/rooms")
@web.rate_limit("action", "changes")
async def create_room():
    form = web.form()
    values = {
        "name": form.get("name", "").strip(),
        "topic": form.get("topic", "").strip(),
        "visibility": form.get("visibility", ""),
    }
    errors = web.FormErrors()
    if not values["name"]:
        errors.add("room-name", i18n.gettext("Give the room a name."))
    elif len(values["name"]) > NAME_MAX:
        errors.add("room-name", i18n.gettext("Room names can be at most %(max)s characters.", max=NAME_MAX))
    if len(values["topic"]) > TOPIC_MAX:
        errors.add("room-topic", i18n.gettext("Topics can be at most %(max)s characters.", max=TOPIC_MAX))
    if values["visibility"] not in ("public", "private"):
        errors.add("visibility-public", i18n.gettext("Choose whether the room is public or private."))
    if hidden_characters(values["name"] + values["topic"]):
        errors.add("room-name", i18n.gettext("Names and topics cannot contain invisible, control or "
                                             "direction-changing characters."))
    if errors:
        return await _room_list(values, errors, status=422)
    room = await service.create_room(g.user, values["name"], values["topic"], values["visibility"])
    await broadcasts.room_added(current(), g.user.id, room.id)  # the creator's other open pages
    return web.see_other(f"/rooms/{room.id}")


@bp.get("/rooms/<room_id>")
async def show_room(room_id: str):
    found = await service.access(parse_id(room_id), g.user)
    composer = await reply_composer(found, request.args.get("reply_to", "").strip()) if found.member else None
    # Opening the room marks it read only for a browser without the page's script, which cannot
    # say what was seen; the script (static/js/read.js) marks it read once seen, and says that it
    # runs by a cookie.
    return await room_page(found, composer, mark_read=request.cookies.get(SCRIPT_COOKIE) != "1")


@bp.post("/rooms/<room_id>/join")
@web.rate_limit("action", "changes")
async def join(room_id: str):
    found = await service.access(parse_id(room_id), g.user)
    if await service.join(found.room, g.user):
        await broadcasts.room_added(current(), g.user.id, found.room.id)
    return web.see_other(f"/rooms/{found.room.id}")


@bp.post("/rooms/<room_id>/leave")
@web.rate_limit("action", "changes")
async def leave(room_id: str):
    found = await service.access(parse_id(room_id), g.user)
    if not found.member:
        raise Refused(409, i18n.gettext("You are not a member of this room."), i18n.gettext("Not a member"))
    if found.owner(g.user):
        raise Refused(409, i18n.gettext("The owner cannot leave their own room."), i18n.gettext("Owner stays"))
    # Anyone may read a public room: leaving it ends no stream.
    await _take_out(found.room, g.user,
                    i18n.lazy_gettext("You left this room.") if found.room.kind != "public" else None)
    await broadcasts.room_removed(current(), g.user.id, found.room.id)
    return web.see_other("/rooms")


@bp.get("/rooms/<room_id>/members/suggest")
async def suggest_members(room_id: str):
    """The composer's suggestions after an "@": at most eight members of the room, as options of
    its listbox (an HTML fragment; static/js/mentions.js). Readers of the room only."""
    rt = current()
    if wait := await rt.limiter.hit(f"suggest:{g.user.id}", rt.limits["suggest"]):
        raise SlowDown(wait, "suggestions", quiet=True)
    found = await service.access(parse_id(room_id), g.user)
    people_found = await service.suggest_members(found.room, (request.args.get("q") or "")[:64])
    return await render_template("rooms/_member_suggestions.html", people=people_found)


@bp.post("/rooms/<room_id>/notifications")
@web.rate_limit("action", "changes")
async def notifications(room_id: str):
    """This member's notification level for the room (see webchat.messages.notices)."""
    found = await service.access(parse_id(room_id), g.user)
    if not found.member:
        raise Refused(403, i18n.gettext("Only members of the room choose how it notifies them."),
                      i18n.gettext("Not a member"))
    level = web.form().get("level", "")
    if level not in notices.LEVELS:
        raise Refused(422, i18n.gettext("Choose all, mentions or none."), i18n.gettext("Unknown notification level"))
    await notices.set_level(found.membership, level)
    # Every open page of theirs decides its browser notifications by the room's entry in the list.
    await broadcasts.room_added(current(), g.user.id, found.room.id)
    if web.is_htmx():
        return await render_template(
            "rooms/_notifications.html", room=found.room, levels=notices.LEVELS, notify_level=level,
            default_level=notices.default_level(found.room), saved=True)
    await flash(str(NOTIFICATIONS_SET[level]))
    return web.see_other(f"/rooms/{found.room.id}")


@bp.post("/rooms/<room_id>/members")
@web.rate_limit("action", "changes")
async def add_member(room_id: str):
    found = await service.access(parse_id(room_id), g.user)
    if not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the room's owner can add members."), i18n.gettext("Owners only"))
    typed = web.form().get("username", "").strip()
    if found.room.kind != "private":
        raise Refused(409, i18n.gettext("Members are added to private rooms only; anyone can join a public room."))
    user, candidates = await resolve_person(typed)
    if user is None:
        errors = web.FormErrors()
        errors.add("member-username", _not_found(typed, candidates))
        return await _member_page(found, typed, errors, candidates), 422
    if await service.add_member(found.room, user):
        await audit.record(g.user, "room.add", f"@{user.username} to room #{found.room.id} ({found.room.name})")
        await broadcasts.room_added(current(), user.id, found.room.id)
        await _flash(i18n.gettext("%(name)s (@%(username)s) was added to the room.",
                                  name=user.display_name, username=user.username))
    else:
        await _flash(i18n.gettext("%(name)s (@%(username)s) is already a member.",
                                  name=user.display_name, username=user.username))
    return web.see_other(f"/rooms/{found.room.id}/members")


def _not_found(typed: str, candidates) -> str:
    """What the name field says when a typed name does not mean exactly one person."""
    if not typed.strip():
        return i18n.gettext("Enter their name or username.")
    if len(typed) > 64:
        return i18n.gettext("Names and usernames are at most 64 characters.")
    if candidates:
        return i18n.gettext("More than one person matches “%(typed)s”, or nobody exactly: choose from the list below.",
                            typed=typed)
    return i18n.gettext("There is nobody called “%(typed)s”. Check the spelling, or look them up under People.",
                        typed=typed)


@bp.get("/rooms/<room_id>/members")
async def members_page(room_id: str):
    found = await service.access(parse_id(room_id), g.user)
    return await _member_page(found, "", web.FormErrors())


async def _member_page(found, username, errors, candidates=()):
    return await render_template(
        "rooms/members.html",
        room=found.room,
        title=await service.display_name(found.room, g.user),
        members=await service.members(found.room),
        is_owner=found.owner(g.user),
        username=username,
        errors=errors,
        candidates=candidates,
    )


@bp.post("/rooms/<room_id>/members/<username>/remove")
@web.rate_limit("action", "changes")
async def remove_member(room_id: str, username: str):
    found = await service.access(parse_id(room_id), g.user)
    if not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the room's owner can remove members."), i18n.gettext("Owners only"))
    user = await find_user(username)
    if user is None or not await Membership.filter(room_id=found.room.id, user_id=user.id).exists():
        raise Refused(404, i18n.gettext("“%(username)s” is not a member of this room.", username=username),
                      i18n.gettext("No such member"))
    if user.id == g.user.id:
        raise Refused(409, i18n.gettext("The owner cannot remove themselves."), i18n.gettext("Owner stays"))
    await _take_out(found.room, user, i18n.lazy_gettext("You were removed from this room."))
    await audit.record(g.user, "room.remove", f"@{user.username} from room #{found.room.id} ({found.room.name})")
    await broadcasts.room_removed(current(), user.id, found.room.id)
    await _flash(i18n.gettext("%(name)s was removed from the room.", name=user.display_name))
    return web.see_other(f"/rooms/{found.room.id}/members")


@bp.post("/rooms/<room_id>/read")
@web.rate_limit("read", "read markers")
async def read(room_id: str):
    found = await service.access(parse_id(room_id), g.user)
    if not found.member:
        raise Refused(403, i18n.gettext("Only members have read markers."), i18n.gettext("Not a member"))
    message_id = service.whole_number(web.form().get("last_message_id", ""))
    if message_id is None:
        raise Refused(422, i18n.gettext("last_message_id must be a message number."),
                      i18n.gettext("Bad message number"))
    if await service.mark_read(found.membership, message_id):
        await broadcasts.own_read(current(), g.user.id, found.room.id, found.membership.read_seq)
        broadcasts.read_markers_soon(current(), found.room.id)
    return web.done(f"/rooms/{found.room.id}")


@bp.post("/rooms/<room_id>/typing")
@web.rate_limit("typing", "typing signals", quiet=True)
async def typing(room_id: str):
    found = await service.require_member(parse_id(room_id), g.user)
    if await current().state.start_typing(found.room.id, g.user.id, g.user.display_name):
        await broadcasts.typing(current(), found.room.id)
    return "", 204


@bp.post("/dm")
@web.rate_limit("action", "changes")
async def direct_message():
    """Open the direct room with the person named: a username, "@username" or a display name;
    when that is nobody or several people, the form again with the people it might mean."""
    if "usernames" in web.form():
        return await _group_conversation()
    typed = web.form().get("username", "").strip()
    other, candidates = await resolve_person(typed)
    if other is None:
        errors = web.FormErrors()
        errors.add("dm-username", _not_found(typed, candidates))
        return await _room_list(
            dm_values={"username": typed}, dm_errors=errors, candidates=candidates, status=422
        )
    if await people.blocks(other, g.user):
        raise Refused(403, i18n.gettext("%(name)s does not take direct messages from you.", name=other.display_name),
                      i18n.gettext("Blocked"))
    room, joined = await service.direct_room(g.user, other)
    for user_id in sorted(joined):
        await broadcasts.room_added(current(), user_id, room.id)
    return web.see_other(f"/rooms/{room.id}")


async def _group_conversation():
    """A conversation of 3 to 8 people (you and 2 to 7 others), the same one for the same people."""
    typed = web.form().get("usernames", "")[:1000]
    names = [name for name in re.split(r"[\s,]+", typed) if name.strip("@")]
    errors = web.FormErrors()
    found: dict[int, object] = {}
    missing = []
    for name in names[:20]:
        user = await find_user(name.lstrip("@"))
        if user is None or not user.is_active:
            missing.append(name)
        elif user.id != g.user.id:
            found[user.id] = user
    if missing:
        errors.add("group-usernames", i18n.ngettext(
            "There is nobody with the username %(names)s. Check the spelling, or look them up under People.",
            "There is nobody with the usernames %(names)s. Check the spelling, or look them up under People.",
            len(missing[:5]), names=", ".join(f"“{n[:32]}”" for n in missing[:5])))
    elif not service.GROUP_MIN - 1 <= len(found) <= service.GROUP_MAX - 1:
        errors.add("group-usernames", i18n.gettext(
            "A group conversation is %(min)s to %(max)s people: name %(fewest)s to %(most)s others by username.",
            min=service.GROUP_MIN, max=service.GROUP_MAX, fewest=service.GROUP_MIN - 1, most=service.GROUP_MAX - 1))
    if errors:
        return await _room_list(group_values={"usernames": typed}, group_errors=errors, status=422)
    for user in found.values():
        if await people.blocks(user, g.user):
            raise Refused(403, i18n.gettext("%(name)s does not take direct messages from you.", name=user.display_name),
                          i18n.gettext("Blocked"))
    room, joined = await service.group_room(g.user, list(found.values()))
    for user_id in sorted(joined):
        await broadcasts.room_added(current(), user_id, room.id)
    return web.see_other(f"/rooms/{room.id}")


async def _take_out(room, user, notice: str | None) -> None:
    """Membership gone, the user's streams of the room closed (in the same transaction: see
    webchat.streams), and "Here now" and typing without them at once."""
    async with revoking():
        await service.leave(room, user)
        if notice:
            await broadcasts.close_for(current(), user.id, room.id, notice)
    await broadcasts.forget(current(), room.id, user.id)


async def _flash(message: str) -> None:
    await flash(message)
