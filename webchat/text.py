"""Message bodies: stored as typed, shown as a safe subset of Markdown.

CommonMark (markdown-it-py) with raw HTML off, bare links found by linkify-it-py: emphasis,
strong, strikethrough, inline code, fenced and indented code, block quotes, lists and links.
Headings, rules, images, reference definitions and character entities are left out, so that what
was typed shows as typed (a "# " line or "&lt;" stays text). Line breaks are kept. Every block
carries `dir="auto"`, so a right-to-left paragraph reads right to left beside a left-to-right one.

Rendered once when a message is written (Message.html), never per page, replay or stream.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

try:  # what markdown-it strips from a paragraph's ends (its JavaScript original's String.trim)
    from markdown_it.common.utils import MD_TRIM_CHARS as _TRIM
except ImportError:  # older markdown-it-py: Python's str.strip()
    _TRIM = None
from markupsafe import Markup

# Longer than any link people share by hand; longer ones are shown as text (and cost nothing).
LINK_MAX = 2048
LINK_REL = "noopener noreferrer nofollow ugc"
SCHEMES = ("http://", "https://", "mailto:")
# A username's shape (webchat.accounts.names), not ending in a full stop: "thanks @ben." names ben.
_MENTION = re.compile(r"(?<![\w@.\-])@([A-Za-z0-9_.\-]{2,31}[A-Za-z0-9_\-])(?![A-Za-z0-9_\-])")
_MENTION_AT = re.compile(r"@([A-Za-z0-9_.\-]{2,31}[A-Za-z0-9_\-])(?![A-Za-z0-9_\-])")
_LANGUAGE = re.compile(r"[\w+#.\-]{1,30}")

# What the renderer can produce, and nothing else (tests check every output against it).
ALLOWED = {
    "p": {"dir"}, "br": set(), "em": set(), "strong": set(), "s": set(), "code": set(),
    "pre": {"dir"}, "blockquote": {"dir"}, "ul": {"dir"}, "ol": {"dir", "start"}, "li": {"dir"},
    "a": {"href", "rel", "class"}, "figure": {"class", "dir"}, "figcaption": {"class"},
}


def _valid_link(url: str) -> bool:
    """Only web and mail links, of a sane length: no javascript:, data:, relative or local ones."""
    return url.lower().startswith(SCHEMES) and len(url) <= LINK_MAX and len(url) > 8


def _block_direction(state) -> None:
    """A core rule: `dir="auto"` on every block that opens (paragraphs, lists, items, quotes)."""
    for token in state.tokens:
        if token.nesting == 1 and token.block:
            token.attrSet("dir", "auto")


def _link_open(self, tokens, idx, options, env):
    token = tokens[idx]
    token.attrs = {"href": token.attrs["href"], "rel": LINK_REL}  # no title: only what ALLOWED names
    return self.renderToken(tokens, idx, options, env)


def _mention(state, silent: bool) -> bool:
    """An inline rule: `@username` (a username's shape, after no letter, digit or @) becomes a
    link to that person's profile. Not inside code (its rule consumes it first) nor inside another
    link's text; any name of the right shape, whether or not such an account exists (the profile
    page says so)."""
    pos = state.pos
    if state.src[pos] != "@" or state.linkLevel > 0:
        return False
    if pos > 0 and (state.src[pos - 1].isalnum() or state.src[pos - 1] in "_@.-"):
        return False
    match = _MENTION_AT.match(state.src, pos, state.posMax)
    if match is None:
        return False
    if not silent:
        token = state.push("mention", "a", 0)
        token.content = match.group(1)
    state.pos = match.end()
    return True


def _mention_render(self, tokens, idx, options, env):
    name = escapeHtml(tokens[idx].content)
    return f'<a href="/users/{name}" class="mention">@{name}</a>'


def _fence(self, tokens, idx, options, env):
    """Fenced code as <pre><code>, its language (the first word after the fence) as a caption."""
    token = tokens[idx]
    code = f'<pre dir="auto"><code>{escapeHtml(token.content)}</code></pre>'
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    if not _LANGUAGE.fullmatch(language):
        return code + "\n"
    return (f'<figure class="code" dir="auto"><figcaption class="code-language">{escapeHtml(language)}'
            f"</figcaption>{code}</figure>\n")


def _code_block(self, tokens, idx, options, env):
    return f'<pre dir="auto"><code>{escapeHtml(tokens[idx].content)}</code></pre>\n'


def _paragraph(state, startLine: int, endLine: int, silent: bool) -> bool:
    """markdown-it's paragraph rule, asking the rules that may end a paragraph (fence, quote, list)
    only about a line that starts with one of their marks: the others are its lines, at the cost
    of a look at one character instead of three rule calls."""
    nextLine = startLine + 1
    terminatorRules = state.md.block.ruler.getRules("paragraph")
    endLine = state.lineMax
    src, bMarks, tShift, eMarks, sCount = state.src, state.bMarks, state.tShift, state.eMarks, state.sCount
    oldParentType = state.parentType
    state.parentType = "paragraph"
    while nextLine < endLine:
        first = bMarks[nextLine] + tShift[nextLine]
        if first >= eMarks[nextLine]:
            break  # an empty line
        if sCount[nextLine] - state.blkIndent > 3 or sCount[nextLine] < 0:
            nextLine += 1
            continue
        if src[first] in _BLOCK_MARKS and any(rule(state, nextLine, endLine, True) for rule in terminatorRules):
            break
        nextLine += 1
    content = state.getLines(startLine, nextLine, state.blkIndent, False).strip(_TRIM)
    state.line = nextLine
    token = state.push("paragraph_open", "p", 1)
    token.map = [startLine, state.line]
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [startLine, state.line]
    token.children = []
    state.push("paragraph_close", "p", -1)
    state.parentType = oldParentType
    return True


def _newline(state, silent: bool) -> bool:
    """A line break stays in the text as "\n" (shown as `<br>`), trailing spaces before it and
    leading ones after it dropped as markdown-it's own rule does, without a token of its own: a
    body of many short lines is then a few text tokens, not thousands."""
    pos = state.pos
    if state.src[pos] != "\n":
        return False
    if not silent:
        pending = state.pending
        if pending.endswith(" "):
            state.pending = pending.rstrip(" ") if pending.endswith("  ") else pending[:-1]
        del pending
        state.append_pending("\n")
    pos += 1
    maximum = state.posMax
    src = state.src
    while pos < maximum and src[pos] in " \t":
        pos += 1
    state.pos = pos
    return True


def _text_render(self, tokens, idx, options, env):
    return escapeHtml(tokens[idx].content).replace("\n", "<br>\n")


# The first character of a line that may start a fenced code block, a quote or a list item.
_BLOCK_MARKS = frozenset("`~>-+*0123456789")
# The characters an enabled inline rule starts at ("]" ends a link's text); any other run of
# characters is text, taken in one step.
_INLINE_MARKS = {"linkify": ":", "escape": "\\", "backticks": "`", "strikethrough": "~", "emphasis": "*_",
                 "link": "[]", "autolink": "<", "mention": "@"}


class _Linkify:
    """linkify-it, shown only the words that can hold a link we keep: one with "@" (an e-mail
    address, or mailto:) or "://". linkify-it reads every character of what it is given with
    several large expressions (about 0.3 µs a character: a 4,000-character paragraph with one
    address took over 1 ms); a link never spans white space, so a word with the white space
    around it is all it needs to see to find the same links."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def set(self, options) -> _Linkify:
        self.inner.set(options)
        return self

    def match_at_start(self, text: str):
        return self.inner.match_at_start(text)

    def pretest(self, text: str) -> bool:
        return "@" in text or "://" in text

    test = pretest

    def match(self, text: str):
        found = []
        for start, end in _link_words(text):
            for link in self.inner.match(text[start:end]) or ():
                link.index += start
                link.last_index += start
                found.append(link)
        return found


