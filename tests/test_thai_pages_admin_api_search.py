"""The administration, API, search and single-message pages in Thai: fetched with
`Accept-Language: th`, each is marked `lang="th"`, shows its Thai text and has none of its English
interface words left (names, URLs and code stay as they are)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.test_languages import html_lang
from webchat.models import Delivery, Message, OutgoingHook, Room, User

THAI = {"Accept-Language": "th"}


def in_thai(page, present: list[str], absent: list[str]) -> None:
    assert page.status == 200, page.text
    assert html_lang(page.text) == "th"
    for text in present:
        assert text in page.text, text
    for text in absent:
        assert text not in page.text, text


async def test_administration_pages_in_thai(ana, ben):
    room = await ana.create_room("Harbour")
    assert (await ben.post(f"/rooms/{room}/join")).status == 303
    await ana.say(room, "buy cheap pills")
    spam = (await Message.get(body="buy cheap pills")).id
    assert (await ben.post(f"/rooms/{room}/messages/{spam}/report", {"reason": "spam"})).status == 303

    in_thai(await ana.get("/admin", headers=THAI),
            ["<h1>การดูแลระบบ</h1>", "บันทึกการตรวจสอบ", "บัญชี 2 บัญชี", "ห้อง 1 ห้อง",
             "การรายงานที่รอดำเนินการ 1 รายการ", "ใครสร้างบัญชีได้บ้าง", "บันทึกการตั้งค่าเว็บไซต์"],
            ["At a glance", "Site settings", "accounts", "open report", "Who may create an account?",
             "Save site settings", ">Audit log<"])
    in_thai(await ana.get("/admin/users", headers=THAI),
            ["<h1>ผู้ใช้</h1>", "ค้นหาผู้ใช้", "ใช้งานอยู่, ผู้ดูแลระบบ", "ปิดใช้งาน<span", "@ben"],
            ["Search users", "Username or display name", "Deactivate<", "Make administrator",
             "Password-reset link", "administrator"])
    made = await ana.post("/admin/users/ben/reset")
    assert made.status == 303
    in_thai(await ana.get(made.location, headers=THAI),
            ["ลิงก์รีเซ็ตรหัสผ่านสำหรับ @ben", "ลิงก์ใช้ได้ครั้งเดียวภายใน"],
            ["Give this link", "Reset link<"])
    in_thai(await ana.get("/admin/rooms", headers=THAI),
            ["ค้นหาห้อง", "สาธารณะ", "เก็บถาวร<span"],
            ["Search rooms", "Public", ">Archive<", "Last message", "none yet"])
    in_thai(await ana.get(f"/admin/rooms/{room}/delete", headers=THAI),
            ["ลบ “Harbour”", "พิมพ์ชื่อห้องเพื่อยืนยัน: Harbour", "ลบห้องนี้", "ยกเลิก"],
            ["Delete this room", "Type the room", "cannot be undone", "Cancel"])
    in_thai(await ana.get("/admin/invites", headers=THAI),
            ["สร้างลิงก์คำเชิญ", "ใช้ได้กี่วัน", "ยังไม่มีคำเชิญ", "การลงทะเบียน: <strong>"],
            ["Make an invitation link", "Registration is", "No invitations yet", "Valid for"])
    made = await ana.post("/admin/invites", {"days": "7", "uses": "3"})
    assert made.status == 303
    in_thai(await ana.get(made.location, headers=THAI),
            ["ลิงก์คำเชิญใหม่", "0 จาก 3", "ใช้ได้", "เพิกถอน<span class=\"visually-hidden\"> คำเชิญ #"],
            ["New invitation link", "0 of 3", "Usable", "Revoke<"])
    in_thai(await ana.get("/admin/reports", headers=THAI),
            ["การรายงาน #", "ข้อความจาก ", "เหตุผล: spam", "จัดการ: นำข้อความออก", "รายงานโดย @ben เมื่อ"],
            ["Reason:", "Resolve: remove", "Dismiss: keep", "Reported by", "message from"])
    in_thai(await ana.get("/admin/reports?status=dismissed", headers=THAI),
            ["ไม่มีการรายงานที่ยกเลิกแล้ว"], ["No dismissed reports"])
    in_thai(await ana.get("/admin/audit", headers=THAI),
            ["<h1>บันทึกการตรวจสอบ</h1>", "ทุกการดำเนินการ", "กรอง", "รายละเอียด"],
            ["Every action", "Filter", "Details", "On what"])
    in_thai(await ana.get("/admin/audit?action=nothing.such", headers=THAI),
            ["ไม่มีรายการที่ตรงกัน"], ["Nothing matches"])
    # English stays English.
    english = await ana.get("/admin", headers={"Accept-Language": "en"})
    assert "2 accounts</a>" in english.text and "1 room</a> (direct conversations not counted)" in english.text


async def test_api_pages_in_thai(ana):
    room = await ana.create_room("Builds")
    made = await ana.post(f"/rooms/{room}/hooks", {"name": "CI"})
    assert made.status in (200, 303), made.text
    user = await User.get(username="ana")
    hook = await OutgoingHook.create(room_id=room, creator=user, url="https://example.com/in", secret="s" * 32)
    await Delivery.create(hook=hook, uid="d-1", payload="{}", status="failed", attempts=3,
                          next_attempt_at=datetime.now(UTC), last_code=500)

    in_thai(await ana.get(f"/rooms/{room}/hooks", headers=THAI),
            ["เว็บฮุกของ Builds", "สร้างเว็บฮุก", "<code>POST</code>", "<code>payload</code>",
             '<a href="/api">เอกสารอ้างอิง API</a>', "สร้างโดย @ana", "เว็บฮุกขาเข้าของ Slack",
             '<code>{"text": "…"}</code>', "https://example.com/in"],
            ["Make a webhook", "Outgoing webhooks", "A webhook lets", "made by", "Back to the room",
             "Remove<", "Revoke<", "This room has no"])
    in_thai(await ana.get(f"/rooms/{room}/hooks/out/{hook.id}", headers=THAI),
            ["การส่งไปยัง <code>https://example.com/in</code>", "ล้มเหลว", "การส่ง 1 ครั้งล่าสุด",
             "กลับไปที่เว็บฮุกของ Builds"],
            ["Deliveries to", ">failed<", "newest first", "Delivery id", "Back to the webhooks"])

    made = await ana.post("/settings/tokens", {"name": "CI results", "scope": "read"})
    assert made.status in (200, 303), made.text
    in_thai(await ana.get("/settings/tokens", headers=THAI),
            ["<h1>โทเค็น API</h1>", "สร้างโทเค็น", "โทเค็นของคุณ", "ไม่เคย", 'aria-label="เพิกถอนโทเค็น CI results"',
             '<a href="/api">API สำหรับการเชื่อมต่อ</a>'],
            ["Make a token", "Your tokens", "never", "What may it do?", "Revoke the token", "Expires after"])

    page = await ana.get("/api", headers=THAI)
    in_thai(page,
            ["<h1>API สำหรับการเชื่อมต่อ</h1>", "การดำเนินการ", "<code>Authorization: Bearer TOKEN</code>",
             "<code>application/problem+json</code>", "เอกสาร OpenAPI 3.1", "การตอบกลับ: ",
             # The operations' words from the code (their docstrings, their fields' meanings).
             "โพสต์ข้อความ (เฉพาะสมาชิก)", "เนื้อความ 1 ถึง 4,000 ตัวอักษร", "ห้องของบัญชี พร้อมจำนวนข้อความ"],
            ["Programs read and post", "Operations<", "Answers:", "machine-readable", ">Required<",
             "Post a message (members only)", "The text, 1 to", "The account's rooms, with unread counts"])
    # Code stays code: the operations and their paths are listed as they are.
    assert re.search(r"<code>POST /api/v1/rooms/[^<]*/messages</code>", page.text)


async def test_message_and_search_pages_in_thai(ana, ben):
    room = await ana.create_room("Harbour")
    assert (await ben.post(f"/rooms/{room}/join")).status == 303
    await ana.say(room, "hello harbour")
    message = (await Message.get(body="hello harbour")).id
    title = (await Room.get(id=room)).name

    in_thai(await ana.get(f"/rooms/{room}/messages/{message}/edit", headers=THAI),
            ["แก้ไขหรือลบข้อความของคุณ", f'ใน <a href="/rooms/{room}">{title}</a> โดย ', "ยกเลิกและกลับไปที่ห้อง"],
            ["Edit or delete your message", "Cancel and go back", ", by "])
    in_thai(await ana.get(f"/rooms/{room}/messages/{message}/delete", headers=THAI),
            ["ลบข้อความนี้ไหม", "ไม่สามารถเรียกคืนได้", ">ลบข้อความ</button>"],
            ["Delete this message?", "cannot be undone", "Delete message"])
    fragment = await ana.get(f"/rooms/{room}/messages/{message}/delete", htmx=True, headers=THAI)
    assert fragment.status == 200 and "ทุกคนในห้องจะเห็น “ข้อความถูกลบแล้ว” แทน" in fragment.text
    assert "Delete this message?" not in fragment.text and ">ยกเลิก</a>" in fragment.text
    in_thai(await ana.get(f"/rooms/{room}/messages/{message}/reactions", headers=THAI),
            ["แสดงความรู้สึกต่อข้อความ", "แสดงความรู้สึกด่วน", "อีโมจิหนึ่งตัว", "กลับไปที่ข้อความ"],
            ["React to a message", "Quick reactions", "Any one emoji", "Back to the message"])
    in_thai(await ana.get(f"/rooms/{room}", headers=THAI),
            ["<summary>การจัดรูปแบบ</summary>", "<code>*ตัวเอียง*</code>", "<code>\\*</code>",
             "นี่คือจุดเริ่มต้นของการสนทนา"],
            ["<summary>Formatting", "Line breaks stay", "This is the start of the conversation"])

    await ana.say(room, "and goodbye")
    in_thai(await ana.get(f"/rooms/{room}/messages?after={message}", headers=THAI),
            ["ไปที่ข้อความล่าสุด", "and goodbye"], ["Go to the newest messages", "Show newer messages"])

    page = await ana.get("/search?q=harbour", headers=THAI)
    in_thai(page,
            ["<h1 id=\"search-title\">ค้นหาข้อความ</h1>", "1 ผลลัพธ์สำหรับ “harbour”", "คำที่ต้องการค้นหา",
             "จำกัดการค้นหา (ไม่บังคับ)", "ใหม่ที่สุดก่อน", f" ใน {title} เมื่อ "],
            ["Search messages</h1>", "1 result", "Words to find", ">Order<", "Newest first", "Narrow the search", " in Harbour,"])
    in_thai(await ana.get("/search?q=nowhere", headers=THAI),
            ["ไม่พบผลลัพธ์สำหรับ “nowhere”", "ไม่พบข้อความที่คุณอ่านได้"],
            ["No results", "Nothing you can read"])
    english = await ana.get("/search?q=harbour", headers={"Accept-Language": "en"})
    assert "1 result for “harbour”" in english.text and f" in {title}, <time" in english.text


async def test_thai_sentences_still_escape_what_they_hold(ana):
    """Names and queries go into the Thai sentences as placeholders, escaped; the markup around
    them (links, code) is the template's."""
    room = await ana.create_room("<b>Bold</b>")
    page = await ana.get("/search?q=%3Cb%3Ex", headers=THAI)
    assert "ไม่พบผลลัพธ์สำหรับ “&lt;b&gt;x”" in page.text and "<b>x" not in page.text
    page = await ana.get(f"/admin/rooms/{room}/delete", headers=THAI)
    assert "ลบ “&lt;b&gt;Bold&lt;/b&gt;”" in page.text and "<b>Bold" not in page.text
    page = await ana.get(f"/rooms/{room}/hooks", headers=THAI)
    assert "เว็บฮุกของ &lt;b&gt;Bold&lt;/b&gt;" in page.text and "<b>Bold" not in page.text
