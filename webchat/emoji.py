"""Emoji as reactions: which text is one emoji, and what to call it for a screen reader."""

from __future__ import annotations

import unicodedata

from webchat import i18n
from webchat.i18n import lazy_gettext

# Offered on every message; any other emoji can be given from the message's reactions page. Their
# names are the buttons' accessible names, in the language of the render.
QUICK = (("👍", lazy_gettext("thumbs up")), ("❤️", lazy_gettext("heart")), ("😂", lazy_gettext("laughing")),
         ("🎉", lazy_gettext("party")), ("😮", lazy_gettext("surprised")), ("😢", lazy_gettext("sad")))
QUICK_NAMES = dict(QUICK)
DISTINCT_MAX = 20
EMOJI_MAX = 16  # code points: long enough for a family or a flag with its tags, not for text

# What emoji are made of: pictographs, symbols, flags' regional letters and tags, and the joiners,
# presentation selectors, skin tones and keycap marks that combine them.
_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF), (0x2190, 0x21FF),
           (0x2900, 0x297F), (0xE0020, 0xE007F), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297),
           (0x3299, 0x3299), (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x2122, 0x2122), (0x2139, 0x2139),
           (0x203C, 0x203C), (0x2049, 0x2049), (0x24C2, 0x24C2), (0x25A0, 0x25FF))
_JOINERS = {0x200D, 0xFE0F, 0xFE0E, 0x20E3}
_KEYCAP_BASES = set("#*0123456789")


def clean_emoji(raw: str) -> tuple[str, str | None]:
    """The emoji as it will be stored, and the problem with it if any."""
    emoji = unicodedata.normalize("NFC", raw.strip())
    if not emoji:
        return emoji, i18n.gettext("Choose an emoji.")
    if len(emoji) > EMOJI_MAX:
        return emoji, i18n.gettext("That is more than one emoji: give one at a time.")
    if not all(_emoji_part(ch, emoji[i + 1:i + 2]) for i, ch in enumerate(emoji)):
        return emoji, i18n.gettext("Only an emoji can be a reaction (for words, write a message).")
    if all(ord(ch) in _JOINERS or 0x1F3FB <= ord(ch) <= 0x1F3FF for ch in emoji):
        return emoji, i18n.gettext("Choose an emoji.")
    return emoji, None


def _emoji_part(ch: str, following: str) -> bool:
    code = ord(ch)
    if code in _JOINERS or any(low <= code <= high for low, high in _RANGES):
        return True
    # "#", "*" and digits only as the base of a keycap: "1" + U+FE0F + U+20E3.
    return ch in _KEYCAP_BASES and following in ("\ufe0f", "\u20e3")


def emoji_name(emoji: str) -> str:
    """What a screen reader should call it: "thumbs up" (in the current language), else Unicode's
    name, in lower case (Unicode names are English only)."""
    if emoji in QUICK_NAMES:
        return str(QUICK_NAMES[emoji])
    letters = [chr(ord(ch) - 0x1F1E6 + ord("A")) for ch in emoji if 0x1F1E6 <= ord(ch) <= 0x1F1FF]
    if len(letters) == 2:
        return i18n.gettext("flag %(code)s", code="".join(letters))
    for ch in emoji:
        if ord(ch) not in _JOINERS:
            try:
                return unicodedata.name(ch).lower().removesuffix(" sign")
            except ValueError:
                break
    return emoji




def names_text(names: list[str]) -> str:
    """"Ana", "Ana and Ben", "Ana, Ben and Cleo", in the current language."""
    if len(names) <= 1:
        return "".join(names)
    return i18n.gettext("%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])


def reaction_label(emoji: str, people: list) -> str:
    """A reaction button's accessible name without knowing the reader: "thumbs up: Ana and Ben".
    (The page's script puts the reader last, as "you".)"""
    return i18n.gettext("%(reaction)s: %(people)s", reaction=emoji_name(emoji),
                        people=names_text([name for _, name in people]))
