"""Post, edit, delete and page back through messages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from quart import Blueprint, g, render_template, request

from webchat import enforce, i18n, web
from webchat.accounts.people import blocked_usernames
from webchat.admin import audit
from webchat.emoji import clean_emoji
from webchat.files import service as files
from webchat.files import uploads
from webchat.messages import broadcasts, notices, reactions, service
from webchat.messages.service import NONCE_MAX, clean_body
from webchat.refusals import Refused
from webchat.rooms import broadcasts as room_broadcasts
from webchat.rooms import service as rooms
from webchat.rooms.page import reply_state, room_page
from webchat.rooms.service import parse_id
from webchat.runtime import current
from webchat.search.query import parse_day

bp = Blueprint("messages", __name__)
NONCE = re.compile(r"[\x21-\x7e]+")


@bp.get("/mentions")
async def mentions_page():
    """Messages that mention the reader or answer theirs, newest first, a page at a time (`before`:
    a notice id). The unseen ones are marked on the page as it is shown, then count as seen."""
    before = rooms.whole_number(request.args.get("before", "")) if request.args.get("before") else None
    shown, more = await notices.for_user(g.user, before=before)
    titles = {e.room.id: e.title for e in await rooms.rooms_of(g.user)}
    unseen = [n.id for n in shown if n.seen_at is None]
    if await notices.mark_seen(g.user, ids=unseen):
        await room_broadcasts.mention_counts(current(), g.user.id, sorted({n.room_id for n in shown}))
    return await render_template(
        "messages/mentions.html", shown=shown, more=more, titles=titles, unseen=len(unseen),
        older=shown[-1].id if more and shown else None, paged=before is not None,
        unread_left=await notices.unread_total(g.user),
    )


@bp.post("/rooms/<room_id>/messages")
@web.rate_limit("post", "messages")
async def post_message(room_id: str):
    found = await rooms.require_member(parse_id(room_id), g.user)
    room = found.room
    form = web.form()
    sent = await uploads.incoming()
    body, problem = clean_body(form.get("body", ""))
    if problem and sent and not body.strip():
        body, problem = "", None  # files alone are a message
    nonce = form.get("nonce", "")[:NONCE_MAX] or None
    if nonce and not NONCE.fullmatch(nonce):
        nonce = None  # not one our composer made (it sends URL-safe text): no de-duplication
    reply_to = None
    if not problem:
        try:
            reply_to = await service.reply_target(room, form.get("reply_to"))
        except service.ReplyRefused as refusal:
            problem = str(refusal)
    if problem:
        return await _composer_error(room, form.get("body", ""), problem, reply_to=form.get("reply_to"))
    try:
        prepared = await uploads.take(sent, form)
    except files.FileProblem as refusal:
        return await _composer_error(room, form.get("body", ""), str(refusal), refusal.status, refusal.field,
                                     reply_to=form.get("reply_to"))
    try:
        message, event = await service.post(room, g.user, body, nonce, tuple(prepared), reply_to)
    except service.ReplyRefused as refusal:  # the original was deleted meanwhile
        await uploads.give_back(prepared)
        return await _composer_error(room, form.get("body", ""), str(refusal))
    except Exception:
        await uploads.give_back(prepared)
        raise
    if event is None:
        await uploads.give_back(prepared)  # a double submit: the first one has its own files
    else:
        await broadcasts.message_event(current(), message, event)
    if web.is_htmx():
        # The message itself arrives through the stream, in every tab, the sender's too.
        return await render_template("messages/_composer.html", composer=web.composer(room.id))
    return web.see_other(f"/rooms/{room.id}#m-{message.id}")


async def _composer_error(room, body: str, problem: str, status: int = 422, field: str = "composer-body",
                          reply_to: str | None = None):
    try:
        original = await service.reply_target(room, reply_to)
    except service.ReplyRefused:
        original = None  # the problem being shown already says so, or the reply is dropped
    composer = web.composer(room.id, body, None if field != "composer-body" else problem, reply=reply_state(original))
    if field != "composer-body":
        # A problem with the files: the attachment fields show it (the files must be chosen again).
        composer.update(files_error=problem, files_field=field)
    # The descriptions already written are kept in their numbered fields (the files cannot be).
    composer.update(alts=files.descriptions(web.form(), files.MAX_FILES))
    if web.is_htmx():
        # A fresh composer to swap in (htmx puts other errors beside the composer instead).
        return await render_template("messages/_composer.html", room=room, composer=composer), 422
    errors = web.FormErrors()
    errors.add(field, problem)
    return await room_page(await rooms.access(room.id, g.user), composer, errors), status


@bp.get("/rooms/<room_id>/messages")
async def history_page(room_id: str):
    """A page of history: before a message (`before=MID`, older pages), after one (`after=MID`,
    from a permanent link), or opened at a day (`date=YYYY-MM-DD`, from "Jump to date")."""
    found = await rooms.access(parse_id(room_id), g.user)
    args = request.args
    before, after = _message_number(args, "before"), _message_number(args, "after")
    day = None
    more = more_newer = False
    errors = web.FormErrors()
    if "date" in args:
        day = parse_day(args["date"].strip())
        if day is None:
            errors.add("jump-date", i18n.gettext("Give a date as YYYY-MM-DD, such as 2026-11-30."))
            history, more = await service.history(found.room)
        else:
            history, more, more_newer = await service.from_day(found.room, day, zone=web.reader_clock().tz)
    elif after is not None:
        history, more_newer = await service.newer(found.room, after)
    else:
        history, more = await service.history(found.room, before)
    template = "messages/_history.html" if web.is_htmx() and day is None else "messages/history.html"
    html = await render_template(
        template,
        room=found.room,
        title=await rooms.display_name(found.room, g.user),
        messages=history,
        more=more,
        more_newer=more_newer,
        before=before,
        after=after,
        day=day,
        jump_value=args.get("date", ""),
        errors=errors,
        is_owner=found.owner(g.user),
        can_moderate=found.moderates(g.user),
        blocked=await blocked_usernames(g.user),
    )
    return html, 422 if errors else 200


def _message_number(args, name: str) -> int | None:
    raw = args.get(name, "")
    if not raw:
        return None
    number = rooms.whole_number(raw)
    if number is None:
        raise Refused(400, i18n.gettext("%(name)s must be a message number.", name=name),
                      i18n.gettext("Bad message number"))
    return number


async def _own_message(room_id: str, message_id: str):
    found = await rooms.access(parse_id(room_id), g.user)
    message = await service.get_message(found.room, parse_id(message_id))
    if message is None:
        raise Refused(404, i18n.gettext("There is no such message in this room."), i18n.gettext("Message not found"))
    return found, message


@bp.get("/rooms/<room_id>/messages/<message_id>")
async def show_message(room_id: str, message_id: str):
    """The message's permanent link: the room page around it. For htmx, the message alone (an
    edit form cancelled puts it back)."""
    found, message = await _own_message(room_id, message_id)
    if not web.is_htmx():
        return await room_page(found, around=message.id)
    return await _in_place(message)


@bp.get("/rooms/<room_id>/messages/<message_id>/replies")
async def replies(room_id: str, message_id: str):
    """A message's "N replies": the message, then its replies oldest first, a page at a time
    (`after`: the last reply shown), each with a link to it in the conversation. Readable by
    whoever may read the message's permanent link."""
    found, message = await _own_message(room_id, message_id)
    after = _message_number(request.args, "after")
    shown, more = await service.replies(message, after)
    return await render_template(
        "messages/replies.html",
        room=found.room,
        title=await rooms.display_name(found.room, g.user),
        original=message,
        replies=shown,
        more=more,
        after=after,
        total=await service.reply_total(message),
        is_owner=found.owner(g.user),
        can_moderate=found.moderates(g.user),
        blocked=await blocked_usernames(g.user),
    )


