"""The messages written in Python, in Thai: refusals of room actions, form errors and notices, a
rate limit's answer, the 403 and 404 pages, and the API's problem details, whose human-readable
`title` and `detail` follow the token's account's language (else Accept-Language), while `type`,
`status` and field names stay the same in every language."""

from __future__ import annotations

from tests.helpers.api import ApiClient, token_for
from tests.test_thai_pages_th1 import THAI, shows
from webchat import i18n
from webchat.models import User
from webchat.ratelimit import Limit
from webchat.rooms.service import direct_title

PROBLEM = "application/problem+json"


async def test_room_refusals_form_errors_and_notices_in_thai(ana, ben):
    private = await ana.create_room("Secret", "private")
    public = await ana.create_room("Lobby")
    page = await ben.get(f"/rooms/{private}", headers=THAI)
    assert page.status == 403
    shows(page.text, ["ห้องส่วนตัว", "ห้องนี้เป็นห้องส่วนตัว เฉพาะสมาชิกเท่านั้นที่เห็นได้"],
          ["Private room", "This room is private"])
    page = await ben.post(f"/rooms/{public}/leave", headers=THAI)
    assert page.status == 409
    shows(page.text, ["คุณไม่ได้เป็นสมาชิกของห้องนี้", "ไม่ได้เป็นสมาชิก"], ["You are not a member of this room."])
    page = await ben.post(f"/rooms/{public}/settings", {"name": "Mine", "visibility": "public"}, headers=THAI)
    assert page.status == 403
    shows(page.text, ["เฉพาะเจ้าของห้องเท่านั้นที่ทำสิ่งนี้ได้"], ["Owners only", "Only the room's owner"])
    page = await ana.post("/rooms", {"name": "", "topic": "", "visibility": ""}, headers=THAI)
    assert page.status == 422
    shows(page.text, ["โปรดตั้งชื่อห้อง", "โปรดเลือกว่าห้องนี้เป็นห้องสาธารณะหรือห้องส่วนตัว"],
          ["Give the room a name.", "Choose whether the room is public or private."])
    # A notice (flash) after a change, in the language of the page that shows it.
    page = await ana.post(f"/rooms/{public}/settings", {"name": "Lobby", "topic": "Hi", "visibility": "public"},
                          headers=THAI)
    assert page.status == 303
    shows((await ana.get(page.location, headers=THAI)).text, ["บันทึกการตั้งค่าห้องแล้ว"], ["Room settings saved."])
    page = await ana.post(f"/rooms/{public}/moderation/ana/mute", {"minutes": "10"}, headers=THAI)
    assert page.status == 409
    shows(page.text, ["การดูแลห้องใช้กับเจ้าของห้องและตัวคุณเองไม่ได้"], ["out of reach of moderation"])


async def test_a_rate_limit_answers_in_thai(app, ana):
    room = await ana.create_room("Lobby")
    app.config["RATE_LIMITS"]["action"] = Limit(3, 60)
    statuses = [(await ana.post(f"/rooms/{room}/notifications", {"level": "all"}, headers=THAI)) for _ in range(4)]
    assert statuses[0].status == 303
    page = statuses[-1]
    assert page.status == 429 and int(page.headers["Retry-After"]) >= 1
    shows(page.text, ["โปรดช้าลงสักหน่อย", "มีการเปลี่ยนแปลงมากเกินไปในเวลาสั้น ๆ โปรดลองอีกครั้งในอีก"],
          ["Slow down", "Too many changes"])
    page = await ana.post(f"/rooms/{room}/notifications", {"level": "all"})
    assert page.status == 429 and "Too many changes in a short time. Try again in" in page.text


async def test_403_and_404_pages_in_thai(ana, ben):
    page = await ben.get("/rooms/999999", headers=THAI)
    assert page.status == 404
    shows(page.text, ["ไม่พบห้อง", "ไม่มีห้องนี้ อาจถูกนำออกไปแล้ว"], ["Room not found", "There is no such room"])
    page = await ben.get("/admin", headers=THAI)
    assert page.status == 403
    shows(page.text, ["เฉพาะผู้ดูแลระบบ", "หน้านี้สำหรับผู้ดูแลระบบของเว็บไซต์เท่านั้น"],
          ["Administrators only", "This page is for the site's administrators."])
    page = await ben.get("/rooms/abc/settings", headers=THAI)
    assert page.status == 404 and "ตัวเลขในที่อยู่ไม่ถูกต้อง" in page.text


