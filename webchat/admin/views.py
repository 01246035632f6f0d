"""/admin: the site administrators' pages (users, rooms, site settings, invitations, reports,
the audit log). Every other account gets 403; every change is a rate-limited, audited form post."""

from __future__ import annotations

from quart import Blueprint, flash, g, render_template, request, session

from webchat import enforce, i18n, web
from webchat.accounts.names import find_user
from webchat.admin import audit, service, site
from webchat.admin.service import INVITE_MAX_DAYS, INVITE_MAX_USES, NotAllowed
from webchat.models import Message, Report, Room, User
from webchat.refusals import Refused
from webchat.rooms.service import parse_id, whole_number
from webchat.runtime import current

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Invitation links made by members, when the administrators allow it.
members_bp = Blueprint("invites", __name__)


@bp.before_request
async def administrators_only() -> None:
    # The request gate has already sent the signed-out to sign in.
    if g.user is None or not g.user.is_admin:
        raise Refused(403, i18n.gettext("This page is for the site's administrators."),
                      i18n.gettext("Administrators only"))


def _arg(name: str, limit: int) -> str:
    """A search field: PostgreSQL refuses a NUL in a query, and nothing we store has one."""
    return request.args.get(name, "")[:limit].replace("\x00", "")


def _page_number() -> int:
    return whole_number(request.args.get("page", "1"), 100_000) or 1


async def _person(username: str) -> User:
    user = await find_user(username)
    if user is None or user.deleted:
        raise Refused(404, i18n.gettext("There is no account “%(username)s”.", username=username[:40]),
                      i18n.gettext("No such account"))
    return user


async def _site():
    return await site.settings(current().settings.registration)


@bp.get("")
async def overview():
    return await _overview_page(web.FormErrors())


async def _overview_page(errors, values=None, status=200):
    current_site = await _site()
    values = values or {"name": current_site.name, "welcome": current_site.welcome,
                        "registration": current_site.registration, "member_invites": current_site.member_invites}
    counts = {
        "users": await User.filter(deleted=False).count(),
        "deactivated": await User.filter(is_active=False, deleted=False).count(),
        "rooms": await Room.exclude(kind="direct").count(),
        "reports": await Report.filter(status="open").count(),
    }
    body = await render_template("admin/overview.html", values=values, errors=errors, counts=counts)
    return body, status


@bp.post("/site")
@web.rate_limit("action", "changes")
async def save_site():
    form = web.form()
    values = {
        "name": form.get("name", "").strip(),
        "welcome": form.get("welcome", "").strip(),
        "registration": form.get("registration", ""),
        "member_invites": form.get("member_invites", "") == "1",
    }
    errors = web.FormErrors()
    if not values["name"]:
        errors.add("site-name", i18n.gettext("Give the site a name."))
    elif len(values["name"]) > site.NAME_MAX:
        errors.add("site-name", i18n.gettext("Keep the name to %(max)s characters or fewer.", max=site.NAME_MAX))
    if len(values["welcome"]) > site.WELCOME_MAX:
        most = f"{site.WELCOME_MAX:,}"
        errors.add("site-welcome", i18n.gettext("Keep the welcome message to %(max)s characters or fewer.", max=most))
    if values["registration"] not in site.REGISTRATION_MODES:
        errors.add("registration-open", i18n.gettext("Choose how people may create accounts."))
    if "\x00" in values["name"] + values["welcome"]:
        errors.add("site-name", i18n.gettext("The text contains a null character."))
    if errors:
        return await _overview_page(errors, values, 422)
    before = await _site()
    await site.update(name=values["name"], welcome=values["welcome"], registration=values["registration"],
                      member_invites=values["member_invites"])
    changed = [key for key in ("name", "welcome", "registration", "member_invites")
               if getattr(before, key) != values[key]]
    await audit.record(g.user, "site.update", "site settings", ", ".join(changed) or "nothing changed")
    await current().site_changed()  # every process's pages show the change at once
    await flash(i18n.gettext("Site settings saved."))
    return web.see_other("/admin")


# --- users ------------------------------------------------------------------------------------

@bp.get("/users")
async def users_page():
    query = _arg("q", 64)
    state = request.args.get("state", "")
    if state not in ("", "admins", "deactivated"):
        state = ""
    found = await service.users(query, _page_number(), state)
    link = _take_shown()
    if link is not None:
        link = {"url": link, "hours": service.RESET_HOURS}
    return await render_template("admin/users.html", query=query, state=state, found=found, link=link)


