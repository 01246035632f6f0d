"""How attachments read in a message: sizes, kinds, and the sentence a screen reader hears."""

from __future__ import annotations

from jinja2 import Environment

KINDS = {
    "application/pdf": "PDF document", "text/plain": "Text file", "text/html": "HTML file",
    "image/svg+xml": "SVG image (download)", "application/zip": "ZIP archive",
    "application/octet-stream": "File", "image/jpeg": "JPEG image", "image/png": "PNG image",
}


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def file_kind(content_type: str) -> str:
    if content_type in KINDS:
        return KINDS[content_type]
    major, _, minor = content_type.partition("/")
    return f"{minor.upper() or major} file"


def attachments_said(files: list[dict]) -> str:
    """"1 image: a cat on a sofa"; "2 images: a cat, decorative"; "1 file: report.pdf"."""
    images = [item for item in files if item["image"]]
    others = [item for item in files if not item["image"]]
    parts = []
    if images:
        described = "; ".join(item["alt"] or "decorative" for item in images)
        parts.append(f"{len(images)} image{'s' if len(images) > 1 else ''}: {described}")
    if others:
        named = ", ".join(item["name"] for item in others)
        parts.append(f"{len(others)} file{'s' if len(others) > 1 else ''}: {named}")
    return ". ".join(parts)


def init(env: Environment) -> None:
    env.filters["file_size"] = file_size
    env.filters["file_kind"] = file_kind
    env.globals["attachments_said"] = attachments_said
