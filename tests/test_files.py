"""Files and images: required descriptions, cleaned images, inert downloads, limits, storage kept
in step with the database; on both storages (a folder, and S3 through a real S3-API server,
moto's, started here) and both databases."""

from __future__ import annotations

import asyncio
import io
import socket

import boto3
import pytest
from PIL import Image

from tests.conftest import make_settings
from tests.helpers import net, uploads
from tests.helpers.http1 import HTTPConnection
from tests.helpers.live import LiveServer, LiveUser
from webchat.app import create_app
from webchat.files import service as files
from webchat.files.storage import LocalStorage
from webchat.models import Attachment, Message

BUCKET = "webchat-test"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = net.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server)
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    return client


@pytest.fixture(params=["folder", "s3"])
async def files_app(request, database_url, tmp_path):
    env = {"WEBCHAT_MAX_UPLOAD": "1MB", "WEBCHAT_UPLOAD_QUOTA": "3MB"}
    if request.param == "s3":
        request.getfixturevalue("s3")
        env["WEBCHAT_STORAGE_URL"] = f"s3://{BUCKET}"
    application = create_app(make_settings(database_url, tmp_path, **env))
    async with application.test_app():
        yield application


@pytest.fixture
async def people(files_app):
    from tests.conftest import registered
    from tests.helpers import Browser

    def make():
        return Browser(files_app)

    ana = await registered(make, "ana", "Ana Lima")
    ben = await registered(make, "ben", "Ben Okafor")
    room = await ana.create_room("Photos", "private")
    assert (await ana.post(f"/rooms/{room}/members", {"username": "ben"})).status == 303
    return ana, ben, room


async def stored_keys(app) -> set[str]:
    return {item.key for item in await app.extensions["webchat"].storage.list()}


async def fetch(browser, path: str, headers: dict | None = None):
    """A file as the browser gets it: from the folder, or by following the signed S3 redirect."""
    response = await browser.client.get(path, headers=headers or {})
    if response.status_code == 302:
        import httpx

        location = response.headers["Location"]
        async with httpx.AsyncClient() as client:
            outside = await client.get(location, headers=headers or {})
        return outside.status_code, outside.headers, outside.content, response
    return response.status_code, response.headers, await response.get_data(), response


async def test_an_image_without_a_description_is_refused_and_the_text_kept(files_app, people):
    ana, ben, room = people
    page = await uploads.send(ana, room, "our new office", [("office.png", uploads.png())])
    assert page.status == 422
    assert "Describe the image for people who cannot see it" in page.text
    assert "our new office</textarea>" in page.text
    assert 'href="#composer-alt-1"' in page.text  # the error summary links to the field at fault
    assert await Message.all().count() == 0 and await Attachment.all().count() == 0
    assert await stored_keys(files_app) == set()


async def test_without_script_every_image_a_message_may_carry_has_a_description_field(files_app, people):
    """The plain form takes as many files as a message may carry: each of them may be an image,
    so there is a numbered description field for each, and a refusal's link finds its field."""
    ana, ben, room = people
    page = (await ana.get(f"/rooms/{room}")).text
    for n in range(1, files.MAX_FILES + 1):
        assert f'id="composer-alt-{n}"' in page and f'name="decorative-{n}"' in page
    four = [(f"{n}.png", uploads.png()) for n in range(1, 5)]
    page = await uploads.send(ana, room, "four", four, [("alt", "one"), ("alt", "two"), ("alt", "three")])
    assert page.status == 422 and 'href="#composer-alt-4"' in page.text
    assert 'id="composer-alt-4"' in page.text
    sent = [("alt", "one"), ("alt", "two"), ("alt", "three"), ("alt", "four")]
    assert (await uploads.send(ana, room, "four", four, sent)).status == 303


async def test_a_refusal_keeps_the_descriptions_already_given(files_app, people):
    """Without script the files must be chosen again after a refusal, but what was written about
    them is kept, in the same numbered fields, and so are the "decorative" boxes."""
    ana, ben, room = people
    three = [("cat.png", uploads.png()), ("line.png", uploads.png()), ("dog.png", uploads.png())]
    page = await uploads.send(ana, room, "pets", three,
                              [("alt", "a cat & a <sofa>"), ("alt", ""), ("alt", ""), ("decorative-2", "1")])
    assert page.status == 422 and 'href="#composer-alt-3"' in page.text
    assert 'id="composer-alt-1" name="alt" maxlength="1000" value="a cat &amp; a &lt;sofa&gt;"' in page.text
    assert 'id="composer-alt-2-decorative" name="decorative-2" value="1" checked>' in page.text
    assert 'id="composer-alt-3-decorative" name="decorative-3" value="1">' in page.text


