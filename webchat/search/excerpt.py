"""The part of a message shown for a result, with the terms found in it marked.

Built from the stored text, escaped piece by piece: only the `<mark>` elements are markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

WIDTH = 200  # characters of context shown around the first match


def _pattern(terms: list[str]) -> re.Pattern | None:
    if not terms:
        return None
    # Longest first, so that "budget" is marked whole when "bud" is a term too.
    alternatives = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in alternatives), re.IGNORECASE)


def excerpt(body: str, terms: list[str], width: int = WIDTH) -> Markup:
    """A window of the body around its first match (the whole of a short body), each match in
    `<mark>`, with "…" where text is left out."""
    text = " ".join(body.split())  # line breaks and runs of spaces as one space
    pattern = _pattern(terms)
    first = pattern.search(text) if pattern else None
    start = 0
    if len(text) > width and first is not None:
        start = max(0, min(first.start() - width // 4, len(text) - width))
        if start:  # not in the middle of a word when a space is near
            space = text.rfind(" ", max(0, start - 15), first.start())
            start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    window = text[start:end]
    parts = [Markup("…")] if start else []
    last = 0
    for match in pattern.finditer(window) if pattern else ():
        parts.append(escape(window[last:match.start()]))
        parts.append(Markup("<mark>%s</mark>") % window[match.start():match.end()])
        last = match.end()
    parts.append(escape(window[last:]))
    if end < len(text):
        parts.append(Markup("…"))
    return Markup("").join(parts)
