"""How attachments read in a message: sizes, kinds, and the sentence a screen reader hears."""

from __future__ import annotations

from jinja2 import Environment

from webchat import i18n
from webchat.i18n import lazy_gettext

KINDS = {
    "application/pdf": lazy_gettext("PDF document"), "text/plain": lazy_gettext("Text file"),
    "text/html": lazy_gettext("HTML file"), "image/svg+xml": lazy_gettext("SVG image (download)"),
    "application/zip": lazy_gettext("ZIP archive"), "application/octet-stream": lazy_gettext("File"),
    "image/jpeg": lazy_gettext("JPEG image"), "image/png": lazy_gettext("PNG image"),
}


def file_size(size: int) -> str:
    if size < 1024:
        return i18n.ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def file_kind(content_type: str) -> str:
    if content_type in KINDS:
        return str(KINDS[content_type])
    major, _, minor = content_type.partition("/")
    return i18n.gettext("%(kind)s file", kind=minor.upper() or major)


def attachments_said(files: list[dict]) -> str:
    """"1 image: a cat on a sofa"; "2 images: a cat, decorative"; "1 file: report.pdf" (in the
    current language)."""
    images = [item for item in files if item["image"]]
    others = [item for item in files if not item["image"]]
    parts = []
    if images:
        described = "; ".join(item["alt"] or i18n.gettext("decorative") for item in images)
        parts.append(i18n.ngettext("%(num)d image: %(described)s", "%(num)d images: %(described)s", len(images),
                                   described=described))
    if others:
        named = ", ".join(item["name"] for item in others)
        parts.append(i18n.ngettext("%(num)d file: %(named)s", "%(num)d files: %(named)s", len(others), named=named))
    if len(parts) == 2:
        return i18n.gettext("%(images)s. %(files)s", images=parts[0], files=parts[1])
    return parts[0] if parts else ""


def init(env: Environment) -> None:
    env.filters["file_size"] = file_size
    env.filters["file_kind"] = file_kind
    env.globals["attachments_said"] = attachments_said
