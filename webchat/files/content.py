"""What a file is (decided by its bytes, never its name or the browser's word) and, for images,
the clean copy and thumbnail that are served instead of what was sent.

Images are decoded and encoded again with Pillow: what comes out holds pixels only (no EXIF, GPS,
comments, text chunks or colour profiles, nor anything hidden after the image data, as in a
polyglot), turned upright as the camera's orientation said. Decoding is bounded: an image of more
than MAX_PIXELS pixels (a decompression bomb) is refused before its pixels are read.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from webchat import i18n

HEAD = 8192
MAX_PIXELS = 40_000_000  # 8,000 x 5,000: any photo a phone takes; a bomb is far above
THUMB = (480, 360)  # the largest thumbnail, in CSS pixels at 1x
# Shown inline (after re-encoding); every other type is offered as a download only.
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "PNG", "image/webp": "PNG",
               "image/bmp": "PNG"}
OUTPUT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


class Unusable(ValueError):
    """The file cannot be taken; the message says why, for the person who sent it (in their
    language). `too_large`: an image with too many pixels (refused, not taken as a download)."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def sniff(head: bytes) -> str:
    """The content type of a file from its first bytes."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of the head
            return "application/octet-stream"
        text = head[: error.start].decode("utf-8")
    if "\x00" in text:
        return "application/octet-stream"
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered[:2048]:
        return "image/svg+xml"
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body", "<script", "<iframe")) or "<html" in lowered[:1024]:
        return "text/html"
    if lowered.startswith("<?xml"):
        return "application/xml"
    if lowered.startswith("%pdf"):
        return "application/pdf"
    return "text/plain"


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int


def clean_image(source: BinaryIO) -> CleanImage:
    """Decode, turn upright, strip, re-encode; and a thumbnail. Runs in a worker thread."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    wide, high = format(width, ","), format(height, ",")
                    raise Unusable(i18n.gettext(
                        "The image is too large: %(width)s × %(height)s pixels (at most %(millions)d million pixels).",
                        width=wide, height=high, millions=MAX_PIXELS // 1_000_000), too_large=True)
                fmt = "JPEG" if opened.format == "JPEG" else "PNG"
                opened.seek(0)  # the first frame of an animation
                image = ImageOps.exif_transpose(opened)
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Unusable(i18n.gettext("The image is too large (at most %(millions)d million pixels).",
                                        millions=MAX_PIXELS // 1_000_000), too_large=True) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            if isinstance(error, Unusable):
                raise
            raise Unusable(i18n.gettext("The image could not be read; it may be damaged.")) from None
    image = _pixels(image, fmt)
    data = _encode(image, fmt)
    thumb = image.copy()
    thumb.thumbnail(THUMB, Image.Resampling.LANCZOS)
    return CleanImage(data, OUTPUT_TYPES[fmt], image.width, image.height, _encode(thumb, fmt),
                      thumb.width, thumb.height)


def _pixels(image: Image.Image, fmt: str) -> Image.Image:
    """Pixels only: a fresh image, with nothing of the original's metadata carried over."""
    mode = "RGB" if fmt == "JPEG" else ("RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB")
    converted = image.convert(mode)
    bare = Image.new(mode, converted.size)
    bare.paste(converted)
    return bare


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=85, optimize=True)
    else:
        image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def inline_type(content_type: str) -> bool:
    return content_type in OUTPUT_TYPES.values()
