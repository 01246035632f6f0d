"""The room page and its messages in Thai: the site header, the rooms' navigation, the composer, a
message with reactions, a reply, an edit, deletions and files, its actions menu; history, mentions,
the reactions, edit and delete pages; a message streamed live to a Thai reader; and a refused post.
Each page read with `Accept-Language: th` shows its Thai words and none of its English ones."""

from __future__ import annotations

from tests.helpers import uploads
from tests.helpers.tab import Tab
from tests.test_thai_pages_th1 import THAI, shows, thai_page
from webchat import i18n
from webchat.emoji import reaction_label
from webchat.files.present import attachments_said, file_size
from webchat.models import Message


async def _id(body: str) -> int:
    return (await Message.get(body=body)).id


async def _conversation(ana, ben) -> tuple[int, dict[str, int]]:
    """Harbour, where Ana mentions Ben, Ben answers and reacts, Ana edits, deletes, removes one of
    Ben's messages as the owner, and sends an image and a file."""
    room = await ana.create_room("Harbour")
    assert (await ben.post(f"/rooms/{room}/join")).status == 303
    await ana.say(room, "hello @ben")
    ids = {"hello": await _id("hello @ben")}
    assert (await ben.post(f"/rooms/{room}/messages", {"body": "welcome back", "reply_to": str(ids["hello"])})).status == 303
    ids["reply"] = await _id("welcome back")
    assert (await ben.post(f"/rooms/{room}/messages/{ids['hello']}/reactions", {"emoji": "👍"})).status == 303
    await ana.say(room, "frist draft")
    ids["edited"] = await _id("frist draft")
    assert (await ana.post(f"/rooms/{room}/messages/{ids['edited']}/edit", {"body": "first draft"})).status == 303
    await ana.say(room, "never mind")
    ids["deleted"] = await _id("never mind")
    assert (await ana.post(f"/rooms/{room}/messages/{ids['deleted']}/delete")).status == 303
    await ben.say(room, "spam spam")
    ids["removed"] = await _id("spam spam")
    assert (await ana.post(f"/rooms/{room}/messages/{ids['removed']}/delete")).status == 303
    page = await uploads.send(ana, room, "our office", [("office.png", uploads.png()), ("notes.txt", b"plain notes")],
                              [("alt", "a red square")])
    assert page.status == 303, page.text
    ids["files"] = await _id("our office")
    return room, ids


async def test_the_room_page_in_thai(ana, ben):
    room, ids = await _conversation(ana, ben)
    page = await thai_page(ana, f"/rooms/{room}")
    shows(page, [
        # The header, the skip link, the rooms' navigation and the room's details.
        "ข้ามไปยังช่องพิมพ์ข้อความ", 'placeholder="ค้นหาข้อความ"', "ลงชื่อเข้าใช้ในชื่อ Ana Lima", ">ออกจากระบบ<",
        ">การตั้งค่า<", ">ห้องของคุณ<", "กลับไปที่การสนทนา", "รายละเอียดห้อง", "อ่านแล้วโดย", "ข้ามไปยังวันที่",
        "บันทึกการแจ้งเตือน", "ตรวจหาข้อความใหม่",
        # The composer.
        ">ข้อความของคุณ<", ">ส่ง<", "แนบไฟล์หรือรูปภาพ", "คำอธิบายรูปภาพที่ 1", "ได้สูงสุด 5 ไฟล์",
        # The messages: what a screen reader hears, and what shows.
        "ยกนิ้วโป้ง: Ben Okafor", "ตอบกลับ Ana Lima:", "การตอบกลับ 1 รายการ", ", แก้ไขแล้ว: first draft",
        "(แก้ไขแล้ว)", ": ข้อความถูกลบแล้ว", ">ข้อความถูกลบแล้ว<", "ข้อความถูกลบโดยเจ้าของห้อง Ana Lima",
        "our office, รูปภาพ 1 รูป: a red square ไฟล์ 1 ไฟล์: notes.txt", "ไฟล์ข้อความ, 11 ไบต์", ">ดาวน์โหลด<",
        'aria-label="ไฟล์แนบ"', 'aria-label="รีแอ็กชัน"',
        # The actions menu.
        "การดำเนินการสำหรับข้อความของ Ana Lima", ">ตอบกลับ<", 'aria-label="หัวใจ"', "รีแอ็กชันเพิ่มเติม",
        "คัดลอกลิงก์", "แก้ไขหรือลบ", ">รายงาน<", 'data-reply-label="กำลังตอบกลับ Ana Lima: hello @ben"',
    ], [
        "Skip to", "Search messages", "Signed in as", "Sign out", ">Your rooms<", "Back to the conversation",
        "Room details", "Read by", "Jump to date", "Save notifications", "Check for new messages",
        "Your message", ">Send<", "Attach files", "Description of image", "Up to 5 files",
        "thumbs up", "In reply to", "1 reply", ", edited", "(edited)", ": message deleted", "Message deleted",
        "by the owner", "1 image", "1 file", "Text file", "bytes", ">Download<", "Attachments", '"Reactions"',
        "Actions for", ">Reply<", '"heart"', "More reactions", "Copy link", "Edit or delete", ">Report<",
        "Replying to",
    ])
    # Ben's view: the room he reads, his mention counted in the navigation, and his way out.
    page = await thai_page(ben, f"/rooms/{room}")
    shows(page, ["การกล่าวถึงและการตอบกลับ", "ออกจากห้องนี้", "สมาชิกทั้งหมด"],
          ["Mentions and replies", "Leave this room", "All members"])


