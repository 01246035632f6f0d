"""The start page, account pages, room list, members, room settings, reports, error pages and the
live fragments (typing, read markers, a stream's closing notice) in Thai: each page read with
`Accept-Language: th` says `<html lang="th">`, shows its Thai words and none of its English ones."""

from __future__ import annotations

import re

from tests.helpers.tab import Tab
from tests.test_admin import made_link
from webchat import i18n
from webchat.models import Message
from webchat.render import typing_text

THAI = {"Accept-Language": "th-TH,th;q=0.9"}


async def thai_page(browser, path: str, status: int = 200) -> str:
    page = await browser.get(path, headers=THAI)
    assert page.status == status, (path, page.status)
    assert re.search(r'<html lang="th">', page.text), path
    return page.text


def shows(text: str, thai: list[str], english: list[str]) -> None:
    for words in thai:
        assert words in text, words
    for words in english:
        assert words not in text, words


async def test_signed_out_pages_in_thai(ana, browser_factory):
    await browser_factory().register("ben")
    visitor = browser_factory()
    shows(await thai_page(visitor, "/"), ["แชตด้วยกันแบบเรียลไทม์", "สร้างบัญชี", "<title>ยินดีต้อนรับ"],
          ["Chat together, in real time", "Create an account", "Welcome", "it works with a keyboard alone"])
    shows(await thai_page(visitor, "/register"),
          ["สร้างบัญชี", "ชื่อผู้ใช้", "ชื่อที่แสดง (ไม่บังคับ)", "อย่างน้อย 8 ตัวอักษร", "มีบัญชีอยู่แล้วใช่ไหม"],
          ["Create an account", "Display name (optional)", "At least 8 characters.", "Already have an account?",
           "Others see it and can message you by it."])
    # The error summary and the field's hidden "Error:" (the field's message itself is the view's).
    bad = await visitor.post("/register", {"username": "x", "password": "short"}, headers=THAI)
    assert bad.status == 422
    shows(bad.text, ["<title>ข้อผิดพลาด: สร้างบัญชี", "มีบางอย่างต้องแก้ไข", ">ข้อผิดพลาด:</span>"],
          ["There is a problem", ">Error:</span>", "Error: Create"])
    assert (await ana.post("/admin/site", {"name": "webchat", "registration": "closed"})).status == 303
    shows(await thai_page(visitor, "/register"), ["ปิดรับสมัครสมาชิกแล้ว", "ยังไม่เปิดรับบัญชีใหม่ในขณะนี้"],
          ["Registration is closed", "is not taking new accounts"])
    assert (await ana.post("/admin/site", {"name": "webchat", "registration": "invite"})).status == 303
    shows(await thai_page(visitor, "/register"), ["สมัครสมาชิกได้เฉพาะผู้ได้รับเชิญ", "ลิงก์เชิญ"],
          ["Registration is by invitation", "invitation links"])
    # A reset link's page, and a page that is not there.
    link = await made_link(ana, "/admin/users/ben/reset")
    shows(await thai_page(visitor, link), ["ตั้งรหัสผ่านใหม่", "สำหรับบัญชี @ben", "รหัสผ่านใหม่"],
          ["Choose a new password", "For the account", "Set new password"])
    shows(await thai_page(visitor, "/nowhere", 404), ["ไม่พบหน้านี้", "ไปที่หน้าแรก"],
          ["Not found", "There is nothing at this address", "Go to the start page"])


async def test_account_pages_in_thai(ana, ben):
    shows(await thai_page(ana, "/settings/password"), ["เปลี่ยนรหัสผ่าน", "รหัสผ่านปัจจุบัน", "รหัสผ่านใหม่"],
          ["Change your password", "Current password", "Your other sessions"])
    shows(await thai_page(ana, "/settings/delete"),
          ["ลบบัญชีของคุณ", "ดาวน์โหลดข้อมูลของคุณ", "ผู้ใช้ที่ถูกลบ", "ลบบัญชีของฉัน"],
          ["Delete your account", "Download your data", "first if you want a copy", "Erase them all",
           "Delete my account"])
    shows(await thai_page(ana, "/people"), ["ค้นหาผู้คน", "ทุกคนในที่นี้", "(คุณ)", "เปิดบันทึกของคุณ", "ส่งข้อความ"],
          ["Find someone", "Everyone here", "(you)", "Open your notes", ">Profile<"])
    shows(await thai_page(ana, "/people?q=ben"), ["พบ 1 คนที่ตรงกับ “ben”", "ผู้คนที่ตรงกับ “ben”"],
          ["person matches", "People matching"])
    shows(await thai_page(ana, "/people?q=nobody-at-all"), ["โปรดตรวจสอบการสะกด", ">ดูทุกคน</a>"],
          ["Check the spelling", "see everyone"])


