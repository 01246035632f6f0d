"""Message bodies: stored as typed, shown as a safe subset of Markdown.

CommonMark (markdown-it-py) with raw HTML off, bare links found by linkify-it-py: emphasis,
strong, strikethrough, inline code, fenced and indented code, block quotes, lists and links.
Headings, rules, images, reference definitions and character entities are left out, so that what
was typed shows as typed (a "# " line or "&lt;" stays text). Line breaks are kept. Every block
carries `dir="auto"`, so a right-to-left paragraph reads right to left beside a left-to-right one.

Rendered once when a message is written (Message.html), never per page, replay or stream.

Any 4,000-character body renders in well under a millisecond (`python -m bench formatting` builds
the slowest bodies we know, and searches for more). markdown-it-py reads a body in Python, line by
line and mark by mark, so the costs are kept off it:

- A body whose lines start no block but paragraphs (most of them) skips the block parser: its
  paragraphs are the runs of lines between empty ones (_paragraphs). A paragraph without a mark
  any inline rule reacts to is its escaped text with `<br>` for line breaks, made with a few passes
  over the whole text; only the others go through markdown-it's inline and core rules.
- Line breaks stay in the text (_text): no token for each of them.
- linkify-it (some 0.3 µs a character) is shown only the words that can hold a link (_Linkify).
- A construct crowded past CROWDED marks, and then the costliest ones until a body's estimated cost
  fits BUDGET (_crowded), is shown as typed: no message people write comes near either.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from itertools import accumulate

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

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


def _empty_links(state) -> None:
    """A core rule: a link with no destination ("[a]()", which markdown-it makes a link to "" without
    asking validateLink) is its text alone."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        closing = None  # the level of the link_close that ends the link left out
        for child in token.children:
            if child.type == "link_open" and closing is None and not child.attrs.get("href"):
                closing = child.level
            elif child.type == "link_close" and child.level == closing:
                closing = None
            else:
                continue
            child.type, child.tag, child.nesting, child.content, child.attrs = "text", "", 0, "", {}


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
        if _TERMINATOR.match(src, first) and any(rule(state, nextLine, endLine, True) for rule in terminatorRules):
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


def _text(state, silent: bool) -> bool:
    """markdown-it's text rule, with line breaks in the text: a run up to the next mark an
    enabled rule starts at, line breaks included, is taken in one step. What markdown-it's own
    newline rule does at a break (drop the spaces before it and the spaces and tabs after it) is
    done to the run, and the break stays in the text ("\n", shown as `<br>`), so a body of many
    short lines is a few text tokens, not thousands. Spaces before a break are always in the
    same run as the break: a run only ends at a mark, and a mark is never a space."""
    pos = state.pos
    found = state.env["marks"].search(state.src, pos, state.posMax)
    end = found.start() if found else state.posMax
    if end == pos:
        return False
    if not silent:
        run = state.src[pos:end]
        if "\n" in run:
            run = _LINE_BREAK.sub("\n", run)
        _append_pending(state, run)
    state.pos = end
    return True


_SCHEME = re.compile(r"(?:^|[^a-z0-9.+-])([a-z][a-z0-9.+-]*)$", re.IGNORECASE)
_SCHEME_TAIL = 64  # longer than any scheme linkify-it knows (http, https, ftp, mailto)


def _linkify(state, silent: bool) -> bool:
    """markdown-it's inline linkify rule (a bare link at its "://"), looking for the scheme before
    it in the end of the text so far, not all of it: with line breaks kept in the text (_text),
    that text may be the whole paragraph, and reading it all again at every "://" was costly."""
    pos = state.pos
    if state.linkLevel > 0 or pos + 3 > state.posMax or not state.src.startswith("://", pos):
        return False
    pending = state.pending
    found = _SCHEME.search(pending, max(0, len(pending) - _SCHEME_TAIL))
    if not found or (found.start(1) == len(pending) - _SCHEME_TAIL and len(pending) > _SCHEME_TAIL):
        return False  # none, or a run of scheme characters longer than any scheme
    proto = found.group(1)
    link = state.md.linkify.match_at_start(state.src[pos - len(proto):])
    if not link:
        return False
    url = link.url.rstrip("*")  # a "*" after a link is emphasis
    full_url = state.md.normalizeLink(url)
    if not state.md.validateLink(full_url):
        return False
    if not silent:
        state.pending = pending[:-len(proto)]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": full_url}
        token.markup, token.info = "linkify", "auto"
        token = state.push("text", "", 0)
        token.content = state.md.normalizeLinkText(url)
        token = state.push("link_close", "a", -1)
        token.markup, token.info = "linkify", "auto"
    state.pos += len(url) - len(proto)
    return True