async def test_an_image_with_a_description_shows_with_it_and_its_size(files_app, people):
    ana, ben, room = people
    page = await uploads.send(ana, room, "", [("cat.png", uploads.png(640, 480))], [("alt", "a cat on a sofa")])
    assert page.status == 303, page.text
    attachment = await Attachment.get()
    assert (attachment.width, attachment.height, attachment.content_type) == (640, 480, "image/png")
    assert (attachment.thumb_width, attachment.thumb_height) == (480, 360)
    shown = (await ben.get(f"/rooms/{room}")).text
    assert (f'<img src="/rooms/{room}/files/{attachment.id}/thumbnail" alt="a cat on a sofa" width="480" '
            'height="360"') in shown
    assert f'<a href="/rooms/{room}/files/{attachment.id}">' in shown
    assert "1 image: a cat on a sofa</span>" in shown  # the message's spoken sentence
    status, headers, data, first = await fetch(ben, f"/rooms/{room}/files/{attachment.id}")
    assert status == 200 and Image.open(io.BytesIO(data)).size == (640, 480)
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("inline;")
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    if files_app.extensions["webchat"].storage.kind == "s3":  # from S3: a short-lived signed redirect
        assert first.status_code == 302 and "X-Amz-Expires=60&" in first.headers["Location"]
    else:
        assert first.status_code == 200
    status, _, data, _ = await fetch(ben, f"/rooms/{room}/files/{attachment.id}/thumbnail")
    assert status == 200 and Image.open(io.BytesIO(data)).size == (480, 360)


async def test_a_decorative_image_needs_no_description(files_app, people):
    ana, ben, room = people
    page = await uploads.send(ana, room, "divider", [("line.png", uploads.png())], [("decorative", "1")])
    assert page.status == 303, page.text
    attachment = await Attachment.get()
    assert attachment.decorative and attachment.alt == ""
    shown = (await ana.get(f"/rooms/{room}")).text
    assert f'alt="" width="{attachment.thumb_width}"' in shown
    assert 'aria-label="Open the full image line.png"' in shown  # the link still has a name


async def test_exif_and_gps_are_gone_and_the_photo_is_upright(files_app, people):
    ana, ben, room = people
    original = uploads.jpeg_with_gps(80, 40)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test image has GPS
    page = await uploads.send(ana, room, "", [("here.jpg", original)], [("alt", "the view")])
    assert page.status == 303, page.text
    attachment = await Attachment.get()
    status, _, data, _ = await fetch(ana, f"/rooms/{room}/files/{attachment.id}")
    served = Image.open(io.BytesIO(data))
    assert served.format == "JPEG"
    assert served.size == (40, 80)  # orientation 6 applied: turned upright
    assert len(served.getexif()) == 0
    assert b"SpyCam" not in data and b"Exif" not in data


async def test_a_polyglot_is_served_inert(files_app, people):
    """A PNG carrying an HTML page after its image data: what is served is a fresh PNG, with the
    headers that keep any browser from running it."""
    ana, ben, room = people
    polyglot = uploads.png() + b"<html><script>alert(document.cookie)</script></html>"
    page = await uploads.send(ana, room, "", [("page.html", polyglot)], [("alt", "a red square")])
    assert page.status == 303, page.text
    attachment = await Attachment.get()
    status, headers, data, first = await fetch(ana, f"/rooms/{room}/files/{attachment.id}")
    assert b"<script>" not in data
    assert headers["Content-Type"] == "image/png"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Content-Security-Policy"] == "sandbox"


