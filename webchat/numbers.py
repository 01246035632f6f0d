"""Numbers shown to people, written the current language's way (Babel): counts ("1,234") and
sizes ("1.2 MB"). A render that writes one counts as a translated lookup (webchat.i18n), like a
translated string, so it is kept per language."""

from __future__ import annotations

from babel.numbers import format_decimal, format_number

from webchat import i18n
from webchat.clock import language

KB = 1024
MB = 1024 * 1024


def count(n: int) -> str:
    """A whole number: "1,234" (both English and Thai group by thousands with a comma)."""
    return format_number(n, locale=language())


def decimal(value: float, digits: int = 1) -> str:
    """A number with at most `digits` decimals, trailing zeros dropped: "1.2", "3"."""
    return format_decimal(value, format="#,##0." + "#" * digits if digits else "#,##0", locale=language())


def size_number(size: int) -> tuple[str, str]:
    """A size in bytes as a number and its unit: ("512", "bytes"), ("12", "KB"), ("1.2", "MB").
    The unit is for a translated sentence to place: `_("%(size)s MB", size=...)`."""
    if size < KB:
        return count(size), "bytes"
    if size < MB:
        return count(round(size / KB)), "KB"
    return decimal(size / MB, 1), "MB"


def size(size: int) -> str:
    """A size for people: "512 bytes", "12 KB", "1.2 MB" (in the current language)."""
    number, unit = size_number(size)
    if unit == "bytes":
        return i18n.ngettext("%(size)s byte", "%(size)s bytes", size, size=number)
    if unit == "KB":
        return i18n.gettext("%(size)s KB", size=number)
    return i18n.gettext("%(size)s MB", size=number)