@bp.get("/rooms/<room_id>/messages/<message_id>/edit")
async def edit_page(room_id: str, message_id: str):
    found, message = await _own_message(room_id, message_id)
    return await _edit_form(found, message, message.body, None, 200)


async def _edit_form(found, message, body, problem, status, alt_problem=None, form=None):
    author = message.author_id == g.user.id
    if message.deleted:
        raise Refused(410, i18n.gettext("This message was deleted; it can no longer be changed."),
                      i18n.gettext("Message deleted"))
    if not author and not found.moderates(g.user):
        raise Refused(403, i18n.gettext("Only the author can edit a message, and the author or the room's owner or "
                                        "moderators delete it."))
    errors = web.FormErrors()
    if problem:
        errors.add("edit-body", problem)
    if alt_problem:
        errors.add(*alt_problem)
    template = "messages/_edit.html" if web.is_htmx() else "messages/edit.html"
    html = await render_template(
        template, room=found.room, message=message, body=body, errors=errors, can_edit=author, sent=form,
        title=await rooms.display_name(found.room, g.user),
    )
    return html, status


@bp.get("/rooms/<room_id>/messages/<message_id>/delete")
async def delete_page(room_id: str, message_id: str):
    """Asks once before deleting: in place (htmx), or as a page of its own."""
    found, message = await _own_message(room_id, message_id)
    if message.deleted:
        raise Refused(410, i18n.gettext("This message was deleted already."), i18n.gettext("Message deleted"))
    if message.author_id != g.user.id and not found.moderates(g.user):
        raise Refused(403, i18n.gettext("Only the author or the room's owner or moderators can delete a message."),
                      i18n.gettext("Not allowed"))
    template = "messages/_confirm_delete.html" if web.is_htmx() else "messages/delete.html"
    return await render_template(
        template, room=found.room, message=message, title=await rooms.display_name(found.room, g.user),
    )


