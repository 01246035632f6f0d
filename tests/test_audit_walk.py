"""Every administrative and moderation action is written to the audit log: a walk through every
form route of administration, invitations, room moderation and membership (and a moderator's
removal of a message), each checked to leave exactly its entry. A new route in those areas fails
here until it is walked, so nothing is left out of the log by forgetting.

What people do for themselves is not administration and is not logged: blocking someone is
private to the person who blocks (administrators do not see who blocks whom)."""

from __future__ import annotations

import re

from webchat.models import AuditEntry, Invite, Message, Report

# Blueprints whose every POST route is an administrative or moderation action.
AUDITED_BLUEPRINTS = ("admin", "invites", "moderation")
# Other routes that are one when someone acts on another person's membership or message.
AUDITED_ELSEWHERE = {"/rooms/<room_id>/members", "/rooms/<room_id>/members/<username>/remove",
                     "/rooms/<room_id>/messages/<message_id>/delete"}


def _rule(path: str, rules: set[str]) -> str:
    for rule in rules:
        if re.fullmatch(re.sub(r"<[^>]+>", "[^/]+", rule), path):
            return rule
    raise AssertionError(f"{path} is not an audited route")


async def test_every_administrative_and_moderation_action_is_logged(app, no_limits, ana, ben, cleo):
    rules = {r.rule for r in app.url_map.iter_rules() if "POST" in r.methods
             and (r.endpoint.split(".")[0] in AUDITED_BLUEPRINTS or r.rule in AUDITED_ELSEWHERE)}
    walked: set[str] = set()
    logged: list[str] = []

    async def act(who, path: str, form: dict | None, action: str) -> None:
        newest = await AuditEntry.all().order_by("-id").first()
        page = await who.post(path, form or {})
        assert page.status == 303, (path, page.status, page.text[:300])
        entries = await AuditEntry.filter(id__gt=newest.id if newest else 0).order_by("id")
        assert [e.action for e in entries] == [action], (path, [e.action for e in entries])
        assert entries[0].actor_name.endswith(f"(@{who.username})") and entries[0].target, path
        walked.add(_rule(path, rules))
        logged.append(action)

    town = await ana.create_room("Town")
    den = await ana.create_room("Den", visibility="private")
    for who in (ben, cleo):
        await who.post(f"/rooms/{town}/join")
    said = await cleo.say(town, "worth a report")
    mid = int(said.location.rsplit("-", 1)[1])

    # Administration (Ana made the instance: its administrator).
    await act(ana, "/admin/site", {"name": "Town hall", "welcome": "Hello", "registration": "open",
                                   "member_invites": "1"}, "site.update")
    await act(ana, "/admin/users/ben/promote", None, "admin.grant")
    await act(ana, "/admin/users/ben/demote", None, "admin.revoke")
    await act(ana, "/admin/users/cleo/reset", None, "user.reset_link")
    await act(ana, "/admin/invites", {"days": "7", "uses": "1"}, "invite.create")
    invite = await Invite.all().order_by("-id").first()
    await act(ana, f"/admin/invites/{invite.id}/revoke", None, "invite.revoke")
    await act(ben, "/invites", {"days": "7", "uses": "1"}, "invite.create")
    invite = await Invite.all().order_by("-id").first()
    await act(ben, f"/invites/{invite.id}/revoke", None, "invite.revoke")
    for outcome in ("dismiss", "resolve"):
        await act(ben, f"/rooms/{town}/messages/{mid}/report", {"reason": "spam"}, "report.create")
        report = await Report.all().order_by("-id").first()
        await act(ana, f"/admin/reports/{report.id}/{outcome}", None, f"report.{outcome}")

    # Room moderation.
    await act(ana, f"/rooms/{town}/settings", {"name": "Town square", "topic": "news", "visibility": "public"},
              "room.settings")
    await act(ana, f"/rooms/{town}/moderators", {"username": "ben"}, "room.moderator")
    await act(ana, f"/rooms/{town}/moderators/ben/remove", None, "room.unmoderator")
    await act(ana, f"/rooms/{town}/moderation/cleo/mute", {"minutes": "10"}, "room.mute")
    await act(ana, f"/rooms/{town}/moderation/cleo/unmute", None, "room.unmute")
    await act(ana, f"/rooms/{town}/moderation/cleo/remove", None, "room.remove")
    await act(ana, f"/rooms/{town}/moderation/cleo/ban", None, "room.ban")
    await act(ana, f"/rooms/{town}/moderation/cleo/unban", None, "room.unban")
    await ben.say(town, "a moderator removes this")
    other = await Message.filter(room_id=town).order_by("-id").first()
    await act(ana, f"/rooms/{town}/messages/{other.id}/delete", None, "message.remove")
    await act(ana, f"/rooms/{town}/archive", None, "room.archive")
    await act(ana, f"/rooms/{town}/unarchive", None, "room.unarchive")
    await act(ana, f"/rooms/{town}/transfer", {"username": "ben"}, "room.transfer")
    await act(ben, f"/rooms/{town}/delete", {"confirm": "Town square"}, "room.delete")
    # A private room's members, by its owner.
    await act(ana, f"/rooms/{den}/members", {"username": "cleo"}, "room.add")
    await act(ana, f"/rooms/{den}/members/cleo/remove", None, "room.remove")
    # Rooms and accounts, by the administrator.
    await act(ana, f"/admin/rooms/{den}/archive", None, "room.archive")
    await act(ana, f"/admin/rooms/{den}/unarchive", None, "room.unarchive")
    await act(ana, f"/admin/rooms/{den}/delete", {"confirm": "Den"}, "room.delete")
    await act(ana, "/admin/users/cleo/deactivate", None, "user.deactivate")
    await act(ana, "/admin/users/cleo/reactivate", None, "user.reactivate")

    assert walked == rules, f"routes not walked (is their action logged?): {sorted(rules - walked)}"
    page = await ana.get("/admin/audit")
    for action in set(logged):
        assert action in page.text