async def test_svg_and_html_are_downloads_only(files_app, people):
    ana, ben, room = people
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = b"<!doctype html><script>alert(1)</script>"
    page = await uploads.send(ana, room, "files", [("logo.png", svg), ("page.txt", html)])
    assert page.status == 303, page.text  # not images: no description asked for
    kinds = {a.name: a.content_type for a in await Attachment.all()}
    assert kinds == {"logo.png": "image/svg+xml", "page.txt": "text/html"}  # by content, not name
    shown = (await ana.get(f"/rooms/{room}")).text
    assert "<img" not in shown.split('id="messages"')[1].split("</ol>")[0]
    assert "2 files: logo.png, page.txt" in shown
    for attachment in await Attachment.all():
        status, headers, data, first = await fetch(ana, f"/rooms/{room}/files/{attachment.id}")
        assert status == 200
        assert headers["Content-Disposition"].startswith("attachment;")
        assert headers["Content-Type"] == "application/octet-stream"
        assert first.headers["Content-Security-Policy"] == "sandbox"
        assert first.headers["X-Content-Type-Options"] == "nosniff"


async def test_large_files_answer_ranges(files_app, people):
    ana, ben, room = people
    data = bytes(range(256)) * 2000
    assert (await uploads.send(ana, room, "data", [("data.bin", data)])).status == 303
    attachment = await Attachment.get()
    status, headers, part, _ = await fetch(ana, f"/rooms/{room}/files/{attachment.id}",
                                           {"Range": "bytes=1000-1099"})
    assert status == 206 and part == data[1000:1100]
    assert headers["Content-Range"] == f"bytes 1000-1099/{len(data)}"


async def test_over_the_size_limit_is_a_clear_413(files_app, people):
    ana, ben, room = people
    page = await uploads.send(ana, room, "big", [("big.bin", b"x" * (1024 * 1024 + 1))])
    assert page.status == 413
    assert "files can be at most 1 MB" in page.text
    assert "big</textarea>" in page.text
    assert await Attachment.all().count() == 0 and await stored_keys(files_app) == set()


async def test_the_quota_counts_everything_a_person_sent(files_app, people):
    ana, ben, room = people
    for n in range(3):
        page = await uploads.send(ana, room, f"part {n}", [(f"part{n}.bin", bytes([n]) * 900_000)])
        assert page.status == 303, page.text
    page = await uploads.send(ana, room, "one more", [("part3.bin", b"z" * 900_000)])
    assert page.status == 422 and "allowance" in page.text
    assert await Attachment.all().count() == 3
    # Ben's allowance is his own.
    assert (await uploads.send(ben, room, "mine", [("b.bin", b"b" * 900_000)])).status == 303


async def test_deleting_a_message_deletes_its_files(files_app, people):
    ana, ben, room = people
    page = await uploads.send(ana, room, "", [("a.png", uploads.png()), ("b.txt", b"notes")], [("alt", "red")])
    assert page.status == 303
    message = await Message.get()
    assert len(await stored_keys(files_app)) == 3  # image, its thumbnail, the text file
    ids = [a.id for a in await Attachment.all()]
    assert (await ana.post(f"/rooms/{room}/messages/{message.id}/delete")).status == 303
    assert await stored_keys(files_app) == set()
    assert await Attachment.all().count() == 0
    assert (await Message.get()).files is None
    for attachment_id in ids:
        assert (await ana.client.get(f"/rooms/{room}/files/{attachment_id}")).status_code == 404


async def test_deleting_a_room_deletes_its_files(files_app, people):
    """A deleted room takes its messages with it, and their files leave storage at once (not an
    hour later, as orphans of the sweep)."""
    ana, ben, room = people
    await uploads.send(ana, room, "", [("a.png", uploads.png()), ("b.txt", b"notes")], [("alt", "red")])
    await uploads.send(ben, room, "mine", [("c.txt", b"more")])
    other = await ana.create_room("Elsewhere", "private")
    await uploads.send(ana, other, "stays", [("d.txt", b"kept")])
    assert len(await stored_keys(files_app)) == 5
    assert (await ana.post(f"/rooms/{room}/delete", {"confirm": "Photos"})).status == 303
    assert await stored_keys(files_app) == {(await Attachment.get()).key}
    assert (await Attachment.get()).name == "d.txt"


