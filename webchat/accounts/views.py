"""Register, sign in, sign out (here or everywhere), the reader's settings, and the people
directory (with the name suggestions of the fields that name a person)."""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, flash, g, render_template, request
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from webchat import enforce, i18n, web
from webchat.accounts.names import USERNAME, find_user, hidden_characters, search_people
from webchat.accounts.people import time_zones
from webchat.accounts.passwords import (
    WAIT_SECONDS,
    Busy,
    hash_password,
    too_common,
    verify_password,
)
from webchat.accounts.sessions import known_device, remember_device, sign_in, sign_out
from webchat.admin import audit, site
from webchat.admin import service as admin
from webchat.clock import valid_zone
from webchat.models import ANNOUNCE_CHOICES, CLOCK_CHOICES, User
from webchat.refusals import Refused, SlowDown
from webchat.rooms import broadcasts
from webchat.runtime import current
from webchat.security import browser_id
from webchat.streams import revoking

bp = Blueprint("accounts", __name__)

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_DISPLAY_NAME = 64


async def _registration() -> str:
    """open, invite or closed. An empty instance is always open: its first account runs it."""
    mode = (await site.settings(current().settings.registration)).registration
    if mode != "open" and not await User.exists():
        return "open"
    return mode


@bp.route("/register", methods=["GET", "POST"])
@web.rate_limit("register", "registration attempts from your address", by_address=True)
async def register():
    mode = await _registration()
    if mode != "open":
        body = await render_template("accounts/register_closed.html", mode=mode)
        return body, 200 if request.method == "GET" else 403
    if request.method == "GET":
        return await _register_form({}, web.FormErrors(), status=200)
    return await _new_account()


@bp.route("/join/<token>", methods=["GET", "POST"])
@web.rate_limit("register", "registration attempts from your address", by_address=True)
async def join_by_invitation(token: str):
    """An invitation link: the registration form, open whatever the registration mode."""
    if g.user is not None:
        await flash(i18n.gettext("You already have an account: invitation links are for new people."))
        return web.see_other("/rooms")
    invite = await admin.valid_invite(token)
    if invite is None:
        raise Refused(404, i18n.gettext("This invitation link does not work: it has expired, been used up or "
                                        "been revoked. Ask whoever sent it for a new one."),
                      i18n.gettext("Invitation not valid"))
    if request.method == "GET":
        return await _register_form({}, web.FormErrors(), status=200, invite=token)
    return await _new_account(invite, token)


async def _new_account(invite=None, token: str | None = None):
    form = web.form()
    values = {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", "").strip(),
    }
    password = form.get("password", "")
    errors = web.FormErrors()
    if not USERNAME.fullmatch(values["username"]):
        errors.add("username", i18n.gettext("Choose a username of 3 to 32 letters, digits, “_”, “-” or “.”."))
    if len(values["display_name"]) > MAX_DISPLAY_NAME:
        errors.add("display_name", i18n.gettext("Keep the display name to %(most)s characters or fewer.",
                                                most=MAX_DISPLAY_NAME))
    elif hidden_characters(values["display_name"]):
        errors.add("display_name", i18n.gettext("The display name cannot contain invisible, control or "
                                                "direction-changing characters."))
    _check_new_password(password, values["username"], errors, "password")
    if not errors and await User.filter(username_key=values["username"].lower()).exists():
        errors.add("username", i18n.gettext("That username is taken. Choose another."))
    if errors:
        return await _register_form(values, errors, invite=token)
    try:
        password_hash = await hash_password(password)
    except Busy:
        raise SlowDown(WAIT_SECONDS, "people signing up at this moment") from None
    try:
        async with in_transaction() as conn:
            if invite is not None and not await admin.spend_invite(invite, conn):
                raise Refused(410, i18n.gettext("This invitation link was used up or revoked a moment ago. Ask "
                                                "for a new one."), i18n.gettext("Invitation not valid"))
            user = await User.create(
                username=values["username"],
                username_key=values["username"].lower(),
                display_name=values["display_name"] or values["username"],
                password_hash=password_hash,
                using_db=conn,
            )
            if invite is not None:
                await audit.record(user, "invite.use", f"invite #{invite.id}", using_db=conn)
    except IntegrityError:  # lost a race for the same name
        errors.add("username", i18n.gettext("That username is taken. Choose another."))
        return await _register_form(values, errors, invite=token)
    await admin.first_account_becomes_admin(user)
    sign_in(user)
    remember_device(user.username_key)
    return web.see_other("/rooms")


