"""The words of the page's scripts (static/js), in the page's language.

The scripts mark their strings with `t("…")` and `nt("…", "…", n)` (static/js/i18n.js), which
`python -m webchat translations` extracts into the same catalog as the templates' and the code's
(webchat/catalogs.py, webchat/translations/babel.cfg). Each page carries the current language's
translations of those strings only, as JSON in a data block (templates/_script_strings.html: a
`<script type="application/json">`, which is data, not code, so the strict CSP has nothing to
say); the scripts look their strings up there and fall back to the English msgid. The JSON is
keyed by a short hash of each msgid (`key`, the same in i18n.js), not the English itself: a
Thai page carries no English words, not even in its data.

The strings are found in static/js once per process, and each language's JSON made once.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.extract import extract_from_file
from markupsafe import Markup

from webchat import i18n

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "static" / "js"
# The scripts' gettext functions (static/js/i18n.js), as Babel's javascript extractor reads them.
KEYWORDS = {"t": None, "nt": (1, 2)}
BABEL_KEYWORDS = ["t", "nt:1,2"]
# Gettext's plural forms are CLDR's categories in this order (those a language has).
CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def key(msgid: str) -> str:
    """The JSON's key for a msgid: FNV-1a (32 bits) of its UTF-8, in hexadecimal, as
    static/js/i18n.js computes it."""
    value = 0x811C9DC5
    for byte in msgid.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return format(value, "x")


@cache
def msgids() -> tuple[str | tuple[str, str], ...]:
    """Every string the scripts mark: a msgid, or (singular, plural) for `nt`."""
    found: dict[str | tuple[str, str], None] = {}
    for path in sorted(SCRIPTS.rglob("*.js")):
        for _line, message, _comments, _context in extract_from_file("javascript", str(path), keywords=KEYWORDS):
            found[tuple(message) if isinstance(message, (list, tuple)) else message] = None
    return tuple(found)


def plural_categories(language: str) -> list[str]:
    """The CLDR plural categories of the language's gettext forms, in order (English: one,
    other; Thai: other): the script picks a form with Intl.PluralRules."""
    tags = Locale.parse(language).plural_form.tags | {"other"}
    return [category for category in CATEGORIES if category in tags]


@cache
def strings(language: str) -> dict:
    """{"messages": {key(msgid): text, key(singular): [forms…]}, "plural": [categories]} for
    the language: only the scripts' strings that have a translation (the rest fall back)."""
    catalog = i18n.po_catalog(language)
    messages: dict[str, str | list[str]] = {}
    if catalog is not None:
        for msgid in msgids():
            found = catalog.get(msgid)
            if found is None or found.fuzzy or not found.string:
                continue
            if isinstance(msgid, tuple):
                forms = list(found.string) if isinstance(found.string, (list, tuple)) else [found.string]
                if all(forms):
                    messages[key(msgid[0])] = forms
            elif isinstance(found.string, str):
                messages[key(msgid)] = found.string
    return {"language": language, "plural": plural_categories(language), "messages": messages}


@cache
def _json(language: str) -> Markup:
    # Safe inside <script>: "<", ">", "&" and "'" are written as \u escapes.
    text = json.dumps(strings(language), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return Markup(text)


def for_page() -> Markup:
    """The JSON for the page being rendered (its language), made once per language."""
    return _json(i18n.current())


def prepare() -> None:
    """Read the scripts' strings and every language's catalog now (some 0.2 s), at start-up,
    rather than in the first page someone asks for."""
    for language in i18n.LANGUAGES:
        i18n.translations(language)
        _json(language)