async def test_the_description_is_edited_with_the_message(files_app, people):
    ana, ben, room = people
    await uploads.send(ana, room, "look", [("a.png", uploads.png())], [("alt", "a red squre")])
    message, attachment = await Message.get(), await Attachment.get()
    form = (await ana.get(f"/rooms/{room}/messages/{message.id}/edit")).text
    assert f'name="alt-{attachment.id}"' in form and 'value="a red squre"' in form
    page = await ana.post(f"/rooms/{room}/messages/{message.id}/edit", {"body": "look", f"alt-{attachment.id}": ""})
    assert page.status == 422 and "Describe the image" in page.text
    page = await ana.post(f"/rooms/{room}/messages/{message.id}/edit",
                          {"body": "look", f"alt-{attachment.id}": "a red square"})
    assert page.status == 303
    assert (await Attachment.get()).alt == "a red square"
    assert 'alt="a red square"' in (await ben.get(f"/rooms/{room}")).text


async def test_a_double_submit_keeps_one_set_of_files(files_app, people):
    ana, ben, room = people
    for _ in range(2):
        page = await uploads.send(ana, room, "once", [("a.txt", b"hello")], [("nonce", "same-nonce-1")])
        assert page.status == 303
    assert await Message.all().count() == 1 and await Attachment.all().count() == 1
    assert len(await stored_keys(files_app)) == 1


async def test_files_reach_every_tab_in_the_message_event(files_app, people):
    ana, ben, room = people
    async with ben.client.request(f"/rooms/{room}/events", method="GET") as stream:
        await stream.send_complete()
        await stream.receive()
        page = await uploads.send(ana, room, "live", [("a.png", uploads.png())], [("alt", "a red square")], htmx=True)
        assert page.status == 200
        seen = b""
        async with asyncio.timeout(5):
            while b'alt="a red square"' not in seen:
                seen += await stream.receive()
        await stream.disconnect()


async def test_the_api_shows_attachments_read_only(files_app, people):
    ana, ben, room = people
    await uploads.send(ana, room, "doc", [("a.png", uploads.png()), ("n.txt", b"notes")], [("alt", "red")])
    from webchat.api import schemas

    shown = schemas.MessageOut(**schemas.message_json(await Message.get().select_related('author'))).model_dump()
    assert [(f["name"], f["alt"], f["url"]) for f in shown["attachments"]] == [
        ("a.png", "red", f"/rooms/{room}/files/{(await Attachment.get(name='a.png')).id}"),
        ("n.txt", "", f"/rooms/{room}/files/{(await Attachment.get(name='n.txt')).id}"),
    ]


async def test_cleanup_removes_orphans_and_keeps_the_rest(files_app, people):
    from datetime import timedelta

    ana, ben, room = people
    await uploads.send(ana, room, "keep", [("k.txt", b"keep me")])
    storage = files_app.extensions["webchat"].storage
    await storage.save("f/orphan-of-a-crash", io.BytesIO(b"lost"))
    assert await files.cleanup(storage) == 0  # too young: it may be on its way to its row
    assert await files.cleanup(storage, older_than=timedelta(seconds=-1)) == 1
    assert await stored_keys(files_app) == {(await Attachment.get()).key}


async def test_a_decompression_bomb_is_refused(files_app, people):
    ana, ben, room = people
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 million pixels in a few kilobytes
    page = await uploads.send(ana, room, "boom", [("bomb.png", out.getvalue())], [("alt", "nothing")])
    assert page.status == 422 and "too large" in page.text
    assert await Attachment.all().count() == 0 and await stored_keys(files_app) == set()


