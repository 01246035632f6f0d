"""Languages: which one the current request (or render) is in, and its translated strings.

The catalogs are the .po files under webchat/translations/, kept in the repository. They are read
and compiled in memory the first time a language is used, so a fresh clone and a Heroku build serve
every language with no build step. `python -m webchat translations` extracts the strings and
updates the catalogs (see the README).

The language is a context variable, not a request global: fragments shared by every reader (a new
message, typing, presence) are rendered outside any request, once per language.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy

DEFAULT = "en"
# Each language by its own name, as a language menu shows it.
LANGUAGES: dict[str, str] = {"en": "English", "th": "ไทย"}
OTHERS = tuple(language for language in LANGUAGES if language != DEFAULT)
CATALOGS = Path(__file__).parent / "translations"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("webchat_language", default=DEFAULT)


def current() -> str:
    return _current.get()


def supported(language: str | None) -> str | None:
    """The language code if webchat speaks it ("th-TH" counts as "th"), else None."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def use(language: str) -> None:
    """From here on (in this task) everything renders in `language`."""
    _current.set(supported(language) or DEFAULT)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    token = _current.set(supported(language) or DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def from_headers(account_setting: str | None, cookie_header: str | None, accept_header: str | None) -> str:
    """`choose`, from raw headers (the event streams are answered outside Quart's requests)."""
    cookie = None
    if cookie_header:
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name in ("webchat_language", "__Host-webchat_language"):
                cookie = value
    accepted = []
    for item in (accept_header or "").split(",")[:20]:
        language, _, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        if language and quality > 0:
            accepted.append((quality, -len(accepted), language))
    return choose(account_setting, cookie, [language for *_, language in sorted(accepted, reverse=True)])


def choose(account_setting: str | None, cookie: str | None, accept_language: list[str]) -> str:
    """The account's setting, else the language picked in the footer (signed out), else the
    browser's first language webchat speaks, else English."""
    for candidate in (account_setting, cookie, *accept_language):
        if found := supported(candidate):
            return found
    return DEFAULT


@cache
def po_catalog(language: str):
    """The language's .po as Babel reads it (None for English, or a language with no catalog):
    read once, for the translations below and the scripts' strings (webchat.script_strings)."""
    path = CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not path.exists():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> _gettext.NullTranslations:
    catalog = po_catalog(language)
    if catalog is None:
        return _gettext.NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


# How many translated strings were looked up: a render that looked up none reads the same in
# every language (webchat.render caches and frames it once for all of them).
lookups = 0


def catalog() -> _gettext.NullTranslations:
    """The current language's catalog, counted in `lookups`."""
    global lookups
    lookups += 1
    return translations(_current.get())


def gettext(message: str, **variables) -> str:
    text = catalog().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = catalog().ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def pgettext(context: str, message: str) -> str:
    return catalog().pgettext(context, message)


def lazy_gettext(message: str, **variables) -> LazyProxy:
    """For strings defined at import time (module constants): translated when used."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext
