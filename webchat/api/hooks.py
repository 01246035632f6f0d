"""Incoming webhooks: POST /hooks/TOKEN (Slack-compatible), and the room's page that lists,
creates and revokes them (/rooms/ID/hooks, for the room's members)."""

from __future__ import annotations

from quart import Blueprint, Response, flash, g, render_template, request

from webchat import i18n, web
from webchat.api import incoming, outgoing
from webchat.messages import broadcasts, service
from webchat.messages.service import clean_body
from webchat.refusals import Refused, SlowDown
from webchat.rooms import service as rooms
from webchat.rooms.service import parse_id
from webchat.runtime import current
from webchat.security import read_form

bp = Blueprint("hooks", __name__)
HOOK_TYPES = ("application/json", "application/x-www-form-urlencoded")


async def _page(found, errors=None, made=None, name="", status=200, made_out=None, url=""):
    body = await render_template(
        "api/hooks.html", room=found.room, title=await rooms.display_name(found.room, g.user),
        hooks=await incoming.of_room(found.room), errors=errors or web.FormErrors(), made=made, name=name,
        is_owner=found.owner(g.user), hook_url=request.host_url.rstrip("/") + "/hooks/",
        outgoing=await outgoing.of_room(found.room), made_out=made_out, url=url,
    )
    return body, status


@bp.get("/rooms/<room_id>/hooks")
async def hooks_page(room_id: str):
    return await _page(await rooms.require_member(parse_id(room_id), g.user))


@bp.post("/rooms/<room_id>/hooks")
@web.rate_limit("action", "changes")
async def create_hook(room_id: str):
    found = await rooms.require_member(parse_id(room_id), g.user)
    name = web.form().get("name", "")
    try:
        made = await incoming.create(found.room, g.user, name)
    except incoming.HookError as error:
        errors = web.FormErrors()
        errors.add("hook-name", str(error))
        return await _page(found, errors, name=name, status=422)
    return await _page(found, made=made)  # the URL is shown on this answer only


@bp.post("/rooms/<room_id>/hooks/<hook_id>/revoke")
@web.rate_limit("action", "changes")
async def revoke_hook(room_id: str, hook_id: str):
    found = await rooms.require_member(parse_id(room_id), g.user)
    hooks = {hook.id: hook for hook in await incoming.of_room(found.room)}
    hook = hooks.get(parse_id(hook_id))
    if hook is None:
        raise Refused(404, i18n.gettext("This room has no such webhook."), i18n.gettext("Webhook not found"))
    if hook.creator_id != g.user.id and not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the webhook's maker or the room's owner can revoke it."),
                      i18n.gettext("Not allowed"))
    await incoming.revoke(hook)
    await flash(i18n.gettext("The webhook “%(name)s” was revoked: its URL no longer works.", name=hook.name))
    return web.see_other(f"/rooms/{found.room.id}/hooks")


@bp.post("/hooks/<secret>")
async def receive(secret: str):
    """A Slack-style post: JSON {"text": "…"} or a form with payload={"text": "…"}; 200 "ok"."""
    hook = await incoming.find(secret)
    if hook is None:
        raise Refused(404, i18n.gettext("There is no webhook at this address (it may have been revoked)."),
                      i18n.gettext("Not Found"))
    rt = current()
    if wait := await rt.limiter.hit(f"hook:{hook.id}", rt.limits["post"]):
        raise SlowDown(wait, "posts to this webhook")
    if request.mimetype not in HOOK_TYPES:
        raise Refused(415, i18n.gettext("Send application/json, or a form with payload=."),
                      i18n.gettext("Unsupported Media Type"))
    payload = None
    if request.mimetype == "application/x-www-form-urlencoded":
        form = await _form()
        payload = form.get("payload")
    raw = await request.get_data(as_text=False) if request.mimetype == "application/json" else b""
    try:
        text = incoming.slack_text(request.mimetype, raw, payload)
    except incoming.HookError as error:
        raise _invalid(str(error)) from None
    body, problem = clean_body(text)
    if problem:
        raise _invalid(problem)
    message, event = await service.post(hook.room, hook.bot, body, None)
    if event is not None:
        await broadcasts.message_event(rt, message, event)
    return Response("ok", 200, {"Content-Type": "text/plain; charset=utf-8"})


async def _form() -> dict:
    form = await read_form()
    if form is None:
        raise Refused(400, i18n.gettext("The form is not valid UTF-8."), i18n.gettext("Bad Request"))
    return form


def _invalid(message: str) -> Refused:
    refused = Refused(422, message, i18n.gettext("Unprocessable Content"))
    refused.field = "text"
    return refused


@bp.post("/rooms/<room_id>/hooks/out")
@web.rate_limit("action", "changes")
async def register_outgoing(room_id: str):
    """The room's owner registers a URL that every new message is POSTed to."""
    found = await rooms.require_member(parse_id(room_id), g.user)
    if not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the room's owner can add outgoing webhooks."),
                      i18n.gettext("Owners only"))
    url = web.form().get("url", "")
    settings = current().settings
    try:
        hook = await outgoing.register(found.room, g.user.id, url, production=settings.production,
                                       allow_private=settings.webhook_private)
    except outgoing.HookUrlError as error:
        errors = web.FormErrors()
        errors.add("out-url", str(error))
        return await _page(found, errors, url=url, status=422)
    return await _page(found, made_out=hook)  # its secret is shown on this answer only


async def _outgoing(room_id: str, hook_id: str):
    found = await rooms.require_member(parse_id(room_id), g.user)
    if not found.owner(g.user):
        raise Refused(403, i18n.gettext("Only the room's owner can see and change its outgoing webhooks."),
                      i18n.gettext("Owners only"))
    hook = {h.id: h for h in await outgoing.of_room(found.room)}.get(parse_id(hook_id))
    if hook is None:
        raise Refused(404, i18n.gettext("This room has no such outgoing webhook."), i18n.gettext("Webhook not found"))
    return found, hook


@bp.post("/rooms/<room_id>/hooks/out/<hook_id>/revoke")
@web.rate_limit("action", "changes")
async def revoke_outgoing(room_id: str, hook_id: str):
    found, hook = await _outgoing(room_id, hook_id)
    await outgoing.revoke(hook)
    await flash(i18n.gettext("The outgoing webhook was removed: nothing more is sent to it."))
    return web.see_other(f"/rooms/{found.room.id}/hooks")


@bp.get("/rooms/<room_id>/hooks/out/<hook_id>")
async def deliveries(room_id: str, hook_id: str):
    """The last 50 deliveries of an outgoing webhook, with their status."""
    found, hook = await _outgoing(room_id, hook_id)
    return await render_template("api/deliveries.html", room=found.room, hook=hook,
                                 title=await rooms.display_name(found.room, g.user),
                                 deliveries=await outgoing.recent(hook))
