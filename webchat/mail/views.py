"""The pages of email: the address on /settings/email (added, verified by a signed link sent to
it, changed, removed; away digests on or off), the one-click unsubscribe link of a digest, and
"Forgot password?", which mails one of the same reset links an administrator can make."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from quart import Blueprint, flash, g, render_template, request

from webchat import i18n, web
from webchat.accounts.names import find_user
from webchat.admin import service as admin
from webchat.mail import links, outbox
from webchat.models import EmailAddress, User
from webchat.refusals import Refused
from webchat.runtime import current

bp = Blueprint("mail", __name__)

MAX_ADDRESS = 254
# Deliberately plain: something@domain.tld with no spaces, controls or angle brackets; the
# verification link proves the rest.
ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+")
RESET_MINUTES = 60
NOT_CONFIGURED = i18n.lazy_gettext("Email is not configured on this site: webchat sends no email here, so this "
                                   "page does nothing.")


def _base_url() -> str:
    return current().settings.public_url or request.host_url.rstrip("/")


def _render_mail(name: str, **context) -> str:
    """An email's text, in the language being spoken (see `i18n.speaking`)."""
    return current().renderer.env.get_template(f"mail/{name}").render(context)


def _configured() -> None:
    if not current().settings.email:
        raise Refused(404, str(NOT_CONFIGURED), i18n.gettext("Email not configured"))