async def test_history_mentions_reactions_edit_and_delete_pages_in_thai(ana, ben):
    room, ids = await _conversation(ana, ben)
    shows(await thai_page(ana, f"/rooms/{room}/messages?before={ids['files']}"),
          ["ข้อความที่เก่ากว่าใน Harbour", "กลับไปที่ห้อง", "ไปที่วันนั้น", "ยกนิ้วโป้ง: Ben Okafor"],
          ["Older messages", "Back to the room", "Go to that day", "thumbs up"])
    shows(await thai_page(ana, f"/rooms/{room}/messages?date=2000-01-01"),
          ["Harbour เมื่อวันเสาร์ที่ 1 มกราคม 2543", "ไม่มีข้อความในวันเสาร์ที่ 1 มกราคม 2543"],
          ["Saturday", "January", "Nothing was said"])
    shows(await thai_page(ana, f"/rooms/{room}/messages?date=someday", 422),
          ["<title>ข้อผิดพลาด:", "ข้ามไปยังวันที่ใน Harbour", "โปรดระบุวันที่ในรูปแบบ YYYY-MM-DD"],
          ["Jump to a date", "Give a date"])
    shows(await thai_page(ben, "/mentions"),
          ["<title>การกล่าวถึง", ">การกล่าวถึงและการตอบกลับ</h1>", "มี 1 รายการใหม่นับตั้งแต่ที่คุณดูครั้งล่าสุด", ">ใหม่<",
           "Ana Lima กล่าวถึงคุณใน Harbour", "เปิดใน Harbour", ": ข้อความของ Ana Lima"],
          ["Mentions and replies", "new since you last looked", "mentioned you", "Open in", "’s message"])
    shows(await thai_page(ana, "/mentions"), ["Ben Okafor ตอบกลับคุณใน Harbour"], ["replied to you"])
    reactions = f"/rooms/{room}/messages/{ids['hello']}/reactions"
    shows(await thai_page(ana, reactions),
          ["แสดงความรู้สึกต่อข้อความ", "ยกนิ้วโป้ง: Ben Okafor", 'aria-label="ประหลาดใจ"'],
          ["React to a message", "thumbs up", "surprised"])
    refused = await ana.post(reactions, {"emoji": "words"}, headers=THAI)
    assert refused.status == 422
    shows(refused.text, ["รีแอ็กชันต้องเป็นอีโมจิเท่านั้น"], ["Only an emoji"])
    shows(await thai_page(ana, f"/rooms/{room}/messages/{ids['files']}/edit"),
          ["แก้ไขข้อความของคุณ", "คำอธิบายของรูปภาพ office.png", "ภาพตกแต่ง (ไม่ต้องอธิบาย)", "บันทึกการเปลี่ยนแปลง",
           "ลบข้อความนี้…"],
          ["Edit your message", "Description of the image", "Decorative", "Save changes", "Delete this message…"])
    edit = await ana.post(f"/rooms/{room}/messages/{ids['files']}/edit",
                          {"body": "our office", f"alt-{_image_id(await Message.get(id=ids['files']))}": ""},
                          headers=THAI)
    assert edit.status == 422
    shows(edit.text, ["โปรดอธิบายรูปภาพสำหรับผู้ที่มองไม่เห็น หรือทำเครื่องหมายว่าเป็นภาพตกแต่ง"], ["Describe the image"])
    shows(await thai_page(ana, f"/rooms/{room}/messages/{ids['hello']}/delete"),
          ["ลบข้อความนี้ไหม", "ยกเลิกและกลับไปที่ห้อง"], ["Delete this message?", "Cancel and go back"])
    # A message that is gone, in Thai too.
    shows(await thai_page(ana, f"/rooms/{room}/messages/{ids['deleted']}/edit", 410),
          ["ข้อความนี้ถูกลบแล้ว จึงเปลี่ยนแปลงไม่ได้อีก"], ["no longer be changed"])


