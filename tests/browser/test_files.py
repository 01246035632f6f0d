"""Files and images in a real Chromium: sent without JavaScript (the plain form, numbered
description fields) and with it (one labelled field per chosen image, beside its preview); the
message shows the thumbnail with its description and a card for other files; axe-core finds
nothing wrong with either."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import unique
from tests.browser.support import Audit, Session, screenshot
from tests.helpers import uploads

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Screenshots are kept only when asked for (WEBCHAT_SCREENSHOTS=folder), never in the tree.
SHOTS = os.environ.get("WEBCHAT_SCREENSHOTS")


def image(name: str = "cat.png", width: int = 320, height: int = 240) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": uploads.png(width, height, (230, 160, 40))}


NOTES = {"name": "minutes.txt", "mimeType": "text/plain", "buffer": b"Minutes of the meeting\n" * 40}


async def test_an_image_with_its_description_without_javascript(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room(unique("Photos"))
    page = await session.page(ana, java_script_enabled=False)
    await page.goto(f"/rooms/{room}")
    await page.get_by_text("Attach files or images").click()
    await page.get_by_label("Your message").fill("The new office")
    await page.get_by_label("Files", exact=True).set_input_files([image()])
    await page.get_by_role("button", name="Send").click()

    # Refused: the text is kept and the error summary links to the description field.
    await expect(page.locator("#error-summary")).to_contain_text("Describe the image for people who cannot see it")
    await expect(page.locator('#error-summary a[href="#composer-alt-1"]')).to_be_visible()
    await expect(page.get_by_label("Your message")).to_have_value("The new office")
    await expect(page.locator("#composer-alt-1")).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("Files", exact=True).set_input_files([image(), NOTES])
    await page.get_by_label("Description of image 1").fill("An orange wall with a window")
    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(rf"/rooms/{room}#m-\d+$"))
    shown = page.locator("#messages .attachment.image img")
    await expect(shown).to_have_attribute("alt", "An orange wall with a window")
    await expect(shown).to_have_attribute("width", "320")
    # Served to the reader (waited for: the thumbnail loads lazily, after the page is shown).
    await expect(shown).to_have_js_property("naturalWidth", 320)
    card = page.locator("#messages .file-card")
    await expect(card).to_contain_text("minutes.txt")
    await expect(card).to_contain_text("Text file")
    said = page.locator("#messages li .said").last
    await expect(said).to_contain_text("1 image: An orange wall with a window. 1 file: minutes.txt")


async def test_an_image_with_its_description_with_javascript(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room(unique("Photos"))
    await ben.post(f"/rooms/{room}/join")
    page = await session.page(ana)
    watcher = await session.page(ben)
    await watcher.goto(f"/rooms/{room}")
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await expect(watcher.locator("html.stream-open")).to_have_count(1)
    await page.get_by_text("Attach files or images").click()
    # No numbered fields before a file is chosen; then one per image, named after it.
    await expect(page.locator("#composer-alts input")).to_have_count(0)
    await page.get_by_label("Files", exact=True).set_input_files([image("cat.png"), NOTES, image("dog.png", 200, 300)])
    await expect(page.locator("#composer-alts input[name=alt]")).to_have_count(2)
    await expect(page.locator("#composer-alts .alt-preview")).to_have_count(2)
    await page.get_by_label("Description of image 1, cat.png").fill("A cat asleep on a sofa")
    await page.get_by_role("checkbox", name="Image 2 is decorative (nothing to describe)").check()
    await page.get_by_label("Your message").fill("Weekend")
    await page.get_by_role("button", name="Send").click()

    # Live in every tab, the sender's too; the composer is emptied of its files.
    for tab in (page, watcher):
        images = tab.locator("#messages .attachment.image img")
        await expect(images).to_have_count(2)
        await expect(images.first).to_have_attribute("alt", "A cat asleep on a sofa")
        await expect(images.nth(1)).to_have_attribute("alt", "")
        await expect(tab.locator("#messages .file-card")).to_contain_text("minutes.txt")
    assert await page.locator("#composer-files").evaluate("input => input.files.length") == 0
    await expect(page.locator("#composer-alts input")).to_have_count(0)

    audit = Audit()
    for width, viewport in (("390", PHONE), ("1280", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.locator("#messages .file-card").scroll_into_view_if_needed()
        await audit.check(page, f"messages with files at {width} px")
        if SHOTS:
            await screenshot(page, f"files-{width}", Path(SHOTS))
    await page.get_by_label("Files", exact=True).set_input_files([image("bird.png")])
    await expect(page.locator("#composer-alts input[name=alt]")).to_have_count(1)
    await audit.check(page, "the composer with an image chosen")
    audit.verify()


async def test_dropped_and_pasted_files_join_the_chosen_ones(session: Session):
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room(unique("Drops"))
    page = await session.page(ana)
    await page.goto(f"/rooms/{room}")
    await page.get_by_label("Files", exact=True).set_input_files([image("one.png")])
    data = list(uploads.png(40, 30))
    await page.evaluate("""bytes => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'two.png', {type: 'image/png'}));
      const drop = new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: transfer});
      document.getElementById('composer-body').dispatchEvent(drop);
      const clip = new DataTransfer();
      clip.items.add(new File([new Uint8Array(bytes)], 'three.png', {type: 'image/png'}));
      const paste = new ClipboardEvent('paste', {bubbles: true, cancelable: true, clipboardData: clip});
      document.getElementById('composer-body').dispatchEvent(paste);
    }""", data)
    await expect(page.locator("#composer-alts input[name=alt]")).to_have_count(3)
    await expect(page.get_by_label("Description of image 3, three.png")).to_be_visible()
    assert await page.locator("#composer-attach").evaluate("details => details.open")


async def test_the_fields_follow_the_files_contents_and_survive_a_refusal(session: Session):
    """Which chosen files get a description field is decided by their bytes, as the server
    decides (a PNG with no extension is an image; text named .png is not), so the descriptions
    match the server's images in order; a refused post keeps every field's text and box."""
    ana = await session.user(unique("ana"), "Ana Lima")
    room = await ana.create_room(unique("Bytes"))
    page = await session.page(ana)
    await page.goto(f"/rooms/{room}")
    await expect(page.locator("html.stream-open")).to_have_count(1)
    await page.get_by_text("Attach files or images").click()
    unnamed = {"name": "screenshot", "mimeType": "application/octet-stream", "buffer": uploads.png(50, 40)}
    liar = {"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image at all\n"}
    await page.get_by_label("Files", exact=True).set_input_files([liar, unnamed, image("dog.png")])
    await expect(page.locator("#composer-alts input[name=alt]")).to_have_count(2)
    await expect(page.get_by_label("Description of image 1, screenshot")).to_be_visible()
    await page.get_by_role("checkbox", name="Image 2 is decorative (nothing to describe)").check()
    await page.get_by_role("button", name="Send").click()

    # Refused (the screenshot has no description): the files, the box and the focus are where they were.
    await expect(page.locator("#composer-files-error")).to_contain_text("Describe the image")
    await expect(page.get_by_label("Description of image 1, screenshot")).to_be_focused()
    await expect(page.get_by_role("checkbox", name="Image 2 is decorative (nothing to describe)")).to_be_checked()
    await page.get_by_label("Description of image 1, screenshot").fill("The settings page")
    await page.get_by_role("button", name="Send").click()
    images = page.locator("#messages .attachment.image img")
    await expect(images).to_have_count(2)
    await expect(images.first).to_have_attribute("alt", "The settings page")
    await expect(images.nth(1)).to_have_attribute("alt", "")
    await expect(page.locator("#messages .file-card")).to_contain_text("notes.png")
