"""The scripts' words (static/js): marked with t()/nt(), extracted into the one catalog, and put
into every page as JSON in the page's language (only the scripts' strings), for static/js/i18n.js."""

from __future__ import annotations

import json
import re

from babel.messages.pofile import read_po

from webchat import catalogs, i18n, script_strings


def _strings(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="script-strings">([^<]*)</script>', text)
    assert found, "no script strings in the page"
    return json.loads(found.group(1))


def test_every_script_string_is_extracted_and_in_thai(tmp_path):
    ids = script_strings.msgids()
    singulars = {msgid[0] if isinstance(msgid, tuple) else msgid for msgid in ids}
    # The words the scripts say and show, not only some of them.
    for wanted in ("Connection lost. Trying to reconnect; wait before sending.",
                   "Enter sends. Shift+Enter starts a new line.", "Today", "Yesterday", "Link copied",
                   "%(num)s new message below", "%(num)s unread", "Use %(zone)s"):
        assert wanted in singulars, wanted
    template = catalogs.extract(tmp_path / "messages.pot")
    with template.open("rb") as pot:
        extracted = {message.id if isinstance(message.id, str) else message.id[0]: message for message in read_po(pot)}
    for msgid in singulars:
        assert msgid in extracted and any(path.startswith("static/js/") for path, _ in extracted[msgid].locations), msgid
    thai = script_strings.strings("th")["messages"]
    keys = {script_strings.key(msgid): msgid for msgid in singulars}
    assert len(keys) == len(singulars)  # no two strings share a key
    assert set(thai) == set(keys), sorted(keys[k] for k in set(keys) - set(thai))[:5]
    assert thai[script_strings.key("Today")] == "วันนี้"


def test_the_json_holds_only_the_scripts_strings_in_the_pages_language():
    thai = script_strings.strings("th")
    assert thai["language"] == "th" and thai["plural"] == ["other"]
    assert thai["messages"][script_strings.key("%(num)s unread")] == ["ยังไม่ได้อ่าน %(num)s"]
    assert script_strings.key("Language") not in thai["messages"]  # a template's string: not the scripts'
    assert script_strings.key("Today") == "e7c0775e"  # FNV-1a, as static/js/i18n.js computes it
    english = script_strings.strings("en")
    assert english == {"language": "en", "plural": ["one", "other"], "messages": {}}  # the msgids are English
    # Safe inside <script>: no markup can end it.
    with i18n.speaking("th"):
        text = str(script_strings.for_page())
    assert "<" not in text and ">" not in text and "&" not in text and json.loads(text) == thai


async def test_a_thai_page_carries_thai_script_strings(ana):
    page = await ana.get("/rooms")
    english = _strings(page.text)
    assert english["language"] == "en" and english["messages"] == {}
    await ana.post("/settings", {"announce": "all", "language": "th"})
    page = await ana.get("/rooms")
    thai = _strings(page.text)
    lost = script_strings.key("Connection lost. Trying to reconnect; wait before sending.")
    assert thai["messages"][lost].startswith("การเชื่อมต่อ")
    # Keyed by hashes: a Thai page carries no English words, not even in its data.
    assert "Connection lost" not in page.text and "blocked user" not in page.text
    # Data, not code: the page's policy allows no inline script, and needs none for this.
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
