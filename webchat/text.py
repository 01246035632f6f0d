"""Message bodies: stored as typed, shown escaped with line breaks kept and web links made links."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"'\x00-\x1f\x7f]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.\-]{3,32})")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _split_url(url: str) -> tuple[str, str]:
    """Leave trailing punctuation out of a link ("see https://x.org." links https://x.org)."""
    end = len(url)
    while end > 0 and url[end - 1] in _TRAILING:
        if url[end - 1] == ")" and url[:end].count("(") >= url[:end].count(")"):
            break
        end -= 1
    return url[:end], url[end:]


def render_body(text: str) -> Markup:
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url, rest = _split_url(match.group(0))
        parts.append(str(escape(text[position : match.start()])))
        if len(url) > len("https://"):
            href = escape(url)
            parts.append(f'<a href="{href}" rel="noopener noreferrer nofollow">{href}</a>')
        else:
            parts.append(str(escape(url)))
        parts.append(str(escape(rest)))
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup(_NEWLINE.sub("<br>\n", "".join(parts)))


def mentions(text: str) -> list[str]:
    return sorted({name.lower() for name in _MENTION.findall(text)})


def sse_lines(text: str) -> list[str]:
    """Split on exactly the line ends that the SSE wire format treats as line ends."""
    return _NEWLINE.split(text)
