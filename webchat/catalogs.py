"""`python -m webchat translations`: extract every translatable string into
webchat/translations/messages.pot and merge it into each language's catalog (new strings arrive
untranslated, changed ones marked fuzzy). Translators then edit the .po files; nothing needs
compiling (webchat.i18n reads them at start-up)."""

from __future__ import annotations

from contextlib import chdir
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from webchat import i18n, script_strings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = i18n.CATALOGS / f"{i18n.DOMAIN}.pot"
# The code's and templates' gettext functions, and the scripts' (static/js/i18n.js: t, nt).
KEYWORDS = ["_", "gettext", "ngettext:1,2", "pgettext:1c,2", "lazy_gettext", *script_strings.BABEL_KEYWORDS]


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