@bp.post("/rooms/<room_id>/messages/<message_id>/edit")
@web.rate_limit("post", "messages")
async def edit(room_id: str, message_id: str):
    found, message = await _own_message(room_id, message_id)
    if message.author_id != g.user.id:
        raise Refused(403, i18n.gettext("Only the author can edit a message."), i18n.gettext("Not your message"))
    if message.deleted:
        raise Refused(410, i18n.gettext("This message was deleted; it can no longer be edited."),
                      i18n.gettext("Message deleted"))
    await rooms.require_member(found.room.id, g.user)  # an archived room, or a mute, stops edits too
    form = web.form()
    raw = form.get("body", "")
    body, problem = clean_body(raw)
    if problem and message.files and not body.strip():
        body, problem = "", None  # a message of files alone may lose its words
    described, alt_problem = _descriptions(message, form)
    if problem or alt_problem:
        return await _edit_form(found, message, raw, problem, 422, alt_problem, form)
    described = await files.set_descriptions(message, described)
    if body != message.body or described:
        event = await service.update(message, body)
        await broadcasts.message_event(current(), message, event)
    return await _after_change(found.room, message)


def _descriptions(message, form) -> tuple[dict[int, tuple[str, bool]], tuple[str, str] | None]:
    """The edit form's image descriptions (`alt-ID`, `decorative-ID`), and the first problem with
    them as (field id, message)."""
    changes = {}
    for item in message.files or []:
        if not item["image"] or f"alt-{item['id']}" not in form:
            continue
        alt = form.get(f"alt-{item['id']}", "").strip()
        decorative = form.get(f"decorative-{item['id']}") == "1" and not alt
        if len(alt) > files.ALT_MAX:
            return {}, (f"edit-alt-{item['id']}", files.descriptions_too_long())
        if not alt and not decorative:
            return {}, (f"edit-alt-{item['id']}", i18n.gettext(
                "Describe the image for people who cannot see it, or mark it decorative."))
        changes[item["id"]] = (alt, decorative)
    return changes, None


