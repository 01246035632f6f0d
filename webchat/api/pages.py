"""The pages people use to manage integrations: API tokens (and bots) at /settings/tokens, and
the API's reference page. Forms, CSRF and error summaries as everywhere else."""

from __future__ import annotations

from quart import Blueprint, current_app, flash, g, render_template

from webchat import i18n, web
from webchat.api import tokens
from webchat.api.reference import OPENAPI_PATH, document, operations
from webchat.api.streams import token_revoked
from webchat.refusals import Refused
from webchat.rooms.service import parse_id
from webchat.runtime import current

bp = Blueprint("api_pages", __name__)


async def _tokens_page(values=None, errors=None, made=None, status=200):
    body = await render_template(
        "api/tokens.html",
        tokens=await tokens.listed(g.user),
        values=values or {"scope": ["read"]},
        errors=errors or web.FormErrors(),
        made=made,
        scopes=tokens.SCOPES,
    )
    return body, status


@bp.get("/settings/tokens")
async def tokens_page():
    return await _tokens_page()


FIELD_IDS = {"name": "token-name", "scope": "token-scope-read", "expires": "token-expires",
             "bot": "token-bot", "account": "token-bot"}


@bp.post("/settings/tokens")
@web.rate_limit("action", "changes")
async def create_token():
    form = web.form()
    values = {"name": form.get("name", "").strip(), "scope": form.getlist("scope"),
              "expires": form.get("expires", "").strip(), "bot": form.get("bot", "").strip()}
    try:
        account = None
        if values["bot"]:
            tokens.check_request(values["name"], values["scope"], values["expires"])
            account = await tokens.bot_named(g.user, values["bot"]) or await tokens.create_bot(g.user, values["bot"])
        made = await tokens.create(g.user, values["name"], values["scope"], values["expires"], account)
    except tokens.TokenError as error:
        errors = web.FormErrors()
        for name, message in error.problems.items():
            errors.add(FIELD_IDS[name], message)
        return await _tokens_page(values, errors, status=422)
    # Shown once, on this answer only: a redirect would have to carry the secret somewhere.
    return await _tokens_page(made=made, status=200)


@bp.post("/settings/tokens/<token_id>/revoke")
@web.rate_limit("action", "changes")
async def revoke_token(token_id: str):
    token = await tokens.revoke(g.user, parse_id(token_id))
    if token is None:
        raise Refused(404, i18n.gettext("You have no such token."), i18n.gettext("Token not found"))
    await token_revoked(current(), token.id)
    await flash(i18n.gettext("The token “%(name)s” was revoked: it no longer works.", name=token.name))
    return web.see_other("/settings/tokens")



@bp.get("/api")
async def reference():
    """The readable reference of the API, made from its OpenAPI document (public, like the
    document), its words from the code in the page's language (the document stays English)."""

    def words(text: str) -> str:
        return i18n.gettext(text) if text else ""

    listed = []
    for operation in operations(document(current_app)):
        listed.append({**operation, "summary": words(operation["summary"]),
                       "description": words(operation["description"]),
                       "fields": {name: words(meaning) for name, meaning in operation["fields"].items()}})
    return await render_template("api/reference.html", operations=listed, openapi_path=OPENAPI_PATH)