if hasattr(StateInline, "append_pending"):  # markdown-it-py's amortised O(1) append
    def _append_pending(state, run: str) -> None:
        state.append_pending(run)
else:
    def _append_pending(state, run: str) -> None:
        state.pending += run


def _text_render(self, tokens, idx, options, env):
    return escapeHtml(tokens[idx].content).replace("\n", "<br>\n")


# How a line that may start a fenced code block, a quote or a list item begins.
_TERMINATOR = re.compile(r"[-+*](?:[ \t\n]|\Z)|[0-9]{1,9}[.)](?:[ \t\n]|\Z)|>|```|~~~")
# Where an enabled inline rule may start ("]" ends a link's text, "://" is where a bare link is
# found); any other run of characters is text, taken in one step (see _text).
_INLINE_MARKS = {"linkify": "://", "escape": "\\", "backticks": "`", "strikethrough": "~", "emphasis": "*_",
                 "link": "[]", "autolink": "<", "mention": "@"}
# The rules a render may leave out (_crowded): inline ones, then block ones.
_LEAVABLE = frozenset(_INLINE_MARKS) | {"list", "blockquote", "fence", "code"}


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


def _link_words(text: str, marks: tuple[str, ...] = ("@", "://")) -> list[tuple[int, int]]:
    """The spans of the words holding "@" or "://", each with the white space before and after
    it (what linkify-it looks at to decide where a link may start and end), overlapping ones
    merged."""
    spans: list[tuple[int, int]] = []
    for mark in marks:
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


