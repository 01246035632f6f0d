"""Every user-facing string is marked for translation (tests/test_languages.py then fails while a
marked string lacks Thai), and every Thai translation keeps its English placeholders.

Templates (templates/**/*.html and *.txt): the text a person reads or hears, once Jinja's
expressions, statements and comments are taken out: text nodes outside <script>, <style> and code
(<code>, <pre>, <kbd>, <samp>), the user-facing attributes (aria-label, aria-description, title,
placeholder, alt, and the value of submit, reset and button inputs), and <title>'s content. A
text with a letter in it (of any script: Thai written straight into a template is unmarked too)
is a finding, unless the small allow-list below says why it is not language.

Python (webchat/**/*.py): an AST scan for a string literal (or f-string, or a concatenation or
conditional of them) that reaches a user-facing sink without a gettext call around it. The sinks:
  - flash(text) and _flash(text): the notice shown on the next page;
  - the refusals whose text reaches a page or problem details: Refused(code, message, title),
    Invalid(field, message), TooLarge(message, title), and the errors whose str() a view shows
    (HookError, HookUrlError, NotAllowed, ReplyRefused, ReactionRefused, FileProblem, Unusable,
    LinkExpired, TokenError's {field: text} dict); SlowDown is not one: its `what` is a key,
    worded per language in webchat.refusals;
  - problem(status, detail, title=…): API problem details;
  - form errors: `errors.add(field, text)`, `errors.append((field, text))` and
    `errors[field] = text` / `problems[field] = text` (any name with "error" or "problem" in it);
  - keyword arguments that templates show as text: title=, message=, detail=, notice=, error=,
    label=, summary=;
  - Response(text, …): a body of words (at least two: a bare "ok" is a protocol answer).
Only literals count: a variable or another call is assumed to be translated where it was made
(precision over recall: every finding should be a real unmarked string). Log messages, audit
records, SQL, the OpenAPI document and machine fields (JSON keys, event reasons) are not sinks.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

from webchat import i18n

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CODE = ROOT / "webchat"

# Words that are not language, with the reason: a text that is only these (and what NOT_LANGUAGE
# takes out) is not a finding.
ALLOWED_TEXT = {
    "webchat": "the product's name, the same in every language (the page title's suffix)",
    "JSON": "a format's name (the data download's label)",
    "UTC": "a time zone's name, written so in Thai too (a digest's times)",
}
# Whole texts made only of these are not language: Jinja left-overs, URLs, handles, symbols, emoji.
NOT_LANGUAGE = [
    re.compile(r"""[\w:-]+=("[^"]*"|'[^']*')"""),  # attributes a block puts into a tag (body_attrs)
    re.compile(r"https?://\S+"),  # URLs
    re.compile(r"(?<![\w.])/[\w./?=&%#:{}-]*"),  # paths such as /settings/tokens
    re.compile(r"\b0/[\w./?=&%#:{}-]*"),  # a path after an expression: {{ base_url }}/rooms/…
    re.compile(r"@[\w.-]+"),  # @handles
    re.compile(r"#[\w-]+"),  # fragment ids and #room numbers
    re.compile(r"\b[A-Z][A-Z0-9_]*:\w+\b"),  # ROOM:SEQ-style cursor samples
]
TEXT_ATTRIBUTES = {"aria-label", "aria-description", "title", "placeholder", "alt"}
BUTTON_INPUTS = {"submit", "reset", "button"}
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

JINJA_COMMENT = re.compile(r"{#.*?#}", re.S)
JINJA_STATEMENT = re.compile(r"{%.*?%}", re.S)
JINJA_EXPRESSION = re.compile(r"{{.*?}}", re.S)
LETTER = re.compile(r"[^\W\d_]")


def _is_language(text: str) -> bool:
    text = " ".join(text.split())
    if not text or text in ALLOWED_TEXT:
        return False
    for pattern in NOT_LANGUAGE:
        text = pattern.sub(" ", text)
    for word in ALLOWED_TEXT:
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", text)
    return bool(LETTER.search(text))


def _without_jinja(source: str) -> str:
    """Jinja taken out, line numbers kept: a statement becomes a space, an expression a "0"."""
    keep_lines = lambda match, by: by + "\n" * match.group(0).count("\n")  # noqa: E731
    source = JINJA_COMMENT.sub(lambda m: keep_lines(m, ""), source)
    source = JINJA_STATEMENT.sub(lambda m: keep_lines(m, " "), source)
    return JINJA_EXPRESSION.sub(lambda m: keep_lines(m, "0"), source)


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.found: list[tuple[int, str]] = []

    def _note(self, text: str | None) -> None:
        if text and _is_language(text):
            self.found.append((self.getpos()[0], " ".join(text.split())))

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES:
                self._note(value)
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUTS:
            self._note(values.get("value"))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data):
        if not SKIPPED_ELEMENTS.intersection(self.open):
            self._note(data)