def _check_new_password(password: str, username: str, errors, field_id: str) -> None:
    if len(password) < MIN_PASSWORD:
        errors.add(field_id, i18n.gettext("Choose a password of at least %(least)s characters.", least=MIN_PASSWORD))
    elif len(password) > MAX_PASSWORD:
        errors.add(field_id, i18n.gettext("Choose a password of at most %(most)s characters.", most=MAX_PASSWORD))
    elif too_common(password, username):
        errors.add(field_id, i18n.gettext("That password is among the most common ones, which are guessed "
                                          "first. Choose another: a few unrelated words make a strong one."))


async def _register_form(values, errors, status=422, invite: str | None = None):
    body = await render_template("accounts/register.html", values=values, errors=errors,
                                 action=f"/join/{invite}" if invite else "/register", invited=bool(invite))
    return body, status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@web.rate_limit("register", "password changes from your address", by_address=True)
async def reset_password(token: str):
    """A password-reset link an administrator made: choose a new password, once."""
    reset = await admin.valid_reset(token)
    if reset is None:
        raise Refused(404, i18n.gettext("This password-reset link does not work: it has expired or was used "
                                        "already. Ask for a new one with “Forgot password?” on the sign-in "
                                        "page, or ask an administrator."), i18n.gettext("Link not valid"))
    errors = web.FormErrors()
    if request.method == "POST":
        password = web.form().get("password", "")
        _check_new_password(password, reset.user.username, errors, "new-password")
        if not errors:
            try:
                password_hash = await hash_password(password)
            except Busy:
                raise SlowDown(WAIT_SECONDS, "people changing passwords at this moment") from None
            if not await enforce.reset_password(current(), reset, password_hash):
                raise Refused(404, i18n.gettext("This password-reset link was used a moment ago."),
                              i18n.gettext("Link not valid"))
            sign_out()
            await flash(i18n.gettext("Your new password is set, and every old session is signed out. Sign in "
                                     "with it now."))
            return web.see_other("/login")
    body = await render_template("accounts/reset.html", user=reset.user, token=token, errors=errors)
    return body, 422 if errors else 200


@bp.route("/login", methods=["GET", "POST"])
async def login():
    if request.method == "GET":
        values = {"next": web.safe_next(request.args.get("next")) or ""}
        return await render_template("accounts/login.html", values=values, errors=web.FormErrors())
    form = web.form()
    values = {"username": form.get("username", "").strip()[:64], "next": form.get("next", "")[:512]}
    password = form.get("password", "")
    errors = web.FormErrors()
    if not values["username"]:
        errors.add("username", i18n.gettext("Enter your username."))
    if not password:
        errors.add("password", i18n.gettext("Enter your password."))
    if errors:
        body = await render_template("accounts/login.html", values=values, errors=errors)
        return body, 422
    # Every attempt counts before the (slow) check, so attempts made at once cannot all slip
    # through; one that succeeds is given back, so the limits count failures.
    rt = current()
    limiter, limits = rt.limiter, rt.limits
    counted = [f"login:{web.client_key()}"]
    if wait := await limiter.hit(counted[0], limits["login"]):
        raise SlowDown(wait, "failed sign-ins from your address")
    account = values["username"].lower()
    # Per account, across addresses; a browser that signed in to it before counts on its own,
    # so a stranger's guessing cannot lock the owner out of their own browsers.
    counted.append(f"login_account:{account}" + (f":{browser_id()}" if known_device(account) else ""))
    if wait := await limiter.hit(counted[1], limits["login_account"]):
        raise SlowDown(wait, "failed sign-ins to this account")
    user = await find_user(values["username"])
    try:
        # A bot cannot sign in with a password: it is checked as if it did not exist.
        right = await verify_password(user.password_hash if user and not user.is_bot else None,
                                      password[:MAX_PASSWORD])
    except Busy:
        for key in counted:  # not tried: it does not count
            await limiter.undo(key)
        raise SlowDown(WAIT_SECONDS, "people signing in at this moment") from None
    if not right:
        errors.add("username", i18n.gettext("That username and password do not match. Try again."))
        body = await render_template("accounts/login.html", values=values, errors=errors)
        return body, 401
    for key in counted:
        await limiter.undo(key)
    if not user.is_active:
        # Said only to someone who knows the password: it tells a stranger nothing.
        raise Refused(403, i18n.gettext("This account has been deactivated by an administrator. Ask them if "
                                        "you think this is a mistake."), i18n.gettext("Account deactivated"))
    sign_in(user)
    remember_device(account)
    return web.see_other(web.safe_next(values["next"]) or "/rooms")


@bp.post("/logout")
@web.rate_limit("action", "changes")
async def logout():
    sign_out()
    return web.see_other("/login")