def _image_id(message: Message) -> int:
    return next(item["id"] for item in message.files if item["image"])


async def test_refused_posts_say_why_in_thai(ana):
    room = await ana.create_room("Harbour")
    empty = await ana.post(f"/rooms/{room}/messages", {"body": "  "}, headers=THAI)
    assert empty.status == 422
    shows(empty.text, ["<title>ข้อผิดพลาด: Harbour", "โปรดเขียนข้อความก่อนส่ง", ">ข้อผิดพลาด:</span>"],
          ["Write a message before sending", ">Error:</span>"])
    token = await ana.ensure_token()
    data, content_type = uploads.multipart([("csrf_token", token), ("body", "look")], [("cat.png", uploads.png())])
    response = await ana.client.post(f"/rooms/{room}/messages", data=data,
                                     headers={"Content-Type": content_type, **THAI})
    page = await ana._page(response)
    assert page.status == 422
    shows(page.text, ["โปรดอธิบายรูปภาพสำหรับผู้ที่มองไม่เห็น", "โปรดเลือกไฟล์อีกครั้ง"],
          ["Describe the image", "Choose the files again"])


async def test_a_message_reaches_each_stream_in_its_readers_language(ana, ben):
    """Ana writes in English; Ben reads Thai: his stream carries the Thai fragment."""
    room = await ana.create_room("Harbour")
    await ben.post(f"/rooms/{room}/join")
    await ben.post("/settings", {"announce": "all", "language": "th"})
    async with Tab(ana, f"/rooms/{room}/events") as english, Tab(ben, f"/rooms/{room}/events") as thai:
        await ana.say(room, "live hello")
        mid = await _id("live hello")
        assert (await ben.post(f"/rooms/{room}/messages/{mid}/reactions", {"emoji": "🎉"}, htmx=True)).status == 204
        await thai.read_until("ฉลอง: Ben Okafor".encode())
        await english.read_until(b"party: Ben Okafor")
        for words in ("การดำเนินการสำหรับข้อความของ Ana Lima", "คัดลอกลิงก์", 'aria-label="ยกนิ้วโป้ง"'):
            assert words.encode() in thai.data, words
        for words in (b"Actions for", b"Copy link", b'aria-label="thumbs up"', b"party: Ben"):
            assert words not in thai.data, words
        assert b"Copy link" in english.data and "คัดลอกลิงก์".encode() not in english.data


def test_python_texts_in_thai_and_english():
    people = [["ben", "Ben Okafor"], ["cleo", "Cleo"], ["dan", "Dan"]]
    files = [{"image": True, "alt": "a cat"}, {"image": True, "alt": ""}, {"image": False, "name": "a.pdf"}]
    with i18n.speaking("th"):
        assert reaction_label("👍", people) == "ยกนิ้วโป้ง: Ben Okafor, Cleo และ Dan"
        assert reaction_label("🇹🇭", people[:1]) == "ธง TH: Ben Okafor"
        assert attachments_said(files) == "รูปภาพ 2 รูป: a cat; ภาพตกแต่ง ไฟล์ 1 ไฟล์: a.pdf"
        assert file_size(1) == "1 ไบต์"
    with i18n.speaking("en"):
        assert reaction_label("👍", people) == "thumbs up: Ben Okafor, Cleo and Dan"
        assert reaction_label("🇹🇭", people[:1]) == "flag TH: Ben Okafor"
        assert attachments_said(files) == "2 images: a cat; decorative. 1 file: a.pdf"
        assert file_size(1) == "1 byte"
