"""Message bodies as HTML: a safe Markdown subset, inert whatever the text, linear in its length."""

from __future__ import annotations

import re
import time
from html import escape as _html_escape
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webchat.text import ALLOWED, LINK_MAX, LINK_REL, is_plain, mentions, render_body

# Text made of what Markdown, linking and escaping care about, so the examples are hard ones.
PIECES = st.sampled_from([
    "*", "**", "_", "~~", "`", "```", "```py\n", "[", "]", "(", ")", "![", "](", "<", ">", "&", "\\", "\n",
    "\n\n", "> ", "- ", "* ", "1. ", "3) ", "    ", "# ", "---", "===", "http://", "https://", "mailto:",
    "javascript:", "JavaScript:", "data:", "vbscript:", "//", "a@b.cd", "x.org", "a", "b c", "é", "\u202e",
    '"', "'", "&lt;", "&#60;", "&#x3c;", "&amp;", "<script>", "<b>", "onerror=", "\x00", "\r\n", "\t", "|",
    "[x]: http://a.b", "<http://a.b>", " title=\"t\"", "@", "@ben", "@ana.b", "@<x>", "@a\"b", "@@",
])
BODIES = st.lists(PIECES, max_size=120).map("".join) | st.text(max_size=400)
VOID = {"br"}
BLOCKS = {"p", "pre", "blockquote", "ul", "ol", "li", "figure"}