@bp.post("/rooms/<room_id>/messages/<message_id>/delete")
@web.rate_limit("action", "changes")
async def delete(room_id: str, message_id: str):
    found, message = await _own_message(room_id, message_id)
    if message.author_id != g.user.id and not found.moderates(g.user):
        raise Refused(403, i18n.gettext("Only the author or the room's owner or moderators can delete a message."),
                      i18n.gettext("Not allowed"))
    if not message.deleted and message.author_id != g.user.id:
        # Moderation: the tombstone says who removed it, and the audit log keeps it.
        role = "the owner" if found.owner(g.user) else "a moderator"
        await audit.record(g.user, "message.remove", f"message #{message.id} in room #{found.room.id}",
                           f"by @{message.author.username}")
        await enforce.remove_message(current(), message, f"{role}, {g.user.display_name}"[:64])
    elif not message.deleted:
        event = await service.update(message, None)
        await broadcasts.message_event(current(), message, event)
    return await _after_change(found.room, message)


async def _after_change(room, message):
    if web.is_htmx():
        return await _in_place(message), 200
    return web.see_other(f"/rooms/{room.id}#m-{message.id}")


async def _in_place(message) -> str:
    """The message as htmx puts it back into its item after an edit, a deletion or a cancel. On the
    replies page it came from (htmx names the page in HX-Current-URL), a reply keeps that page's
    link to it in the conversation."""
    html = str(current().renderer.message(message))  # Markup would escape the link added to it
    page = urlsplit(request.headers.get("HX-Current-URL", "")).path
    if message.reply_to_id is None or page != f"/rooms/{message.room_id}/messages/{message.reply_to_id}/replies":
        return html
    end = html.rindex("</li>")
    link = await render_template("messages/_in_conversation.html", room_id=message.room_id, message_id=message.id)
    return html[:end] + link + "\n" + html[end:]  # Jinja drops a template's last newline


@bp.get("/rooms/<room_id>/messages/<message_id>/reactions")
async def reactions_page(room_id: str, message_id: str):
    """Any emoji, by a form of its own (every message offers the quick six in place)."""
    found, message = await _own_message(room_id, message_id)
    if message.deleted:
        raise Refused(410, i18n.gettext("This message was deleted; it can no longer get reactions."),
                      i18n.gettext("Message deleted"))
    return await _reactions_form(found, message, "", None, 200)


async def _reactions_form(found, message, emoji, problem, status):
    errors = web.FormErrors()
    if problem:
        errors.add("reaction-emoji", problem)
    html = await render_template(
        "messages/reactions.html", room=found.room, message=message, emoji=emoji, errors=errors,
        title=await rooms.display_name(found.room, g.user),
    )
    return html, status


@bp.post("/rooms/<room_id>/messages/<message_id>/reactions")
@web.rate_limit("action", "changes")
async def react(room_id: str, message_id: str):
    """Toggle the reader's reaction. Readers of the room may react (as they may read it). The
    change reaches every tab through the stream, the reader's too: htmx gets 204."""
    found, message = await _own_message(room_id, message_id)
    if message.deleted:
        raise Refused(410, i18n.gettext("This message was deleted; it can no longer get reactions."),
                      i18n.gettext("Message deleted"))
    raw = web.form().get("emoji", "")
    emoji, problem = clean_emoji(raw)
    if problem is None:
        try:
            event = await reactions.toggle(message, g.user, emoji)
        except reactions.ReactionRefused as refusal:
            problem = str(refusal)
        else:
            await broadcasts.message_event(current(), message, event)
            if web.is_htmx():
                return "", 204
            return web.see_other(f"/rooms/{found.room.id}/messages/{message.id}")
    if web.is_htmx():
        raise Refused(422, problem, i18n.gettext("Reaction not given"))
    return await _reactions_form(found, message, raw, problem, 422)
