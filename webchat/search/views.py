"""GET /search: the search page, its results, and (for htmx) the results alone."""

from __future__ import annotations

from quart import Blueprint, g, render_template, request

from webchat import web
from webchat.rooms.service import whole_number
from webchat.search import service

bp = Blueprint("search", __name__)
SORTS = ("newest", "best")


@bp.get("/search")
async def search_page():
    args = request.args
    values = {name: args.get(name, "") for name in ("q", "room", "from", "after", "before", "sort")}
    best = values["sort"] == "best"
    page = whole_number(args.get("page", "1"), service.PAGES_MAX) or 1
    if not any(name in args for name in ("q", "room", "from", "after", "before")):
        return await _page(values, None, None, web.FormErrors(), 200)  # the empty form
    asked = await service.prepare(g.user, values["q"], values["room"], values["from"], values["after"],
                                  values["before"])
    errors = web.FormErrors()
    for field_id, message in asked.errors:
        errors.add(field_id, message)
    if errors:
        return await _page(values, asked, None, errors, 422)
    found = await service.search(g.user, asked, page, best)
    return await _page(values, asked, found, errors, 200)


async def _page(values, asked, found, errors, status):
    template = "search/_results.html" if web.is_htmx() else "search/search.html"
    html = await render_template(template, values=values, asked=asked, found=found, errors=errors,
                                 sorts=SORTS, page_size=service.PAGE)
    return html, status