def _link_words(text: str) -> list[tuple[int, int]]:
    """The spans of the words holding "@" or "://", each with the white space before and after
    it (what linkify-it looks at to decide where a link may start and end), overlapping ones
    merged."""
    spans: list[tuple[int, int]] = []
    for mark in ("@", "://"):
        at = text.find(mark)
        while at >= 0:
            start = max(0, text.rfind(" ", 0, at), text.rfind("\n", 0, at), text.rfind("\t", 0, at))
            ends = [end for end in (text.find(" ", at), text.find("\n", at), text.find("\t", at)) if end >= 0]
            end = min(ends) + 1 if ends else len(text)
            spans.append((start, end))
            at = text.find(mark, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _build(disabled: frozenset[str] = frozenset()) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True, "xhtmlOut": False})
    md.enable(["linkify", "strikethrough"])
    md.disable(["heading", "lheading", "hr", "image", "reference", "entity", "html_block", "html_inline"])
    # Links need their scheme ("example.com" stays text); e-mail addresses become mailto: links.
    md.linkify = _Linkify(md.linkify).set({"fuzzy_link": False, "fuzzy_email": True})
    md.validateLink = _valid_link
    md.inline.ruler.before("emphasis", "mention", _mention)
    md.inline.ruler.at("newline", _newline)
    md.block.ruler.at("paragraph", _paragraph)
    md.core.ruler.push("block_direction", _block_direction)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("mention", _mention_render)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _code_block)
    md.add_render_rule("text", _text_render)
    if disabled:
        md.disable(sorted(disabled))
    marks = "\n" + "".join(chars for rule, chars in _INLINE_MARKS.items() if rule not in disabled)
    md.inline.terminator_re = re.compile("[" + re.escape(marks) + "]")
    return md


