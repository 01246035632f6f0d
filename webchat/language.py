"""The language each page is in, and the footer's language switch (works without JavaScript)."""

from __future__ import annotations

from quart import Blueprint, g, request

from webchat import i18n, web
from webchat.api.problems import is_api_request
from webchat.models import User
from webchat.security import cookie_name, set_lasting_cookie

bp = Blueprint("language", __name__)

COOKIE = "webchat_language"


async def choose_for_request() -> None:
    """before_request (after the user is known): this request renders in the reader's language.

    The API and webhooks take no cookie: Accept-Language only, until webchat.api.views knows the
    token's account (whose language then decides)."""
    user = g.get("user")
    api = is_api_request()
    g.language = i18n.choose(
        None if api or not user else user.language,
        None if api else request.cookies.get(cookie_name(COOKIE)),
        [value for value, _quality in request.accept_languages],
    )
    i18n.use(g.language)


@bp.post("/language")
@web.rate_limit("action", "changes", by_address=True)
async def switch():
    form = web.form()
    chosen = i18n.supported(form.get("language"))
    back = web.safe_next(form.get("next")) or "/"
    if chosen is None:
        # Only a crafted form gets here: the switch offers the languages webchat speaks.
        return web.see_other(back)
    if g.get("user"):
        await User.filter(id=g.user.id).update(language=chosen)
    response = web.see_other(back)
    set_lasting_cookie(response, COOKIE, chosen)
    return response
