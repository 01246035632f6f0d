"""Multipart posts with files, and images made for the tests with Pillow."""

from __future__ import annotations

import io
import secrets

from PIL import Image


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body (fields, then `file` parts named as given) and its content type."""
    boundary = "----webchat" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for filename, data in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


async def send(browser, room: int, body: str = "", files: list[tuple[str, bytes]] = (), fields=(), htmx=False):
    """Post to the room with files, as the composer's multipart form does."""
    token = await browser.ensure_token()
    form = [("csrf_token", token), ("body", body), *fields]
    data, content_type = multipart(form, list(files))
    headers = {"Content-Type": content_type}
    if htmx:
        headers["HX-Request"] = "true"
    response = await browser.client.post(f"/rooms/{room}/messages", data=data, headers=headers)
    return await browser._page(response)


def png(width: int = 64, height: int = 48, colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 80, height: int = 40) -> bytes:
    """A JPEG whose EXIF says where it was taken (GPS) and that it is turned (orientation 6)."""
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010F] = "SpyCam"  # make
    gps = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()