_md = _build()

# markdown-it looks ahead to the end of the text for what closes a "[", a "<" or an emphasis run,
# so a body crowded with unclosed ones costs time quadratic in its length (4,000 "[" took 41 ms).
# No message people write has this many; beyond it, that construct is shown as typed.
CROWDED = 32
_CROWDABLE = {"link": ("[",), "autolink": ("<",), "emphasis": ("*", "_"), "strikethrough": ("~",),
              "backticks": ("`",), "linkify": ("://", "@")}
_variants: dict[frozenset[str], MarkdownIt] = {frozenset(): _md}


def _crowded(text: str) -> frozenset[str]:
    return frozenset(rule for rule, marks in _CROWDABLE.items() if sum(text.count(mark) for mark in marks) > CROWDED)


def _renderer_for(crowded: frozenset[str]) -> MarkdownIt:
    md = _variants.get(crowded)
    if md is None:
        md = _variants[crowded] = _build(crowded)
    return md


_NEWLINES = re.compile(r"\r\n?")
# A line that may start a block other than a paragraph: a list item, a quote, a fence or (indented
# by four columns) a code block.
_BLOCK_START = re.compile(r"^(?:[ \t]*(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|```|~~~)| {0,3}\t| {4})", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_LINE_BREAK = re.compile(r" *\n[ \t]*")


def _plain(text: str, crowded: frozenset[str]) -> str | None:
    """The HTML of a body with nothing for Markdown to do (no mark of an enabled rule, no block but
    paragraphs, nothing a link could be made of), made directly: what markdown-it would make of
    it, without its cost per line (a body of 2,000 one-letter lines took it 10 ms). None if the
    body needs markdown-it."""
    marks = "".join(chars for rule, chars in _INLINE_MARKS.items() if rule not in crowded and rule != "linkify")
    if "@" in text or "://" in text or any(mark in text for mark in marks) or _BLOCK_START.search(text):
        return None
    paragraphs = [part.strip(_TRIM) for part in _BLANK_LINES.split(text) if part.strip(" \t\n")]
    html = [escapeHtml(_LINE_BREAK.sub("\n", part)).replace("\n", "<br>\n") for part in paragraphs]
    if len(html) == 1:
        return html[0]
    return "".join(f'<p dir="auto">{part}</p>\n' for part in html).rstrip("\n")


def render_body(text: str) -> Markup:
    """The body as HTML. One paragraph (most messages) is its inline content alone: the message's
    own `<div class="body" dir="auto">` is its block."""
    text = _NEWLINES.sub("\n", text).replace("\0", "\ufffd")
    crowded = _crowded(text)
    html = _plain(text, crowded)
    if html is not None:
        return Markup(html)
    md = _renderer_for(crowded)
    tokens = md.parse(text)
    if len(tokens) == 3 and tokens[0].type == "paragraph_open":
        tokens = tokens[1:2]
    return Markup(md.renderer.render(tokens, md.options, {}).rstrip("\n"))


_RICH = re.compile(r"<(?!/?p[ >]|br>)")  # any tag but a paragraph's or a line break


def is_plain(html: str) -> bool:
    """Whether rendered HTML is only paragraphs and line breaks: no links, lists, code or
    emphasis, so the text as typed says all of it (the message's spoken sentence uses it)."""
    return not _RICH.search(html)


def mentions(text: str) -> list[str]:
    return sorted({name.lower() for name in _MENTION.findall(text)})