def _build(leaving_out: bool = False) -> MarkdownIt:
    """The parser. With `leaving_out`, each rule _crowded may leave out first asks whether this
    render leaves it out (`env["off"]`): one parser for every combination, not one for each (an
    instance holds some 200 kB)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True, "xhtmlOut": False})
    md.enable(["linkify", "strikethrough"])
    md.disable(["heading", "lheading", "hr", "image", "reference", "entity", "html_block", "html_inline"])
    # Links need their scheme ("example.com" stays text); e-mail addresses become mailto: links.
    md.linkify = _Linkify(md.linkify).set({"fuzzy_link": False, "fuzzy_email": True})
    md.validateLink = _valid_link
    md.inline.ruler.before("emphasis", "mention", _mention)
    md.inline.ruler.at("text", _text)
    md.inline.ruler.at("linkify", _linkify)
    md.block.ruler.at("paragraph", _paragraph)
    md.core.ruler.push("block_direction", _block_direction)
    md.core.ruler.push("empty_links", _empty_links)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("mention", _mention_render)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _code_block)
    md.add_render_rule("text", _text_render)
    if leaving_out:
        for ruler, wrap in ((md.inline.ruler, _inline_rule), (md.block.ruler, _block_rule), (md.core.ruler, _core_rule)):
            for rule in ruler.__rules__:
                if rule.name in _LEAVABLE:
                    rule.fn = wrap(rule.name, rule.fn)
            ruler.__cache__ = None
    # The core rules after the block parser's, for a body that is paragraphs only (_paragraphs).
    md.after_blocks = [rule.fn for rule in md.core.ruler.__rules__
                       if rule.enabled and rule.name not in ("normalize", "block")]
    return md


def _inline_rule(name, rule):
    return lambda state, silent: name not in state.env["off"] and rule(state, silent)


def _block_rule(name, rule):
    return lambda state, start, end, silent: name not in state.env["off"] and rule(state, start, end, silent)


def _core_rule(name, rule):
    def core(state) -> None:
        if name not in state.env["off"]:
            rule(state)
    return core


@functools.cache
def _marks(off: frozenset[str]) -> tuple[re.Pattern, re.Pattern]:
    """Where the text rule stops (the marks of the inline rules left in), and what makes a
    paragraph more than its text (those, or an "@": an e-mail address)."""
    marks = [re.escape(chars) if rule == "linkify" else f"[{re.escape(chars)}]"
             for rule, chars in _INLINE_MARKS.items() if rule not in off]
    linked = marks + ["@"] if "linkify" not in off else marks
    return re.compile("|".join(marks) or r"(?!)"), re.compile("|".join(linked) or r"(?!)")


@functools.cache
def _block_start(off: frozenset[str]) -> re.Pattern | None:
    """A line that starts a block but a paragraph, for the block rules left in."""
    starts = {"list": r"[ \t]*(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)", "blockquote": r"[ \t]*>",
              "fence": r"[ \t]*(?:```|~~~)", "code": r" {0,3}\t| {4}"}
    starts = [pattern for rule, pattern in starts.items() if rule not in off]
    return re.compile("^(?:" + "|".join(starts) + ")", re.MULTILINE) if starts else None


_md = _build()
_md_leaving_out = _build(leaving_out=True)

# markdown-it looks ahead to the end of the text for what closes a "[", a "<" or an emphasis run,
# so a body crowded with unclosed ones costs time quadratic in its length (4,000 "[" took 41 ms).
# No message people write has this many; beyond it, that construct is shown as typed. Each group
# of marks counts on its own ("[" and "]" apart, "*" and "_" together).
CROWDED = 32
_CROWDABLE = {"link": (("[",), ("]",)), "autolink": (("<",),), "emphasis": (("*", "_"),),
              "strikethrough": (("~",),), "backticks": (("`",),), "linkify": (("://", "@"),),
              "escape": (("\\",),), "mention": (("@",),)}
_BLOCK_RULES = ("list", "blockquote", "fence", "code")
_BLOCK_RULES_SET = frozenset(_BLOCK_RULES)
# What a render may cost, in microseconds, as estimated below from what the body holds; beyond
# it the costliest constructs are shown as typed, one after another, until it fits.
BUDGET = 600
# Microseconds of CPU for each list item, quoted line, fence mark, line the block parser reads
# (when a body has any block but paragraphs), and each mark of an inline construct: measured on
# the 2-core machine while others loaded it (a quiet one takes about half). A link costs most (25 to 35 µs):
# markdown-it parses and encodes its address (mdurl) and its text.
_COSTS = {"list": 18.0, "blockquote": 7.0, "fence": 10.0, "lines": 2.0, "link": 25.0, "autolink": 30.0,
          "emphasis": 5.0, "strikethrough": 4.0, "backticks": 4.0, "linkify": 35.0, "escape": 5.0, "mention": 7.0}
# The list items and quotes that open a line, and each list item among them.
_CONTAINERS = re.compile(r"^(?:[ \t]*(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)))+", re.MULTILINE)
_ITEM_MARK = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)", re.MULTILINE)
_FENCE = re.compile(r"```|~~~")
# A line that may start a block but a paragraph (a quick look: _build makes the exact pattern).
_MAYBE_BLOCK = re.compile(r"(?:^|\n)(?:[ \t]*[-+*>0-9`~]| {0,3}\t| {4})")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def _crowded(text: str) -> frozenset[str]:
    """The constructs shown as typed in this body: those crowded past CROWDED marks, then the
    costliest ones until the estimated cost fits BUDGET."""
    counts = {rule: max(sum(text.count(mark) for mark in group) for group in groups)
              for rule, groups in _CROWDABLE.items()}
    crowded = {rule for rule, count in counts.items() if count > CROWDED}
    counts["link"] = text.count("[")  # each "[" may open a link; a "]" alone costs little
    # The "://" of a link's destination is read by the link rule, not linkify's (while links are in).
    in_links = min(text.count("://"), text.count("](")) if "link" not in crowded else 0
    counts["linkify"] -= in_links
    costs = {rule: _COSTS[rule] * count for rule, count in counts.items() if rule not in crowded and count}
    if "link" in costs:
        # markdown-it reads a link's destination and title character by character (up to twice:
        # once more when an outer "[" looks for its end): a long one without an end is costly.
        costs["link"] += 0.2 * _link_tails(text)
    if in_links and "linkify" not in crowded:
        costs.setdefault("linkify", 0.0)
    if "linkify" in costs:
        # linkify-it reads every character of a word that may hold an address (see _Linkify; a
        # bare link at its "://" is read from there on only).
        costs["linkify"] += 0.3 * sum(end - start for start, end in _link_words(text, ("@",)))
    if _MAYBE_BLOCK.search(text):
        # The block parser's look at every line, at every space or tab that indents one, and its
        # tokens for every paragraph (some 8 µs each).
        lines = (_COSTS["lines"] * text.count("\n") + 0.3 * sum(map(len, _INDENT.findall(text)))
                 + 8.0 * len(_BLANK_LINES.findall(text)))
        if lines > BUDGET:  # no block but paragraphs, whatever else the body holds
            crowded.update(_BLOCK_RULES)
        else:
            costs["lines"] = lines
            # Every list item and quote a line opens, nested ones too ("> - > - a" opens four).
            prefixes = "\n".join(_CONTAINERS.findall(text))
            for rule, count in (("list", len(_ITEM_MARK.findall(prefixes))), ("blockquote", prefixes.count(">")),
                                ("fence", len(_FENCE.findall(text)))):
                if count:
                    costs[rule] = _COSTS[rule] * count
    while sum(costs.values()) > BUDGET:
        costliest = max(costs, key=costs.get)
        del costs[costliest]
        if costliest == "lines":
            crowded.update(_BLOCK_RULES)
            for rule in _BLOCK_RULES:
                costs.pop(rule, None)
        else:
            crowded.add(costliest)
            if costliest == "link" and "linkify" in costs:  # the links' addresses become bare links
                costs["linkify"] += _COSTS["linkify"] * in_links
    return frozenset(crowded)


_DESTINATION_END = re.compile(r"[\x00-\x20\x7f]")
_ANGLED_END = re.compile(r"[\n<>]")
_TITLE_ENDS = {'"': re.compile('"'), "'": re.compile("'"), "(": re.compile(r"\)")}


def _link_tails(text: str) -> int:
    """How many characters markdown-it may read after a "](" (a destination, then a title) at
    most, summed over them: up to what ends a destination, then up to the end of a title."""
    total = 0
    at = text.find("](")
    while at >= 0:
        start = at + 2
        while start < len(text) and text[start] in " \t\n":
            start += 1
        ending = _ANGLED_END if text.startswith("<", start) else _DESTINATION_END
        found = ending.search(text, start + 1)
        end = found.start() if found else len(text)
        while end < len(text) and text[end] in " \t\n":
            end += 1
        if end < len(text) and text[end] in _TITLE_ENDS:
            found = _TITLE_ENDS[text[end]].search(text, end + 1)
            end = found.start() if found else len(text)
        total += end - at
        at = text.find("](", at + 2)
    return total


_NEWLINES = re.compile(r"\r\n?")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
# The spaces before a line break and the spaces and tabs after it (each run matched from its
# start only, so a long run of spaces is read once, not once for each of its characters).
_LINE_BREAK = re.compile(r"(?<! ) *\n[ \t]*")


def _line_breaks(html: str) -> str:
    if " \n" in html or "\n " in html or "\n\t" in html:
        html = _LINE_BREAK.sub("\n", html)
    return html.replace("\n", "<br>\n")


def _paragraphs(text: str, md: MarkdownIt, env: dict) -> str:
    """The HTML of a body that is paragraphs only (no line starts another block), without
    markdown-it's block parser and its cost for every line (a body of 2,000 one-letter lines took
    it 10 ms): the paragraphs are the runs of lines between empty ones, each trimmed, as the block
    parser makes them. A paragraph with no mark an enabled rule reacts to (most of them) is its
    text, escaped, its line breaks made `<br>`: what markdown-it makes of it, in a few passes over
    the whole text. The others go through markdown-it's inline and core rules, all in one go."""
    body = text.strip(" \t\n")
    if not body:
        return ""
    parts = [part.strip(_TRIM) for part in _BLANK_LINES.split(body)]
    # "\0" (never in a body: render_body replaced it) stands between paragraphs.
    joined = "\0".join(parts)
    html = _line_breaks(escapeHtml(joined)).split("\0")
    marked = None
    for found in env["paragraph_marks"].finditer(joined):
        if marked is None:
            ends = list(accumulate(len(part) + 1 for part in parts))
            marked = {}
        index = bisect_right(ends, found.start())
        if index not in marked:
            token = marked[index] = Token("inline", "", 0)
            token.content, token.children, token.block, token.level = parts[index], [], True, 1
    if marked:
        state = StateCore(joined, md, env)
        state.tokens = list(marked.values())
        for rule in md.after_blocks:
            rule(state)
        for index, token in marked.items():
            html[index] = md.renderer.render([token], md.options, env)
    if len(html) == 1:
        return html[0]
    return '<p dir="auto">' + '</p>\n<p dir="auto">'.join(html) + "</p>"