async def _send_verification(user: User, address: str) -> None:
    token = links.verify_token(current().settings.secret_key, user.id, address)
    url = f"{_base_url()}/email/verify/{token}"
    # In the recipient's language: the account's, else English.
    with i18n.speaking(user.language or i18n.DEFAULT):
        body = _render_mail("verify.txt", person=user, url=url, hours=links.VERIFY_SECONDS // 3600)
        subject = i18n.gettext("Confirm your email address for webchat")
    await outbox.enqueue(address, "verify", subject, body, dedupe_key=f"verify:{user.id}:{uuid.uuid4()}")


@bp.route("/settings/email", methods=["GET", "POST"])
@web.rate_limit("email", "emails sent for you")
async def email_settings():
    address = await EmailAddress.get_or_none(user_id=g.user.id)
    errors = web.FormErrors()
    value = address.address if address else ""
    if request.method == "POST":
        _configured()
        value = web.form().get("email", "").strip()
        if not value:
            errors.add("email", i18n.gettext("Enter your email address, such as name@example.org."))
        elif len(value) > MAX_ADDRESS or not ADDRESS.fullmatch(value):
            errors.add("email", i18n.gettext("Enter an email address such as name@example.org."))
        if not errors:
            if address is None:
                address = await EmailAddress.create(user_id=g.user.id, address=value)
            elif address.address != value:
                await EmailAddress.filter(id=address.id).update(address=value, verified_at=None, digests=True)
            await _send_verification(g.user, value)
            await flash(i18n.gettext("We sent a link to %(address)s: open it to confirm the address. Until then "
                                     "it gets no other email.", address=value))
            return web.see_other("/settings/email")
    body = await render_template("mail/settings.html", address=address, value=value, errors=errors,
                                 configured=current().settings.email)
    return body, 422 if errors else 200


@bp.post("/settings/email/remove")
@web.rate_limit("action", "changes")
async def remove_email():
    await EmailAddress.filter(user_id=g.user.id).delete()
    await flash(i18n.gettext("Your email address is removed: webchat sends you no email."))
    return web.see_other("/settings/email")


@bp.post("/settings/email/digests")
@web.rate_limit("action", "changes")
async def email_digests():
    on = web.form().get("digests", "") == "1"
    await EmailAddress.filter(user_id=g.user.id).update(digests=on)
    await flash(i18n.gettext("Away digests are on.") if on else i18n.gettext("Away digests are off."))
    return web.see_other("/settings/email")


@bp.route("/email/verify/<token>", methods=["GET", "POST"])
@web.rate_limit("register", "link checks from your address", by_address=True)
async def verify(token: str):
    """The link in the verification email: a page with a button (a link scanner that follows
    the GET verifies nothing); signed in or not."""
    try:
        found = links.read_verify_token(current().settings.secret_key, token)
    except links.LinkExpired:
        raise Refused(410, i18n.gettext("This confirmation link has expired. Enter your address again on your "
                                        "email settings to get a new one."), i18n.gettext("Link expired")) from None
    address = None
    if found is not None:
        address = await EmailAddress.get_or_none(user_id=found[0], address=found[1])
    if address is None:
        raise Refused(404, i18n.gettext("This confirmation link does not work: the address was changed or "
                                        "removed since, or the link is damaged."), i18n.gettext("Link not valid"))
    if request.method == "POST":
        if address.verified_at is None:
            await EmailAddress.filter(id=address.id).update(verified_at=datetime.now(UTC))
        return web.see_other(f"/email/verify/{token}")
    return await render_template("mail/verify.html", address=address, token=token)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@web.rate_limit("register", "unsubscribe requests from your address", by_address=True)
async def unsubscribe(token: str):
    """A digest's unsubscribe link: the page has a button; mail programs POST to it directly
    (RFC 8058 one-click, with no cookie and no CSRF token: the signature is the proof)."""
    found = links.read_unsubscribe_token(current().settings.secret_key, token)
    address = None
    if found is not None:
        address = await EmailAddress.get_or_none(user_id=found[0], address=found[1])
    if found is None:
        raise Refused(404, i18n.gettext("This unsubscribe link is damaged: copy the whole link from the email."),
                      i18n.gettext("Link not valid"))
    if request.method == "POST":
        if address is not None:
            await EmailAddress.filter(id=address.id).update(digests=False)
        return web.see_other(f"/unsubscribe/{token}")
    return await render_template("mail/unsubscribe.html", address=address, token=token)


@bp.route("/forgot", methods=["GET", "POST"])
@web.rate_limit("forgot", "password-reset requests from your address", by_address=True)
async def forgot_password():
    """The same answer whether or not the account exists, has a verified address, or has asked
    too often (rate-limited per account too): nobody learns who is registered here."""
    _configured()
    errors = web.FormErrors()
    value = ""
    if request.method == "POST":
        value = web.form().get("account", "").strip()[:MAX_ADDRESS]
        if not value:
            errors.add("account", i18n.gettext("Enter your username or your email address."))
        else:
            await _mail_reset_link(value)
            return web.see_other("/forgot/sent")
    body = await render_template("mail/forgot.html", errors=errors, value=value)
    return body, 422 if errors else 200


@bp.get("/forgot/sent")
async def forgot_sent():
    _configured()
    return await render_template("mail/forgot_sent.html")


async def _mail_reset_link(value: str) -> None:
    if "@" in value:
        if not ADDRESS.fullmatch(value):
            return
        address = await EmailAddress.filter(address__iexact=value, verified_at__not_isnull=True) \
            .select_related("user").first()
        user = address.user if address else None
    else:
        user = await find_user(value)
        address = await EmailAddress.get_or_none(user_id=user.id, verified_at__not_isnull=True) if user else None
    if user is None or address is None or not user.is_active or user.is_bot:
        return
    rt = current()
    if await rt.limiter.hit(f"forgot_account:{user.id}", rt.limits["forgot_account"]):
        return
    token = await admin.create_reset(user, user, minutes=RESET_MINUTES)
    # In the language of the page it was asked from (the one being spoken): whoever asked reads it.
    body = _render_mail("reset.txt", person=user, url=f"{_base_url()}/reset/{token}", minutes=RESET_MINUTES)
    await outbox.enqueue(address.address, "reset", i18n.gettext("Choose a new password for webchat"), body,
                         dedupe_key=f"reset:{user.id}:{uuid.uuid4()}")