class Shape(HTMLParser):
    """Tags and attributes as an HTML parser sees them, and whether they nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.open: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}> closes nothing open")

    def handle_data(self, data):
        self.text.append(data)


def shape_of(html: str) -> Shape:
    shape = Shape()
    shape.feed(html)
    shape.close()
    return shape


@settings(max_examples=500, deadline=None)
@given(BODIES)
def test_rendered_bodies_are_well_formed_and_hold_only_the_allowed_tags(body):
    html = str(render_body(body))
    shape = shape_of(html)
    assert not shape.problems and not shape.open, (shape.problems, shape.open, html)
    # Every "<" in the output starts one of our tags: none comes from the text.
    assert all(re.match(r"</?(%s)[ >]" % "|".join(ALLOWED), html[m.start():]) for m in re.finditer("<", html)), html
    for tag, attrs in shape.tags:
        assert tag in ALLOWED, html
        assert set(attrs) <= ALLOWED[tag], (tag, attrs)
        if tag == "a" and attrs.get("class") == "mention":
            # A mention: a link to a profile by a name of a username's shape, nothing else.
            assert set(attrs) == {"href", "class"}
            assert re.fullmatch(r"/users/[A-Za-z0-9_.\-]{3,32}", attrs["href"]), html
        elif tag == "a":
            assert set(attrs) == {"href", "rel"} and attrs["rel"] == LINK_REL
            assert re.match(r"(https?://|mailto:)", attrs["href"], re.I) and len(attrs["href"]) <= LINK_MAX
        if tag in BLOCKS:
            assert attrs.get("dir") == "auto", (tag, html)
        if "class" in attrs:
            assert attrs["class"] in ("code", "code-language", "mention")
        if "start" in attrs:
            assert attrs["start"].isdigit()


def render(text: str) -> str:
    return str(render_body(text))


def test_the_formatting_people_type():
    # One paragraph is its inline content: the message's own block (dir="auto") holds it.
    assert render("*soft* **loud** ~~gone~~ `x < y`") == (
        '<em>soft</em> <strong>loud</strong> <s>gone</s> <code>x &lt; y</code>')
    assert render("> quoted\n\n- one\n- two\n\n3. three\n4. four") == (
        '<blockquote dir="auto">\n<p dir="auto">quoted</p>\n</blockquote>\n'
        '<ul dir="auto">\n<li dir="auto">one</li>\n<li dir="auto">two</li>\n</ul>\n'
        '<ol start="3" dir="auto">\n<li dir="auto">three</li>\n<li dir="auto">four</li>\n</ol>')


def test_line_breaks_stay_as_typed():
    assert render("one\ntwo\r\nthree") == "one<br>\ntwo<br>\nthree"
    assert render("one\ntwo\n\nthree") == '<p dir="auto">one<br>\ntwo</p>\n<p dir="auto">three</p>'


def test_fenced_code_keeps_its_text_and_names_its_language():
    assert render("```python\nif a < b:\n    print('*not emphasis*')\n```") == (
        '<figure class="code" dir="auto"><figcaption class="code-language">python</figcaption>'
        "<pre dir=\"auto\"><code>if a &lt; b:\n    print('*not emphasis*')\n</code></pre></figure>")
    # A "language" that is not a plain word is left out rather than shown.
    assert render('```"><script>\nx\n```') == '<pre dir="auto"><code>x\n</code></pre>'


def test_links_are_web_and_mail_links_only_and_say_they_are_user_content():
    rel = f'rel="{LINK_REL}"'
    assert render("see https://example.org/a_(b)).") == (
        f'see <a href="https://example.org/a_(b)" {rel}>https://example.org/a_(b)</a>).')
    assert render("[docs](https://example.org \"a title\")") == (
        f'<a href="https://example.org" {rel}>docs</a>')
    assert render("ana@example.org") == (
        f'<a href="mailto:ana@example.org" {rel}>ana@example.org</a>')
    for hostile in ("[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "<javascript:alert(1)>",
                    "[x](data:text/html,hi)", "[x](/relative)", "[x](//example.org)", "example.org"):
        assert "<a " not in render(hostile), hostile


def test_a_link_with_no_destination_is_its_text():
    assert render("[a]() and [b]( ) and [c](https://x.org)") == (
        f'a and b and <a href="https://x.org" rel="{LINK_REL}">c</a>')
    assert render("[]()") == ""
    # The link left out ends where it ends, not at the end of a link inside it.
    assert render("[x <http://a.bc> y]() z") == f'x <a href="http://a.bc" rel="{LINK_REL}">http://a.bc</a> y z'


def test_headings_rules_images_raw_html_and_entities_show_as_typed():
    assert render("# Not a heading") == "# Not a heading"
    assert render("Title\n===") == "Title<br>\n==="
    assert render("---") == "---"
    assert "<img" not in render("![cat](https://example.org/cat.png)")
    assert render("<b>bold</b> &lt;tag&gt; &#60;") == (
        "&lt;b&gt;bold&lt;/b&gt; &amp;lt;tag&amp;gt; &amp;#60;")
    # A reference definition is text, not a hidden line.
    assert "[x]:" in render("[x]: https://example.org\n[x]")


def test_overlong_links_are_shown_as_text():
    url = "https://example.org/" + "a" * LINK_MAX
    assert "<a" not in render(url) and url in render(url)


@pytest.mark.parametrize(("text", "plain"), [("hello\nthere", True), ("a < b & c", True), ("*hi*", False),
                                             ("https://example.org", False), ("- item", False)])
def test_plain_bodies_are_only_paragraphs_and_line_breaks(text, plain):
    assert is_plain(render(text)) is plain


def _seconds(body: str, repeat: int = 7) -> float:
    """The fastest of several renders: what the work costs, without other processes' turns on a
    shared machine."""
    render_body(body)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        render_body(body)
        times.append(time.perf_counter() - start)
    return min(times)


def test_rendering_grows_about_linearly_with_hostile_bodies():
    """Ten times the text costs about ten times the time, not a hundred. The figures for the
    worst bodies are in `python -m bench formatting`; this checks the shape, with room for a
    noisy machine."""
    for piece in ("[[", "<http://a", "a\n", "*a **b ***c", "http://a)"):
        small = _seconds((piece * 400)[:400])
        large = _seconds((piece * 4000)[:4000])
        assert large < small * 40, (piece, small, large)


def test_a_body_crowded_with_unclosed_openers_is_shown_as_typed():
    """Past a few dozen "[", "<", "*" or links, that construct is left as text: markdown-it would
    otherwise look ahead to the end of the body for each one (quadratic in the length)."""
    assert render_body("[" * 4000) == "[" * 4000
    crowded = "[x](https://a.example) " * 40
    assert "<a " not in render_body(crowded) and "[x](https://a.example)" in render_body(crowded)
    few = "[x](https://a.example) " * 3
    assert render_body(few).count('<a href="https://a.example"') == 3
    assert "<em>" in render_body("*a* " * 5) and "<em>" not in render_body("*a* " * 40)


def test_a_mention_links_to_the_profile_outside_code_and_links():
    link = '<a href="/users/{0}" class="mention">@{0}</a>'.format
    assert render_body("thanks @Ben.") == f"thanks {link('Ben')}."
    assert render_body("**@ana** and @bob_2-x.y") == f"<strong>{link('ana')}</strong> and {link('bob_2-x.y')}"
    # Not in code, not in another link's text, not in an address, not for a name too short.
    assert render_body("`@ben`") == "<code>@ben</code>"
    assert render_body("[ask @ben](https://x.org)") == (
        f'<a href="https://x.org" rel="{LINK_REL}">ask @ben</a>')
    assert "mention" not in render_body("ana@example.org https://x.org/@ben a@@ben @ab x.@ben")
    # mentions() finds the same names (lower-cased), for notices and the "mentions you" mark.
    assert mentions("thanks @Ben. and @ana, @ana") == ["ana", "ben"]


def test_crowded_escapes_mentions_and_closing_brackets_are_shown_as_typed():
    """Past a few dozen backslashes, "@" or "]", that construct is text too: markdown-it would make
    a token of each (a render of 4,000 of them took milliseconds)."""
    assert render_body("\\*" * 3) == "***" and render_body("\\*" * 40) == "\\*" * 40
    assert render_body("@ben " * 3).count('class="mention"') == 3
    assert "mention" not in render_body("@ben " * 40)
    assert ">x</a>" not in render_body("]" * 40 + " [x](https://a.example)")
    assert ">x</a>" in render_body("]" * 20 + " [x](https://a.example)")
    # mentions() still names everyone, for the notices.
    assert mentions("@ben " * 40) == ["ben"]


def test_a_body_past_the_cost_budget_shows_its_costliest_construct_as_typed():
    """Each construct has a cost (webchat.text._COSTS, measured); past BUDGET the costliest are
    shown as typed until the rest fits: a list of twenty is a list, one of a hundred is text."""
    assert render_body("- item\n" * 20).count("<li") == 20
    assert "<li" not in render_body("- item\n" * 100) and "- item<br>" in render_body("- item\n" * 100)
    # A long link destination or title with no end would be read again for every link before it.
    hostile = "[x](" * 25 + "x" * 3900
    assert render_body(hostile) == _html_escape(hostile, quote=False)
    assert render_body("[x](https://a.example) " * 5).count("<a ") == 5
    # Hundreds of lines are read by markdown-it's block parser only in paragraphs: the list
    # item of a body with 1,500 more lines is shown as typed.
    assert "<li" in render_body("- item\n" + "line\n" * 100)
    assert "<li" not in render_body("- item\n" + "line\n" * 1500)


def test_paragraphs_without_marks_are_their_text():
    assert render_body("one\n\n  two  \n three\n\n\n") == '<p dir="auto">one</p>\n<p dir="auto">two<br>\nthree</p>'
    assert render_body("a < b & c\n\nd") == '<p dir="auto">a &lt; b &amp; c</p>\n<p dir="auto">d</p>'
    assert render_body("*x*\n\nplain\n\n`y`") == (
        '<p dir="auto"><em>x</em></p>\n<p dir="auto">plain</p>\n<p dir="auto"><code>y</code></p>')
    assert render_body("") == "" and render_body(" \n\t\n") == ""


def test_a_bare_link_after_a_long_run_of_text_is_found_as_before():
    """The scheme before a "://" is looked for in the end of the text so far (webchat.text._linkify):
    a long paragraph before it changes nothing, and a scheme glued to a word is still no scheme."""
    rel = f'rel="{LINK_REL}"'
    lines = "a line of text\n" * 200
    assert render(lines + "see https://example.org/x") == (
        lines.replace("\n", "<br>\n") + f'see <a href="https://example.org/x" {rel}>https://example.org/x</a>')
    assert "<a " not in render("x" * 100 + "http://example.org/x")
    assert "<a " not in render("xhttp://example.org/x")
