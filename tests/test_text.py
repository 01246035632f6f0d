"""Message bodies as HTML: escaped, links made, and linear in the length whatever the text."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from webchat.text import LINK_MAX, render_body

# Text made of what link trimming and escaping care about, so the examples are hard ones.
PIECES = st.sampled_from(["http://", "https://", "a", "b.c", "(", ")", ".", ",", "!", "?", "'", '"', "<",
                          ">", "&", " ", "\n", "\r\n", "é", "/", "#", "HTTP://", "]", "}", "\x00"])
BODIES = st.lists(PIECES, max_size=200).map("".join) | st.text(max_size=400)


class Shape(HTMLParser):
    """Tags and attributes as an HTML parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_rendered_bodies_hold_only_links_and_line_breaks(body):
    html = str(render_body(body))
    shape = Shape()
    shape.feed(html)
    shape.close()
    for tag, attrs in shape.tags:
        assert tag in ("a", "br"), html
        if tag == "a":
            assert set(attrs) == {"href", "rel"}
            assert re.match(r"https?://", attrs["href"], re.I) and len(attrs["href"]) <= LINK_MAX
            assert attrs["rel"] == "noopener noreferrer nofollow"
    # Nothing is lost: the text read back is the text written (line ends as <br>).
    assert "".join(shape.text).replace("\n", "") == re.sub(r"\r\n|\r|\n", "", body)


def test_links_end_before_trailing_punctuation_but_keep_their_own_parentheses():
    assert str(render_body("(see https://en.wikipedia.org/wiki/Python_(language)).")) == (
        '(see <a href="https://en.wikipedia.org/wiki/Python_(language)" rel="noopener noreferrer nofollow">'
        'https://en.wikipedia.org/wiki/Python_(language)</a>).')


def test_overlong_links_are_shown_as_text():
    url = "https://example.org/" + "a" * LINK_MAX
    assert "<a" not in str(render_body(url)) and url in str(render_body(url))


def _seconds(body: str, repeat: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        render_body(body)
    return (time.perf_counter() - start) / repeat


def test_rendering_grows_linearly_with_hostile_bodies():
    """Ten times the text costs about ten times the time, not a hundred (a body of 3,990 ")"
    used to take 10 ms, recounting brackets for each one). The timing figure is in the bench;
    this checks the shape, with room for a noisy machine."""
    for make in (lambda n: "http://a" + ")" * n, lambda n: "http://ab " * (n // 10),
                 lambda n: "http://a" + "(" * (n // 2) + ")" * (n // 2)):
        small, large = _seconds(make(390)), _seconds(make(3990))
        assert large < small * 30, (small, large)