@bp.post("/users/<username>/<action>")
@web.rate_limit("action", "changes")
async def user_action(username: str, action: str):
    if action not in ("deactivate", "reactivate", "promote", "demote", "reset"):
        raise Refused(404, i18n.gettext("There is no such action."), i18n.gettext("Not found"))
    user = await _person(username)
    rt = current()
    try:
        if action == "deactivate":
            if not user.is_active:
                await flash(i18n.gettext("@%(username)s is already deactivated.", username=user.username))
            else:
                await enforce.deactivate(rt, g.user, user)
                await flash(i18n.gettext("@%(username)s was deactivated: signed out everywhere, their messages kept.",
                                         username=user.username))
        elif action == "reactivate":
            if await service.reactivate(g.user, user):
                await flash(i18n.gettext("@%(username)s can sign in again.", username=user.username))
        elif action in ("promote", "demote"):
            if await service.set_admin(g.user, user, action == "promote"):
                if action == "promote":
                    await flash(i18n.gettext("@%(username)s is now an administrator.", username=user.username))
                else:
                    await flash(i18n.gettext("@%(username)s is no longer an administrator.", username=user.username))
        else:
            if not user.is_active:
                raise Refused(409, i18n.gettext("Reactivate the account before making a password-reset link for it."),
                              i18n.gettext("Account deactivated"))
            token = await service.create_reset(g.user, user)
            _show_once(f"{request.host_url.rstrip('/')}/reset/{token}")
    except NotAllowed as refusal:
        raise Refused(409, str(refusal), i18n.gettext("Not allowed")) from None
    return web.see_other(f"/admin/users?q={user.username}")


# --- rooms ------------------------------------------------------------------------------------

async def _room(room_id: str) -> Room:
    room = await Room.get_or_none(id=parse_id(room_id))
    if room is None or room.kind == "direct":
        raise Refused(404, i18n.gettext("There is no such room. It may have been removed."),
                      i18n.gettext("Room not found"))
    return room


@bp.get("/rooms")
async def rooms_page():
    query = _arg("q", 80)
    rows, more = await service.rooms(_page_number(), query)
    return await render_template("admin/rooms.html", rows=rows, more=more, query=query, page=_page_number())


@bp.post("/rooms/<room_id>/archive")
@bp.post("/rooms/<room_id>/unarchive")
@web.rate_limit("action", "changes")
async def archive_room(room_id: str):
    room = await _room(room_id)
    archive = request.path.endswith("/archive")
    if room.archived != archive:
        await Room.filter(id=room.id).update(archived=archive)
        await audit.record(g.user, "room.archive" if archive else "room.unarchive", f"room #{room.id} ({room.name})")
        if archive:
            await flash(i18n.gettext("“%(name)s” is archived: read-only.", name=room.name))
        else:
            await flash(i18n.gettext("“%(name)s” is open for posting again.", name=room.name))
    return web.see_other("/admin/rooms")


@bp.get("/rooms/<room_id>/delete")
async def delete_room_page(room_id: str):
    room = await _room(room_id)
    return await render_template("admin/delete_room.html", room=room, errors=web.FormErrors(), typed="",
                                 action=f"/admin/rooms/{room.id}/delete")


@bp.post("/rooms/<room_id>/delete")
@web.rate_limit("action", "changes")
async def delete_room(room_id: str):
    room = await _room(room_id)
    typed = web.form().get("confirm", "")
    if typed.strip() != room.name:
        errors = web.FormErrors()
        errors.add("confirm-name", i18n.gettext("Type the room's name exactly as shown to delete it."))
        return await render_template("admin/delete_room.html", room=room, errors=errors, typed=typed[:200],
                                     action=f"/admin/rooms/{room.id}/delete"), 422
    await enforce.delete_room(current(), g.user, room)
    await flash(i18n.gettext("“%(name)s” was deleted.", name=room.name))
    return web.see_other("/admin/rooms")


# --- invitations ------------------------------------------------------------------------------

@bp.get("/invites")
async def invites_page():
    return await _invites(web.FormErrors(), {"days": "7", "uses": "1"})


def _show_once(link: str) -> None:
    """A link made just now, for the page the post redirects to (post/redirect/get) and no other:
    kept in this browser's signed session cookie until that page shows it."""
    session["shown_once"] = link


