"""The new pages' markup, checked without a browser (the browser suite runs axe over them too):
unique ids, a label for every control, error summaries whose links reach a field, one <h1>, and
every form post carrying its CSRF token."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[tuple[str, str | None, dict]] = []
        self.h1 = 0
        self.forms: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit") and "hidden" not in a:
            self.controls.append((tag, a.get("id"), a))
        if tag == "h1":
            self.h1 += 1
        if tag == "form":
            self.forms.append({"method": a.get("method", "get"), "csrf": False, "action": a.get("action")})
        if tag == "input" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["csrf"] = True
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])


def check(html: str, where: str) -> None:
    page = Markup()
    page.feed(html)
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, (where, duplicates)
    for tag, control_id, attrs in page.controls:
        assert control_id in page.labels or "aria-label" in attrs, (where, tag, attrs)
    assert page.h1 == 1, where
    for form in page.forms:
        if form["method"] == "post":
            assert form["csrf"], (where, form)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.DOTALL)
    if summary:
        for target in re.findall(r'href="#([^"]+)"', summary.group(0)):
            assert target in page.ids, (where, target)


async def test_new_pages_are_well_formed(ana, ben, cleo):
    room = await ana.create_room("Harbour")
    for person in (ben, cleo):
        await person.post(f"/rooms/{room}/join")
    await cleo.say(room, "reported words")
    page = await ana.get(f"/rooms/{room}")
    mid = int(re.findall(r'<li id="m-(\d+)"', page.text)[-1])
    await ben.post(f"/rooms/{room}/messages/{mid}/report", {"reason": "rude"})
    await ana.post(f"/rooms/{room}/moderators", {"username": "ben"})
    await ana.post("/admin/users/cleo/reset")
    await ana.post("/admin/invites", {"days": "1", "uses": "1"})
    pages = {
        ana: ["/admin", "/admin/users", "/admin/users?q=cleo", "/admin/rooms", f"/admin/rooms/{room}/delete",
              "/admin/invites", "/admin/reports", "/admin/reports?status=resolved", "/admin/audit",
              f"/rooms/{room}/settings", f"/rooms/{room}/delete", "/users/ben", "/settings", "/settings/profile",
              "/settings/password", "/settings/delete", f"/rooms/{room}"],
        ben: [f"/rooms/{room}/settings", f"/rooms/{room}/messages/{mid}/report", "/users/ana", f"/rooms/{room}"],
    }
    for who, paths in pages.items():
        for path in paths:
            shown = await who.get(path)
            assert shown.status == 200, path
            check(shown.text, path)
    errors = [
        (ana, "/admin/site", {"name": "", "welcome": "x" * 3000, "registration": "?"}),
        (ana, "/admin/invites", {"days": "x", "uses": "0"}),
        (ana, f"/admin/rooms/{room}/delete", {"confirm": "no"}),
        (ana, f"/rooms/{room}/settings", {"name": "", "visibility": "?"}),
        (ana, f"/rooms/{room}/transfer", {"username": "nobody"}),
        (ana, "/settings/profile", {"display_name": "x" * 80, "bio": "b" * 400}),
        (ana, "/settings", {"time_zone": "?", "clock": "?"}),
        (ana, "/settings/password", {}),
        (ana, "/settings/delete", {"messages": "?"}),
        (ben, f"/rooms/{room}/messages/{mid}/report", {"reason": ""}),
        (ben, "/dm", {"usernames": "ana"}),
    ]
    for who, path, form in errors:
        shown = await who.post(path, form)
        assert shown.status == 422, path
        assert 'class="error-summary"' in shown.text, path
        check(shown.text, f"{path} with errors")
