"""The renderer as it was before the work on its speed (webchat/text.py at 1609c7c: markdown-it
for every body, one token for every line break, linkify-it shown whole paragraphs), kept here to
check that today's renders what people write exactly as it did. Only the bodies today's renderer
leaves out some construct for (a crowd of marks, or past its cost budget, which the old one did not
have) may differ, and the properties of test_text.py hold for those."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
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


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True, "xhtmlOut": False})
    md.enable(["linkify", "strikethrough"])
    md.disable(["heading", "lheading", "hr", "image", "reference", "entity", "html_block", "html_inline"])
    # Links need their scheme ("example.com" stays text); e-mail addresses become mailto: links.
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": True})
    md.validateLink = _valid_link
    md.inline.ruler.before("emphasis", "mention", _mention)
    md.core.ruler.push("block_direction", _block_direction)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("mention", _mention_render)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _code_block)
    return md


_md = _build()

# markdown-it looks ahead to the end of the text for what closes a "[", a "<" or an emphasis run,
# so a body crowded with unclosed ones costs time quadratic in its length (4,000 "[" took 41 ms).
# No message people write has this many; beyond it, that construct is shown as typed.
CROWDED = 32
_CROWDABLE = {"link": ("[",), "autolink": ("<",), "emphasis": ("*", "_"), "strikethrough": ("~",),
              "backticks": ("`",), "linkify": ("://", "@")}
_variants: dict[frozenset[str], MarkdownIt] = {frozenset(): _md}


def _renderer_for(text: str) -> MarkdownIt:
    crowded = frozenset(rule for rule, marks in _CROWDABLE.items()
                        if sum(text.count(mark) for mark in marks) > CROWDED)
    md = _variants.get(crowded)
    if md is None:
        md = _variants[crowded] = _build()
        md.disable(list(crowded))
    return md


def render_before(text: str) -> Markup:
    """The body as HTML. One paragraph (most messages) is its inline content alone: the message's
    own `<div class="body" dir="auto">` is its block."""
    md = _renderer_for(text)
    tokens = md.parse(text)
    if len(tokens) == 3 and tokens[0].type == "paragraph_open":
        tokens = tokens[1:2]
    return Markup(md.renderer.render(tokens, md.options, {}).rstrip("\n"))


# ---------------------------------------------------------------------------------------------
# The comparison.

from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from webchat import text  # noqa: E402

# What people type, and what Markdown, linking and escaping care about: lines and paragraphs of it.
PIECES = st.sampled_from([
    "*", "**", "_", "~~", "`", "```", "```py\n", "[", "]", "(", ")", "![", "](", "<", ">", "&", "\\", "\n",
    "\n\n", "> ", "- ", "* ", "1. ", "3) ", "    ", "# ", "---", "===", "http://", "https://", "mailto:",
    "javascript:", "//", "a@b.cd", "ana@example.org", "x.org", "https://example.org/a_(b)", "a", "b c",
    "word ", "é", "ภาษาไทย", "😀", "\u202e", '"', "'", "&lt;", "<script>", "\x00", "\r\n", "\t", " ", "  ",
    "  \n", "\\\n", "|", "[x]: http://a.b", "<http://a.b>", " title=\"t\"", "@", "@ben", "@ana.b", "@<x>",
    "@@", "\u00a0", "\u3000", "\x0b", "\u2028", "\n\t", "\n   ", "\n    ",
])
BODIES = st.lists(PIECES, max_size=120).map("".join) | st.text(max_size=400)
PLAIN = st.lists(st.sampled_from(["a", "b c", "word ", " ", "  ", "\t", "\n", "\n\n", "  \n", "\n  ",
                                  "é", "ภาษาไทย", "😀", "\u00a0", "\u3000", "\x0b", "\u2028", "&", "#", "!",
                                  "(", ")", "'", '"', "=", "-", "1", "x.", "\r\n", "\x00"]),
                 max_size=200).map("".join)


def _left_out_today_only(body: str) -> bool:
    """Whether today's renderer shows a construct as typed that the old one rendered."""
    normal = text._NEWLINES.sub("\n", body).replace("\0", "\ufffd")
    return bool(text._crowded(normal) - _old_crowded(normal))


def _old_crowded(body: str) -> set[str]:
    return {rule for rule, marks in _CROWDABLE.items() if sum(body.count(mark) for mark in marks) > CROWDED}


@settings(max_examples=1500, deadline=None)
@given(BODIES)
def test_bodies_render_as_they_did_before(body):
    assume(not _left_out_today_only(body))
    before = str(render_before(body))
    assume('href=""' not in before)  # "[a]()": a link to nowhere then, its text now
    assert str(text.render_body(body)) == before


@settings(max_examples=500, deadline=None)
@given(PLAIN)
def test_plain_bodies_made_without_markdown_it_render_as_they_did_before(body):
    assert str(text.render_body(body)) == str(render_before(body))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["*a*", "[x](https://a.example)", "ana@example.org", "`c`", "@ben", "\\*",
                                 "~~s~~", "<https://b.example>", "https://c.example/d"]), max_size=12),
       st.lists(st.sampled_from(["line", "a longer line of words", "", "  indented", "\t", "ภาษาไทย"]),
                min_size=50, max_size=400))
def test_long_bodies_with_a_little_formatting_render_as_they_did_before(marks, lines):
    """Many lines and paragraphs, a few marks among them: the shapes the renderer takes short cuts
    for (paragraphs apart, plain paragraphs without markdown-it)."""
    body = "\n".join(lines)
    for index, mark in enumerate(marks):
        at = (index * 7919) % (len(body) + 1)
        body = body[:at] + mark + body[at:]
    assume(not _left_out_today_only(body))
    assert str(text.render_body(body)) == str(render_before(body))