def _take_shown() -> str | None:
    return session.pop("shown_once", None)


async def _invites(errors, values, status=200):
    link = _take_shown()
    mine = None if g.user.is_admin else g.user.id
    body = await render_template("admin/invites.html", invites=await service.invites(made_by=mine), errors=errors,
                                 values=values, link=link, now=service.now(), site=await _site(),
                                 action="/admin/invites" if mine is None else "/invites")
    return body, status


@members_bp.get("/invites")
async def member_invites_page():
    await _members_may_invite()
    return await _invites(web.FormErrors(), {"days": "7", "uses": "1"})


@members_bp.post("/invites")
@web.rate_limit("action", "changes")
async def member_create_invite():
    await _members_may_invite()
    return await _make_invite()


@members_bp.post("/invites/<invite_id>/revoke")
@web.rate_limit("action", "changes")
async def member_revoke_invite(invite_id: str):
    await _members_may_invite()
    if await service.revoke_invite(g.user, parse_id(invite_id), made_by=g.user.id):
        await flash(i18n.gettext("The invitation was revoked: its link no longer works."))
    return web.see_other("/invites")


async def _members_may_invite() -> None:
    if not g.user.is_admin and not (await _site()).member_invites:
        raise Refused(403, i18n.gettext("Only the site's administrators make invitation links here."),
                      i18n.gettext("Administrators only"))


@bp.post("/invites")
@web.rate_limit("action", "changes")
async def create_invite():
    return await _make_invite()


async def _make_invite():
    form = web.form()
    values = {"days": form.get("days", "").strip()[:10], "uses": form.get("uses", "").strip()[:10]}
    days, uses = whole_number(values["days"], INVITE_MAX_DAYS), whole_number(values["uses"], INVITE_MAX_USES)
    errors = web.FormErrors()
    if not days:
        errors.add("invite-days", i18n.gettext("Enter a number of days from 1 to %(max)s.", max=INVITE_MAX_DAYS))
    if not uses:
        errors.add("invite-uses", i18n.gettext("Enter a number of uses from 1 to %(max)s.", max=INVITE_MAX_USES))
    if errors:
        return await _invites(errors, values, status=422)
    token = await service.create_invite(g.user, days, uses)
    _show_once(f"{request.host_url.rstrip('/')}/join/{token}")
    return web.see_other("/admin/invites" if request.path.startswith("/admin") else "/invites")


@bp.post("/invites/<invite_id>/revoke")
@web.rate_limit("action", "changes")
async def revoke_invite(invite_id: str):
    if await service.revoke_invite(g.user, parse_id(invite_id)):
        await flash(i18n.gettext("The invitation was revoked: its link no longer works."))
    return web.see_other("/admin/invites")


# --- reports ----------------------------------------------------------------------------------

@bp.get("/reports")
async def reports_page():
    status = request.args.get("status", "open")
    if status not in ("open", "resolved", "dismissed"):
        status = "open"
    return await render_template("admin/reports.html", reports=await service.reports(status), status=status)


@bp.post("/reports/<report_id>/<outcome>")
@web.rate_limit("action", "changes")
async def close_report(report_id: str, outcome: str):
    if outcome not in ("resolve", "dismiss"):
        raise Refused(404, i18n.gettext("There is no such action."), i18n.gettext("Not found"))
    closed = await service.close_report(g.user, parse_id(report_id), "resolved" if outcome == "resolve" else "dismissed")
    if closed is None:
        raise Refused(409, i18n.gettext("That report is not open: someone handled it already."),
                      i18n.gettext("Already handled"))
    if outcome == "resolve":
        # Resolving removes the reported message (the tombstone names the administrators).
        message = await Message.get(id=closed.message_id).select_related("author")
        if not message.deleted:
            await enforce.remove_message(current(), message, "an administrator")
        await flash(i18n.gettext("The report was resolved and the message removed."))
    else:
        await flash(i18n.gettext("The report was dismissed; the message stays."))
    return web.see_other("/admin/reports")


# --- the audit log ----------------------------------------------------------------------------

@bp.get("/audit")
async def audit_page():
    action = _arg("action", 40)
    who = _arg("who", 64)
    target = _arg("target", 64)
    found = await audit.entries(_page_number(), action, who, target)
    return await render_template("admin/audit.html", found=found, action=action, who=who, target=target)
