"""`python -m webchat translations`: extract every translatable string into
webchat/translations/messages.pot and merge it into each language's catalog (new strings arrive
untranslated, changed ones marked fuzzy). Translators then edit the .po files; nothing needs
compiling (webchat.i18n reads them at start-up)."""

from __future__ import annotations

from contextlib import chdir
from pathlib import Path

from babel.messages.extract import extract_python
from babel.messages.frontend import CommandLineInterface

from quart import Quart

from webchat import i18n, script_strings
from webchat.api.hooks import bp as hooks_bp
from webchat.api.reference import document, init_openapi, reference_texts
from webchat.api.views import bp as api_bp

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = i18n.CATALOGS / f"{i18n.DOMAIN}.pot"
# The code's and templates' gettext functions, and the scripts' (static/js/i18n.js: t, nt).
KEYWORDS = ["_", "gettext", "ngettext:1,2", "pgettext:1c,2", "lazy_gettext", *script_strings.BABEL_KEYWORDS]


def standalone_document() -> dict:
    """The API's OpenAPI document from an app of the API's routes alone (no settings, no database)."""
    app = Quart(__name__)
    init_openapi(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(hooks_bp)
    return document(app)


def extract_api_reference(fileobj, keywords, comment_tags, options):
    """A Babel extraction method for webchat/api/reference.py: its own marked strings, and the
    readable reference's words that come from the code, read from the OpenAPI document."""
    yield from extract_python(fileobj, keywords, comment_tags, options)
    for text in reference_texts(standalone_document()):
        yield 1, "gettext", text, ["The API reference page (/api), from the OpenAPI document"]


def _babel(*arguments: str) -> None:
    CommandLineInterface().run(["pybabel", "--quiet", *arguments])


def extract(output: Path = TEMPLATE) -> Path:
    keywords = [option for keyword in KEYWORDS for option in ("-k", keyword)]
    with chdir(ROOT):  # so the catalogs name files by their path in the repository
        _babel("extract", "--no-default-keywords", *keywords, "-F", str(i18n.CATALOGS / "babel.cfg"),
               "--sort-by-file", "--no-wrap", "--project", "webchat", "-o", str(output.resolve()), ".")
    return output


def update() -> list[Path]:
    """Extract, then bring every language's catalog up to date (creating a missing one)."""
    extract()
    catalogs = []
    for language in i18n.LANGUAGES:
        if language == i18n.DEFAULT:
            continue
        po = i18n.CATALOGS / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        command = "update" if po.exists() else "init"
        _babel(command, "-i", str(TEMPLATE), "-d", str(i18n.CATALOGS), "-l", language, "-D", i18n.DOMAIN,
               *(["--no-wrap", "--ignore-obsolete"] if command == "update" else ["--no-wrap"]))
        catalogs.append(po)
    return catalogs