@bp.post("/logout/everywhere")
@web.rate_limit("action", "changes")
async def logout_everywhere():
    user = g.user
    async with revoking():
        await User.filter(id=user.id).update(session_version=F("session_version") + 1)
        await broadcasts.revoke_user(current(), user.id)
    sign_out()
    return web.see_other("/login")


@bp.route("/settings", methods=["GET", "POST"])
@web.rate_limit("action", "changes")
async def settings():
    """The reader's settings: announcements, and time (zone and clock). Each part changes only
    when its fields are sent, so the time zone offer (a form of its own, on any page) posts the
    zone alone, and goes back to the page it was on (`next`)."""
    if request.method == "POST":
        form = web.form()
        errors = web.FormErrors()
        changes: dict = {}
        if "announce" in form:
            choice = form.get("announce", "")
            if choice not in ANNOUNCE_CHOICES:
                errors.add("announce-all", i18n.gettext("Choose which new messages are announced."))
            # A checkbox: sent when ticked, absent when not.
            changes.update(announce=choice, announce_typing=form.get("announce_typing", "") == "1",
                           # Do not disturb: no browser notification, no email (notices.should_notify).
                           do_not_disturb=form.get("do_not_disturb", "") == "1")
        if "time_zone" in form:
            zone = form.get("time_zone", "").strip()
            if not zone:
                changes.update(time_zone="UTC", time_zone_set=False)
            elif valid_zone(zone):
                changes.update(time_zone=zone, time_zone_set=True)
            else:
                errors.add("settings-zone", i18n.gettext("Choose a time zone from the list, such as "
                                                         "Europe/Berlin."))
        if "clock" in form:
            if form.get("clock", "") not in CLOCK_CHOICES:
                errors.add("clock-auto", i18n.gettext("Choose a clock: automatic, 12-hour or 24-hour."))
            changes["clock"] = form.get("clock", "")
        if "language" in form:
            # Empty: the browser's language decides.
            language = form.get("language", "")
            if language and not i18n.supported(language):
                errors.add("language-auto", i18n.gettext("Choose a language from the list."))
            changes["language"] = i18n.supported(language) or ""
        if not changes and not errors:
            errors.add("announce-all", i18n.gettext("Choose which new messages are announced."))
        if errors:
            return await render_template("accounts/settings.html", errors=errors, values=form,
                                         zones=time_zones()), 422
        await User.filter(id=g.user.id).update(**changes)
        if "do_not_disturb" in changes and changes["do_not_disturb"] != g.user.do_not_disturb:
            await broadcasts.do_not_disturb(current(), g.user.id, changes["do_not_disturb"])
        # A changed language speaks from this answer on: the notice is in the language just chosen.
        with i18n.speaking(changes.get("language") or i18n.current()):
            await flash(i18n.gettext("Settings saved.") if "time_zone" not in changes or "announce" in changes
                        else i18n.gettext("Times are now shown in %(zone)s.",
                                          zone=changes["time_zone"] if changes["time_zone_set"] else "UTC"))
        return web.see_other(web.safe_next(form.get("next")) or "/settings")
    return await render_template("accounts/settings.html", errors=web.FormErrors(), values={},
                                 zones=time_zones())


DIRECTORY_MAX = 200


@bp.get("/people")
async def people():
    """Everyone (or everyone whose name matches `q`), by display name, each with a button to
    message them: the page to find someone on without JavaScript, too."""
    query = request.args.get("q", "")[:200].strip()
    if query:
        found = await search_people(query, limit=DIRECTORY_MAX + 1)
    else:
        found = await User.filter(is_active=True).order_by("display_name", "username_key").limit(DIRECTORY_MAX + 1)
    return await render_template(
        "accounts/people.html", query=query, people=found[:DIRECTORY_MAX], more=len(found) > DIRECTORY_MAX
    )


@bp.get("/people/suggest")
async def suggest():
    """The options of a name field's suggestions (an htmx fragment): people whose username starts
    with, or whose display name contains, what was typed. Without htmx, the directory page."""
    typed = (request.args.get("q") or request.args.get("username") or "")[:200]
    if not web.is_htmx():
        return web.see_other(f"/people?q={quote(typed.strip())}")
    exclude = g.user.id if request.args.get("for") == "dm" else None
    found = await search_people(typed, exclude=exclude)
    # Option ids are made from the list's own id (htmx names its target), so two fields on one
    # page never share one.
    target = request.headers.get("HX-Target", "")
    prefix = target if USERNAME.fullmatch(target.replace("-", "_")) else "suggestion"
    return await render_template("accounts/_suggestions.html", people=found, prefix=prefix)