async def test_problem_details_follow_the_token_accounts_language(app, ana, ben):
    private = await ana.create_room("Secret", "private")
    await User.filter(username_key="ben").update(language="th")
    thai = ApiClient(app, await token_for("ben"))
    english = ApiClient(app, await token_for("ana"))
    path = f"/api/v1/rooms/{private}/messages"
    # Ben (Thai) may not read Ana's private room; Ana (no language set) is refused elsewhere.
    th = await thai.get(path)
    assert th.status == 403 and th.headers["Content-Type"] == PROBLEM
    assert th.json["title"] == "ไม่มีสิทธิ์"
    assert th.json["detail"] == "ห้องนี้เป็นห้องส่วนตัว เฉพาะสมาชิกเท่านั้นที่เห็นได้"
    en = await english.get("/api/v1/rooms/999999/messages")
    assert en.status == 404 and en.json["title"] == "Not Found"
    assert en.json["detail"] == "There is no such room. It may have been removed."
    th404 = await thai.get("/api/v1/rooms/999999/messages")
    assert th404.json["title"] == "ไม่พบ" and th404.json["detail"] == "ไม่มีห้องนี้ อาจถูกนำออกไปแล้ว"
    for key in ("type", "status", "instance"):
        assert th404.json[key] == en.json[key], key
    # A field error: the field's name stays as the API names it, its detail is in Thai.
    public = await ana.create_room("Lobby")
    bad = await thai.get(f"/api/v1/rooms/{public}/messages?limit=0")
    assert bad.status == 422
    assert bad.json["errors"] == [{"field": "limit", "detail": "limit เป็นตัวเลขตั้งแต่ 1 ถึง 100"}]
    assert bad.json["title"] == "เนื้อหาที่ประมวลผลไม่ได้"
    bad_en = await english.get(f"/api/v1/rooms/{public}/messages?limit=0")
    assert bad_en.json["errors"] == [{"field": "limit", "detail": "limit is a number from 1 to 100."}]
    assert (bad.json["type"], bad.json["status"]) == (bad_en.json["type"], bad_en.json["status"])
    # A body that fails the schema: pydantic's kinds of error, worded in the account's language.
    missing = await thai.post(f"/api/v1/rooms/{public}/messages", {"nonce": "has space"})
    assert missing.status == 422
    assert {(e["field"], e["detail"]) for e in missing.json["errors"]} == {
        ("body", "ต้องระบุฟิลด์นี้"), ("nonce", "โปรดใช้เฉพาะอักขระ ASCII ที่มองเห็นได้ และไม่มีช่องว่าง")}
    missing_en = await english.post(f"/api/v1/rooms/{public}/messages", {"body": 5})
    assert missing_en.json["errors"] == [{"field": "body", "detail": "Give a string."}]


async def test_problem_details_language_without_an_account_setting(app, ana):
    api = ApiClient(app, await token_for("ana"))  # Ana has chosen no language: Accept-Language decides
    answer = await api.get("/api/v1/rooms/999999/messages", headers=THAI)
    assert answer.json["title"] == "ไม่พบ"
    await User.filter(username_key="ana").update(language="en")  # her setting outranks the header
    answer = await api.get("/api/v1/rooms/999999/messages", headers=THAI)
    assert answer.json["title"] == "Not Found"
    # No token: the header alone; a session cookie's account and the language cookie count for nothing.
    await User.filter(username_key="ana").update(language="th")
    answer = await ana.client.get("/api/v1/me", headers={"Accept-Language": "en"})
    body = await answer.get_json()
    assert answer.status_code == 401 and body["title"] == "Unauthorized"
    assert body["detail"].startswith("Send the header Authorization")
    answer = await ApiClient(app, None).get("/api/v1/me", headers=THAI)
    assert answer.status == 401 and answer.json["title"] == "ไม่ได้ยืนยันตัวตน"
    assert answer.json["detail"].startswith("โปรดส่งส่วนหัว Authorization: Bearer TOKEN")


def test_a_direct_rooms_title_is_worded_where_it_is_shown():
    """A room list entry may be made during one reader's request and rendered for every language
    (webchat.rooms.broadcasts.room_added): its title is translated when shown, not when made."""
    with i18n.speaking("th"):
        title = direct_title(["Ana Lima"])
        group = direct_title(["Ben", "ana", "Cleo"])
    with i18n.speaking("en"):
        assert str(title) == "Direct: Ana Lima" and f"{group}" == "Group: ana, Ben and Cleo"
    with i18n.speaking("th"):
        assert str(title) == "สนทนาส่วนตัว: Ana Lima" and str(group) == "กลุ่ม: ana, Ben และ Cleo"