def template_findings(root: Path = TEMPLATES) -> list[str]:
    findings = []
    for path in sorted([*root.rglob("*.html"), *root.rglob("*.txt")]):
        source = _without_jinja(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        if path.suffix == ".txt":  # a plain-text email: every line is read
            for number, line in enumerate(source.splitlines(), 1):
                if _is_language(line):
                    findings.append(f"{name}:{number}: {' '.join(line.split())}")
            continue
        finder = _TextFinder()
        finder.feed(source)
        finder.close()
        findings += [f"{name}:{line}: {text}" for line, text in finder.found]
    return findings


GETTEXT = {"_", "gettext", "ngettext", "pgettext", "lazy_gettext", "lazy_ngettext", "N_"}
# Exception or refusal -> the positions (and keywords) of its arguments that are shown as text.
TEXT_ARGUMENTS = {
    "Refused": ({1, 2}, {"message", "title"}),
    "Invalid": ({1}, {"message"}),
    "TooLarge": ({0, 1}, {"message", "title"}),
    "HookError": ({0}, set()),
    "HookUrlError": ({0}, set()),
    "NotAllowed": ({0}, set()),
    "ReplyRefused": ({0}, set()),
    "ReactionRefused": ({0}, set()),
    "FileProblem": ({0}, set()),
    "Unusable": ({0}, set()),
    "LinkExpired": ({0}, set()),
    "TokenError": ({0}, set()),  # {field: text}
    "problem": ({1, 2}, {"detail", "title"}),
    "flash": ({0}, set()),
    "_flash": ({0}, set()),
}
TEXT_KEYWORDS = {"title", "message", "detail", "notice", "error", "label", "summary"}
ERROR_NAMES = re.compile(r"error|problem", re.I)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _literals(node: ast.AST | None):
    """The string literals of an expression that are shown as they are (not through gettext)."""
    if node is None:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield "".join(part.value if isinstance(part, ast.Constant) else "{…}" for part in node.values)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        yield from _literals(node.left)
        if isinstance(node.op, ast.Add):
            yield from _literals(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _literals(value)
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts[1:]:  # (field, text): the field id is not text
            yield from _literals(element)


def _words(text: str, least: int = 1) -> bool:
    return len(re.findall(r"[^\W\d_]{2,}", re.sub(r"\{…\}", " ", text))) >= least


def python_findings(root: Path = CODE) -> list[str]:
    findings = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        if path == root / "__main__.py":  # the command line speaks English, as operators' tools do
            continue
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found: list[tuple[int, str]] = []

        def note(node: ast.AST, expression: ast.AST | None, least: int = 1) -> None:
            for text in _literals(expression):
                if _words(text, least):
                    found.append((node.lineno, " ".join(text.split())))

        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = _name(node.func)
                if called in GETTEXT:
                    continue
                positions, keywords = TEXT_ARGUMENTS.get(called, (set(), set()))
                for index, argument in enumerate(node.args):
                    if index in positions:
                        note(node, argument)
                for keyword in node.keywords:
                    if keyword.arg in keywords or keyword.arg in TEXT_KEYWORDS:
                        note(node, keyword.value)
                receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
                if called in ("add", "append") and receiver is not None and ERROR_NAMES.search(_name(receiver)):
                    if called == "add" and len(node.args) >= 2:
                        note(node, node.args[1])
                    elif called == "append" and node.args:
                        note(node, node.args[0])
                if called == "Response" and node.args:
                    note(node, node.args[0], least=2)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and ERROR_NAMES.search(_name(target.value)):
                        note(node, node.value)
        findings += [f"{name}:{line}: {text}" for line, text in sorted(found, key=lambda item: item[0])]
    return findings


def test_template_text_is_marked_for_translation():
    findings = template_findings()
    assert not findings, f"{len(findings)} unmarked template strings:\n" + "\n".join(findings)


def test_python_messages_are_marked_for_translation():
    findings = python_findings()
    assert not findings, f"{len(findings)} unmarked strings in webchat/:\n" + "\n".join(findings)


def test_the_scans_find_what_they_look_for(tmp_path):
    """The scans themselves: an unmarked string is found, a marked or technical one is not."""
    (tmp_path / "t.html").write_text(
        '<p>Hello there</p><p>{{ _("Marked") }}</p><button aria-label="Close menu">{{ _("X") }}</button>\n'
        '<input type="submit" value="Save"><input type="text" value="typed"><script>let a = "b c";</script>\n'
        '<code>GET /api/v1/rooms</code><title>{{ title }} · webchat</title>{# a comment #}'
        '<a href="https://example.com/a b">@ana</a>{% if x %}<span title="{{ _(\'Shown\') }}">⋯</span>{% endif %}',
        encoding="utf-8")
    (tmp_path / "t.txt").write_text("{{ _('Hello') }}\nVisit {{ link }}\n", encoding="utf-8")
    found = template_findings(tmp_path)
    assert [f.split(": ", 1)[1] for f in found] == ["Hello there", "Close menu", "Save", "Visit 0"], found
    (tmp_path / "m.py").write_text(
        "from webchat.i18n import gettext as _\n"
        "def v(errors, problems, name):\n"
        "    flash('Saved it.')\n"
        "    flash(_('Saved it.'))\n"
        "    raise Refused(403, f'Not yours, {name}.', 'Nope here')\n"
        "    errors.add('field-id', 'Give a name.')\n"
        "    problems['name'] = 'Too long now.'\n"
        "    raise SlowDown(3, 'changes')\n"
        "    return Response('ok', 200)\n"
        "    log.warning('not for people %s', name)\n",
        encoding="utf-8")
    found = [f.split(": ", 1)[1] for f in python_findings(tmp_path)]
    assert found == ["Saved it.", "Not yours, {…}.", "Nope here", "Give a name.", "Too long now."], found


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def test_thai_translations_keep_the_placeholders():
    """A Thai msgstr has the same %(name)s placeholders as its msgid (for a plural, as the plural
    msgid: Thai has one form): a misspelt one raises KeyError at render time, a missing one drops
    a name or a number from the sentence."""
    path = i18n.CATALOGS / "th" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale="th")
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != set(PLACEHOLDER.findall(ids[-1])):
                wrong.append(f"{ids[0]!r}: {string!r}")
    assert not wrong, f"{len(wrong)} Thai strings whose placeholders differ from the English:\n" + "\n".join(wrong)