def render_body(text: str) -> Markup:
    """The body as HTML. One paragraph (most messages) is its inline content alone: the message's
    own `<div class="body" dir="auto">` is its block."""
    text = _NEWLINES.sub("\n", text).replace("\0", "\ufffd")
    off = _crowded(text)
    md = _md_leaving_out if off else _md
    marks, paragraph_marks = _marks(off - _BLOCK_RULES_SET)
    env = {"off": off, "marks": marks, "paragraph_marks": paragraph_marks}
    block_start = _block_start(off & _BLOCK_RULES_SET)
    if block_start is None or not block_start.search(text):
        return Markup(_paragraphs(text, md, env))
    tokens = md.parse(text, env)
    if len(tokens) == 3 and tokens[0].type == "paragraph_open":
        tokens = tokens[1:2]
    return Markup(md.renderer.render(tokens, md.options, env).rstrip("\n"))


_RICH = re.compile(r"<(?!/?p[ >]|br>)")  # any tag but a paragraph's or a line break


def is_plain(html: str) -> bool:
    """Whether rendered HTML is only paragraphs and line breaks: no links, lists, code or
    emphasis, so the text as typed says all of it (the message's spoken sentence uses it)."""
    return not _RICH.search(html)


def mentions(text: str) -> list[str]:
    return sorted({name.lower() for name in _MENTION.findall(text)})