@pytest.mark.slow
def test_an_upload_cut_off_halfway_leaves_no_file_and_no_row(sqlite_url, workdir):
    """A raw socket sends half a multipart body and hangs up: nothing is stored, nothing recorded."""
    port = net.free_port()
    with LiveServer(port, workdir, sqlite_url, WEBCHAT_RATE_LIMITS="off") as server:
        async def scenario():
            ana = await LiveUser(server.url, "ana").register("Ana")
            room = await ana.create_room("Cut")
            await ana.page(f"/rooms/{room}")
            body, content_type = uploads.multipart(
                [("csrf_token", ana.token), ("body", "never")], [("big.bin", b"y" * 800_000)])
            with socket.create_connection(("127.0.0.1", port)) as sock:
                head = (f"POST /rooms/{room}/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                        f"Cookie: {ana.cookie_header()}\r\n\r\n").encode()
                sock.sendall(head + body[: len(body) // 2])
                await asyncio.sleep(0.3)
                net.hard_close(sock)
            # The server is still well, and a whole post afterwards works, its file kept in the
            # default folder (so the folder looked at below is the one the server writes to).
            await ana.say(room, "after")
            body, content_type = uploads.multipart(
                [("csrf_token", ana.token), ("body", "whole")], [("whole.bin", b"w" * 800_000)])
            connection = HTTPConnection("127.0.0.1", port)
            try:
                answer = await connection.request("POST", f"/rooms/{room}/messages", {
                    "Content-Type": content_type, "Cookie": ana.cookie_header()}, body)
            finally:
                await connection.aclose()
            assert answer.status_code == 303, answer.content[:300]
            await ana.aclose()

        asyncio.run(scenario())
        uploads_dir = workdir / "instance" / "uploads"
        kept = [p for p in uploads_dir.rglob("*") if p.is_file()]
        assert [p.read_bytes() for p in kept] == [b"w" * 800_000]  # the whole post's, nothing of the cut one

        async def count():
            from webchat import db

            await db.open_database(sqlite_url)
            try:
                return (await Attachment.all().values_list("name", flat=True),
                        await Message.filter(body="never").count())
            finally:
                await db.close_database()

        assert asyncio.run(count()) == (["whole.bin"], 0)
        assert "Traceback" not in server.log() or "ClientDisconnected" in server.log()


async def test_storage_engines_write_whole_objects_only(tmp_path):
    """A write that fails halfway leaves no object under the key, nor a partial file."""
    storage = LocalStorage(tmp_path / "up")

    class Breaks:
        """A source that fails after 300 KB, as a connection that drops."""

        def __init__(self):
            self.sent = 0

        def read(self, size=-1):
            if self.sent > 300_000:
                raise ConnectionResetError("gone")
            self.sent += 1000
            return b"x" * 1000

    with pytest.raises(ConnectionResetError):
        await storage.save("f/abc", Breaks())
    assert await storage.list() == []


async def test_only_members_post_files_and_nothing_is_kept_from_a_refusal(files_app, people):
    ana, ben, room = people
    from tests.conftest import registered
    from tests.helpers import Browser

    otto = await registered(lambda: Browser(files_app), "otto", "Otto")
    page = await uploads.send(otto, room, "sneaky", [("a.png", uploads.png())], [("alt", "red")])
    assert page.status == 403
    assert await Attachment.all().count() == 0 and await stored_keys(files_app) == set()


def test_the_cleanup_command(sqlite_url, tmp_path):
    import os
    import subprocess
    import sys
    import time

    folder = tmp_path / "uploads"
    (folder / "f").mkdir(parents=True)
    old = folder / "f" / "abandoned"
    old.write_bytes(b"lost")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    env = {**os.environ, "DATABASE_URL": sqlite_url, "WEBCHAT_STORAGE_URL": str(folder),
           "WEBCHAT_INSTANCE": str(tmp_path / "instance"), "SECRET_KEY": "x"}
    done = subprocess.run([sys.executable, "-m", "webchat", "files", "cleanup"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 abandoned upload deleted" in done.stdout
    assert not old.exists()


def test_uploads_default_to_10_mb_a_file_kept_in_the_instance_folder(tmp_path):
    from webchat.config import ConfigError, load_settings

    settings = load_settings({"WEBCHAT_INSTANCE": str(tmp_path)})
    assert settings.max_upload == 10 * 1024 * 1024
    assert settings.storage_url == str(tmp_path / "uploads")
    assert LocalStorage(settings.storage_url).path("f/abc") == tmp_path / "uploads" / "f" / "abc"
    chosen = load_settings({"WEBCHAT_INSTANCE": str(tmp_path), "WEBCHAT_MAX_UPLOAD": "2MB",
                            "WEBCHAT_STORAGE_URL": "s3://my-bucket"})
    assert (chosen.max_upload, chosen.storage_url) == (2 * 1024 * 1024, "s3://my-bucket")
    for name, value in (("WEBCHAT_MAX_UPLOAD", "lots"), ("WEBCHAT_STORAGE_URL", "ftp://host/x"),
                        ("WEBCHAT_STORAGE_URL", "s3://")):
        with pytest.raises(ConfigError, match=name):
            load_settings({"WEBCHAT_INSTANCE": str(tmp_path), name: value})