async def test_room_pages_in_thai(ana, ben):
    shows(await thai_page(ana, "/rooms"),
          ["ยินดีต้อนรับสู่ webchat คุณ Ana", "ห้องสาธารณะที่คุณเข้าร่วมได้", "ชื่อห้อง", "สาธารณะ: ทุกคนค้นพบและเข้าร่วมได้",
           "เริ่มการสนทนากลุ่ม", "คำแนะนำ"],
          ["Welcome to webchat", "Public rooms you can join", "Room name", "Who can find it?", "Create room",
           "Start a group conversation", "A name or a username, such as"])
    room = await ana.create_room("Harbour", "private")
    assert (await ana.post(f"/rooms/{room}/members", {"username": "ben"})).status == 303
    shows(await thai_page(ana, f"/rooms/{room}/members"),
          ["สมาชิกของ Harbour", "กลับไปที่ห้อง", "(เจ้าของ)", "นำออก", "เพิ่มสมาชิก"],
          ["Members of", "Back to the room", "(owner)", "Add a member", "Add member"])
    shows(await thai_page(ana, f"/rooms/{room}/settings"),
          ["การตั้งค่าห้อง Harbour", "บันทึกการตั้งค่าห้อง", "ปิดเสียง", "10 นาที", "เก็บถาวรห้อง", "ลบห้อง…"],
          ["Settings of", "Save room settings", "Make moderator", "10 minutes", "Archive the room",
           "Hand over the room"])
    await ben.say(room, "hello there")
    page = await thai_page(ben, f"/rooms/{room}")
    mid = re.search(r'id="m-(\d+)"', page).group(1)
    shows(await thai_page(ana, f"/rooms/{room}/messages/{mid}/report"),
          ["รายงานข้อความ", "จาก Ben Okafor @ben ในห้อง Harbour:", "ส่งรายงาน", "ยกเลิก"],
          ["Report a message", "From Ben", "What is wrong with it?", "Send the report"])


def test_typing_sentence_in_thai_and_english():
    with i18n.speaking("th"):
        assert typing_text(["Ana"]) == "Ana กำลังพิมพ์…"
        assert typing_text(["Ana", "Ben"]) == "Ana และ Ben กำลังพิมพ์…"
        assert typing_text(["Ana Lima", "Ben", "Cy"]) == "Ana Lima, Ben และ Cy กำลังพิมพ์…"
        assert typing_text(["a", "b", "c", "d"]) == "หลายคนกำลังพิมพ์…"
    with i18n.speaking("en"):
        assert typing_text(["Ana"]) == "Ana is typing…"
        assert typing_text(["Ana", "Ben"]) == "Ana and Ben are typing…"
        assert typing_text(["Ana", "Ben", "Cy"]) == "Ana, Ben and Cy are typing…"
        assert typing_text(["a", "b", "c", "d"]) == "Several people are typing…"


async def test_a_deleted_room_closes_each_stream_in_its_own_language(ana, ben):
    """The notice is translated as each language's version is rendered, not when the request ran
    (Ana deletes in English; Ben reads Thai)."""
    room = await ana.create_room("Harbour")
    await ben.post(f"/rooms/{room}/join")
    await ben.post("/settings", {"announce": "all", "language": "th"})
    async with Tab(ana, f"/rooms/{room}/events") as english, Tab(ben, f"/rooms/{room}/events") as thai:
        assert (await ana.post(f"/rooms/{room}/delete", {"confirm": "Harbour"})).status == 303
        await thai.read_until("ห้องนี้ถูกลบแล้ว".encode())
        await english.read_until(b"This room was deleted.")
        assert '<a href="/rooms">ไปที่ห้องของคุณ</a></p>'.encode() in thai.data
        assert b'This room was deleted. <a href="/rooms">Go to your rooms</a>.</p>' in english.data
        assert b"This room was deleted." not in thai.data


async def test_read_markers_in_thai(ana, ben):
    room = await ana.create_room("Harbour")
    await ben.post(f"/rooms/{room}/join")
    await ben.post("/settings", {"announce": "all", "language": "th"})
    await ben.say(room, "first")
    mid = (await Message.get(body="first")).id
    async with Tab(ben, f"/rooms/{room}/events") as thai:
        assert (await ana.post(f"/rooms/{room}/read", {"last_message_id": str(mid)}, htmx=True)).status == 204
        await thai.read_until("อ่านถึงข้อความ".encode())
        assert b"has read up to" not in thai.data
