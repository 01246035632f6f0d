"""Sign-in, settings, profiles, "Forgot password?" and the emails in Thai: each page read with
`Accept-Language: th` says `<html lang="th">` and shows its Thai words and none of its English
ones; each email is written in its recipient's language (a Thai account's digest and address
confirmation), or, for a reset link, in the language of the page it was asked from."""

from __future__ import annotations

import re
from datetime import UTC

from tests.helpers import Browser
from tests.helpers.mail import parts
from tests.test_email import PUBLIC, a_round, inbox, link_in, mail_app, verified  # noqa: F401 (fixtures)
from tests.test_thai_pages_th1 import THAI, shows, thai_page
from webchat.clock import clock_for
from webchat.models import Message, Notice, User
from webchat.ratelimit import Limit


async def test_sign_in_and_a_failed_sign_in_in_thai(ana, browser_factory):
    visitor = browser_factory()
    shows(await thai_page(visitor, "/login"),
          ["<title>ลงชื่อเข้าใช้", "<h1>ลงชื่อเข้าใช้</h1>", ">ชื่อผู้ใช้</label>", ">รหัสผ่าน</label>",
           "ยังไม่มีบัญชีใช่ไหม", '<a href="/register">สร้างบัญชี</a>'],
          ["<h1>Sign in</h1>", ">Username</label>", ">Password</label>", "New here?", "Create an account",
           "Forgot password?"])  # no email here: no "Forgot password?" either
    wrong = await visitor.post("/login", {"username": "ana", "password": "not her password"}, headers=THAI)
    assert wrong.status == 401
    shows(wrong.text, ["<title>ข้อผิดพลาด: ลงชื่อเข้าใช้", "ชื่อผู้ใช้และรหัสผ่านไม่ตรงกัน โปรดลองอีกครั้ง",
                       ">ข้อผิดพลาด:</span>"],
          ["do not match", "Error: Sign in", ">Error:</span>"])
    empty = await visitor.post("/login", {"username": "", "password": ""}, headers=THAI)
    assert empty.status == 422
    shows(empty.text, ["โปรดป้อนชื่อผู้ใช้", "โปรดป้อนรหัสผ่าน"], ["Enter your username", "Enter your password"])


async def test_settings_in_thai_every_section_its_errors_and_notice(ana):
    shows(await thai_page(ana, "/settings"),
          ["<title>การตั้งค่า", "<h1>การตั้งค่า</h1>", "ต้องการให้โปรแกรมอ่านหน้าจอประกาศข้อความใหม่ใดบ้าง",
           "ทุกข้อความจากผู้อื่น", "เฉพาะข้อความที่กล่าวถึงฉัน (@ana)", "<legend>การพิมพ์</legend>",
           "ประกาศเมื่อมีคนเริ่มพิมพ์", "ประกาศครั้งเดียวเมื่อมีคนเริ่มพิมพ์", "<legend>เวลา</legend>",
           ">เขตเวลา</label>", "ยังไม่ได้ตั้งค่า (UTC เมื่อไม่ใช้ JavaScript)", "<legend>นาฬิกา</legend>",
           "อัตโนมัติ ตามภาษา (ภาษาไทย: 18:40)", "แบบ 12 ชั่วโมง (6:40 PM)", "แบบ 24 ชั่วโมง (18:40)",
           "<legend>การแจ้งเตือน</legend>", ">ห้ามรบกวน</label>", '<a href="/mentions">การกล่าวถึง</a>',
           "<legend>ภาษา</legend>", ">บันทึกการตั้งค่า</button>", "<h2>บัญชีของคุณ</h2>",
           '<a href="/users/ana">โปรไฟล์ของคุณ</a> (<a href="/settings/profile">แก้ไข</a>)', ">เปลี่ยนรหัสผ่าน</a>",
           ">ดาวน์โหลดข้อมูลของคุณ</a>", ">ลบบัญชีของคุณ</a>", "<h2>อีเมล</h2>",
           "เว็บไซต์นี้ไม่ได้ตั้งค่าอีเมลไว้", "<h2>การเชื่อมต่อ</h2>", ">โทเค็น API และบอต</a>",
           ">API สำหรับการเชื่อมต่อ</a>", "<h2>เซสชัน</h2>", "ออกจากระบบในทุกเบราว์เซอร์", ">ออกจากระบบทุกที่</button>"],
          ["Which new messages", "All messages from others", "Only messages that mention me", "<legend>Typing",
           "Announce when someone starts typing", "Said once", "<legend>Time", "Time zone", "Not set (UTC",
           "Automatic, from the language", "12-hour", "24-hour", "<legend>Notifications", "Do not disturb",
           "While on, nothing notifies you", "Save settings", "Your account", "Your profile", "edit it",
           "Download your data", "Delete your account", "<h2>Email", "Email is not configured", "Integrations",
           "API tokens and bots", "integration API", "Sessions", "Signs you out", "Sign out everywhere"])
    bad = await ana.post("/settings", {"time_zone": "Mars/Olympus_Mons", "clock": "13"}, headers=THAI)
    assert bad.status == 422
    shows(bad.text, ["<title>ข้อผิดพลาด: การตั้งค่า", "โปรดเลือกเขตเวลาจากรายการ เช่น Asia/Bangkok",
                     "โปรดเลือกรูปแบบนาฬิกา: อัตโนมัติ แบบ 12 ชั่วโมง หรือแบบ 24 ชั่วโมง", ">ข้อผิดพลาด:</span>"],
          ["Error: Settings", "Choose a time zone", "Choose a clock", ">Error:</span>"])
    assert (await ana.post("/settings", {"time_zone": "Asia/Bangkok"}, headers=THAI)).status == 303
    shows(await thai_page(ana, "/settings"), ["ตอนนี้เวลาจะแสดงตามเขตเวลา Asia/Bangkok"], ["Times are now shown"])
    # Choosing Thai in the settings: the notice is in the language just chosen, whatever the browser says.
    assert (await ana.post("/settings", {"announce": "all", "language": "th"})).status == 303
    page = await ana.get("/settings", headers={"Accept-Language": "en"})
    shows(page.text, ['<html lang="th">', "บันทึกการตั้งค่าแล้ว"], ["Settings saved."])


async def test_profiles_and_blocking_in_thai(ana, ben):
    shows(await thai_page(ana, "/users/ben"),
          [">เขตเวลา</dt>", ">ยังไม่ได้ตั้งค่า</dd>", ">เป็นสมาชิกตั้งแต่</dt>", ">ส่งข้อความถึง Ben Okafor</button>",
           ">บล็อก Ben Okafor</button>"],
          ["Time zone", "Not set", "Member since", "Message Ben", "Block Ben"])
    assert (await ana.post("/users/ben/block", headers=THAI)).status == 303
    shows(await thai_page(ana, "/users/ben"),
          ["คุณบล็อก Ben Okafor แล้ว", ">เลิกบล็อก Ben Okafor</button>", "คุณบล็อก Ben Okafor อยู่"],
          ["You blocked", "Unblock", "You block", "folded away"])
    assert (await ana.post("/users/ben/unblock", headers=THAI)).status == 303
    shows(await thai_page(ana, "/users/ben"), ["คุณเลิกบล็อก Ben Okafor แล้ว"], ["You no longer block"])
    assert (await ana.post("/users/ana/block", headers=THAI)).status == 409
    shows(await thai_page(ana, "/users/nobody", 404), ["ไม่มีผู้ใช้ชื่อ “nobody”", "ไม่พบบุคคลนี้"],
          ["There is nobody called", "No such person"])
    await User.filter(username_key="ana").update(bio="ชอบกาแฟ")
    shows(await thai_page(ana, "/users/ana"), [">เกี่ยวกับ</dt>", "ชอบกาแฟ", '<a href="/settings/profile">แก้ไขโปรไฟล์ของคุณ</a>'],
          ["<dt>About", "Edit your profile"])


async def test_edit_profile_and_its_errors_in_thai(ana):
    shows(await thai_page(ana, "/settings/profile"),
          ["<title>โปรไฟล์ของคุณ", "<h1>โปรไฟล์ของคุณ</h1>", ">ชื่อที่แสดง</label>", "หากเว้นว่างไว้จะใช้ชื่อผู้ใช้",
           '<a href="/settings#time">การตั้งค่า</a>', ">เกี่ยวกับคุณ (ไม่บังคับ)</label>",
           "ไม่เกิน 300 ตัวอักษร แสดงในโปรไฟล์ของคุณ", ">บันทึกโปรไฟล์</button>"],
          ["Your profile", "Display name", "Shown beside your messages", "Your time zone and clock",
           "About you", "Up to 300 characters", "Save profile"])
    bad = await ana.post("/settings/profile", {"display_name": "Ana\u202eLima", "bio": "x" * 301}, headers=THAI)
    assert bad.status == 422
    shows(bad.text, ["<title>ข้อผิดพลาด: โปรไฟล์ของคุณ", "ชื่อที่แสดงต้องไม่มีอักขระที่มองไม่เห็น",
                     "ข้อความเกี่ยวกับตัวคุณต้องมีไม่เกิน 300 ตัวอักษร", ">ข้อผิดพลาด:</span>"],
          ["Error: Your profile", "cannot contain", "Keep the bio", ">Error:</span>"])
    assert (await ana.post("/settings/profile", {"display_name": "Ana", "bio": ""}, headers=THAI)).status == 303
    shows(await thai_page(ana, "/users/ana"), ["บันทึกโปรไฟล์แล้ว"], ["Profile saved."])
    wrong = await ana.post("/settings/password", {"current_password": "nope", "new_password": "short"},
                           headers=THAI)
    assert wrong.status == 422
    shows(wrong.text, ["รหัสผ่านปัจจุบันไม่ถูกต้อง", "โปรดเลือกรหัสผ่านที่มีอย่างน้อย 8 ตัวอักษร"],
          ["That is not your current password", "Choose a password"])


async def test_forgot_password_in_thai_and_its_email_in_the_language_it_was_asked_in(mail_app, inbox):
    ana = Browser(mail_app)
    await ana.register("ana", "Ana")  # her account leaves the language to the browser
    await verified("ana", "ana@example.org")
    mail_app.config["RATE_LIMITS"]["forgot_account"] = Limit(10, 3600)
    visitor = Browser(mail_app)
    shows(await thai_page(visitor, "/login"), ['<a href="/forgot">ลืมรหัสผ่านใช่ไหม</a>'], ["Forgot password?"])
    shows(await thai_page(visitor, "/forgot"),
          ["<title>ลืมรหัสผ่านใช่ไหม", "<h1>ลืมรหัสผ่านใช่ไหม</h1>", "หากบัญชีของคุณมีที่อยู่อีเมลที่ยืนยันแล้ว",
           ">ชื่อผู้ใช้หรือที่อยู่อีเมล</label>", ">ส่งลิงก์ให้ฉัน</button>", ">กลับไปที่หน้าลงชื่อเข้าใช้</a>"],
          ["Forgot your password?", "If your account has", "Username or email address", "Send me a link",
           "Back to sign in"])
    empty = await visitor.post("/forgot", {"account": ""}, headers=THAI)
    assert empty.status == 422
    shows(empty.text, ["<title>ข้อผิดพลาด: ลืมรหัสผ่านใช่ไหม", "โปรดป้อนชื่อผู้ใช้หรือที่อยู่อีเมลของคุณ"],
          ["Error: Forgot", "Enter your username"])
    sent = await visitor.post("/forgot", {"account": "ana"}, headers=THAI)
    assert (sent.status, sent.location) == (303, "/forgot/sent")
    shows(await thai_page(visitor, "/forgot/sent"),
          ["<title>โปรดตรวจสอบอีเมลของคุณ", "เราได้ส่งลิงก์ไปที่อีเมลนั้นแล้ว", "โปรดดูในโฟลเดอร์สแปม"],
          ["Check your email", "If an account has", "Nothing arrived?", "Back to sign in"])
    [thai] = await inbox.wait_for(1)
    text = parts(thai)[0]
    assert thai["Subject"] == "ตั้งรหัสผ่านใหม่สำหรับ webchat"
    shows(text, ["สวัสดีคุณ Ana", "มีผู้ขอตั้งรหัสผ่านใหม่สำหรับบัญชี webchat @ana", "ลิงก์ใช้ได้ครั้งเดียวภายใน 60 นาที:",
                 "หากไม่ใช่คุณ โปรดเพิกเฉยต่ออีเมลนี้"],
          ["Hello", "someone", "Choose one", "minutes", "ignore this email"])
    assert (await visitor.get(link_in(text, "/reset/"), headers=THAI)).status == 200
    # Asked from an English page: the same account's link comes in English.
    assert (await Browser(mail_app).post("/forgot", {"account": "ana"})).status == 303
    [_, english] = await inbox.wait_for(2)
    assert english["Subject"] == "Choose a new password for webchat"
    assert "Hello Ana," in parts(english)[0] and "within 60 minutes" in parts(english)[0]


async def test_email_settings_and_confirmation_in_the_recipients_language(mail_app, inbox):
    ana, ben = Browser(mail_app), Browser(mail_app)
    await ana.register("ana", "Ana Lima")
    await ben.register("ben", "Ben")
    assert (await ana.post("/settings", {"announce": "all", "language": "th"})).status == 303
    shows(await thai_page(ana, "/settings"), ['<a href="/settings/email">ที่อยู่อีเมลและอีเมลสรุปขณะไม่อยู่</a>'],
          ["Email address and away digests", "what you miss while away"])
    shows(await thai_page(ana, "/settings/email"),
          ["<title>อีเมล", ">ที่อยู่อีเมลของคุณ</label>", "เราจะส่งลิงก์ไปเพื่อยืนยันที่อยู่นี้", ">เพิ่มที่อยู่</button>",
           ">กลับไปที่การตั้งค่า</a>"],
          ["Your email address", "We send a link", "Add address", "Back to settings"])
    bad = await ana.post("/settings/email", {"email": "not an address"})
    assert bad.status == 422
    shows(bad.text, ["<title>ข้อผิดพลาด: อีเมล", "โปรดป้อนที่อยู่อีเมลให้ถูกต้อง เช่น name@example.org"],
          ["Error: Email", "Enter an email address"])
    assert (await ana.post("/settings/email", {"email": "ana@example.org"})).status == 303
    page = await thai_page(ana, "/settings/email")
    shows(page, ["เราส่งลิงก์ไปที่ ana@example.org แล้ว", "ที่อยู่ของคุณ: <strong>ana@example.org</strong> ยังไม่ได้ยืนยัน",
                 ">เปลี่ยนที่อยู่อีเมลของคุณ</label>", ">เปลี่ยนที่อยู่</button>", "<h2>อีเมลสรุปขณะไม่อยู่</h2>",
                 "ส่งอีเมลสรุปสิ่งที่ฉันพลาดไประหว่างไม่อยู่", ">บันทึกการตั้งค่าอีเมลสรุป</button>",
                 ">นำที่อยู่อีเมลออก</button>"],
          ["We sent a link", "not confirmed yet", "Change your email address", "Away digests",
           "Email me what I miss", "Save digest setting", "Remove email address"])
    [message] = await inbox.wait_for(1)
    text = parts(message)[0]
    assert message["Subject"] == "ยืนยันที่อยู่อีเมลของคุณสำหรับ webchat"
    shows(text, ["สวัสดีคุณ Ana Lima", "มีผู้ระบุที่อยู่อีเมลนี้ให้กับบัญชี webchat @ana",
                 "โปรดเปิดลิงก์นี้ภายใน 48 ชั่วโมง แล้วกด “ยืนยัน”:", "ที่อยู่นี้จะไม่ได้รับอีเมลจาก webchat"],
          ["Hello", "someone", "Confirm", "hours", "ignore this email"])
    path = link_in(text, "/email/verify/")
    shows(await thai_page(Browser(mail_app), path),
          ["<title>ยืนยันที่อยู่อีเมลของคุณ", "ยืนยันให้ <strong>ana@example.org</strong> เป็นที่อยู่อีเมลของบัญชี webchat",
           ">ยืนยัน</button>"],
          ["Confirm your email address", "as the email address of", ">Confirm<"])
    assert (await ana.post(path)).status == 303
    shows(await thai_page(ana, path), ["ยืนยัน <strong>ana@example.org</strong> แล้ว"], ["is confirmed"])
    shows(await thai_page(ana, "/settings/email"), ["ที่อยู่ของคุณ: <strong>ana@example.org</strong> ยืนยันแล้ว"],
          ["confirmed."])
    assert (await ana.post("/settings/email/digests", {})).status == 303
    shows(await thai_page(ana, "/settings/email"), ["ปิดอีเมลสรุปขณะไม่อยู่แล้ว"], ["Away digests are off."])
    assert (await ana.post("/settings/email/remove")).status == 303
    shows(await thai_page(ana, "/settings/email"), ["นำที่อยู่อีเมลของคุณออกแล้ว"], ["Your email address is removed"])
    # Ben left the language to his browser: his confirmation is in English, whatever page he asked from.
    assert (await ben.post("/settings/email", {"email": "ben@example.org"}, headers=THAI)).status == 303
    [_, english] = await inbox.wait_for(2)
    assert english["Subject"] == "Confirm your email address for webchat"
    assert "Hello Ben," in parts(english)[0] and "press “Confirm”" in parts(english)[0]


async def test_digest_in_thai_for_a_thai_account(mail_app, inbox):
    ana, ben = Browser(mail_app), Browser(mail_app)
    await ana.register("ana", "Ana")
    await ben.register("ben", "Ben <b>&</b>")
    await verified("ana", "ana@example.org")
    settings = {"announce": "all", "language": "th", "time_zone": "Asia/Bangkok"}
    assert (await ana.post("/settings", settings)).status == 303
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "my question")
    question = await Message.get(body="my question")
    await ben.say(room, "@ana look at this")
    await ben.post(f"/rooms/{room}/messages", {"body": "a reply to you", "reply_to": str(question.id)})
    reply = await Message.get(body="a reply to you")
    if not await Notice.exists(message_id=reply.id):  # however replies come to be made
        await Message.filter(id=reply.id).update(reply_to_id=question.id)
        await Notice.create(user_id=question.author_id, message_id=reply.id, room_id=room, kind="reply")
    dm = int((await ben.post("/dm", {"username": "ana"})).location.rsplit("/", 1)[1])
    await ben.say(dm, "just between us")
    assert await a_round(mail_app) == 1
    [message] = await inbox.wait_for(1)
    assert message["Subject"] == "มีข้อความถึงคุณ 3 ข้อความบน webchat ระหว่างที่คุณไม่อยู่"
    text, html = parts(message)
    shows(text, ["สวัสดีคุณ Ana", "ระหว่างที่คุณไม่อยู่:", "Ben <b>&</b> (@ben) กล่าวถึงคุณในห้อง General เมื่อ",
                 "Ben <b>&</b> (@ben) ตอบกลับคุณในห้อง General เมื่อ", "Ben <b>&</b> (@ben) เขียนถึงคุณเมื่อ",
                 "คุณได้รับอีเมลนี้เพราะ", f"หยุดรับอีเมลเหล่านี้: {PUBLIC}/unsubscribe/"],
          ["Hello", "while you were away", "mentioned you", "replied to you", "wrote to you", "You get this email",
           "Stop these emails", "UTC"])
    shows(html, ['<html lang="th">', "<title>มีข้อความถึงคุณ 3 ข้อความ", "ระหว่างที่คุณไม่อยู่</h1>",
                 "สวัสดีคุณ Ana มีข้อความถึงคุณ 3 ข้อความ:",
                 "<strong>Ben &lt;b&gt;&amp;&lt;/b&gt;</strong> (@ben) กล่าวถึงคุณในห้อง <strong>General</strong> เมื่อ <time",
                 "ตอบกลับคุณในห้อง <strong>General</strong>", "(@ben) เขียนถึงคุณเมื่อ <time",
                 "เปิดข้อความจาก Ben &lt;b&gt;&amp;&lt;/b&gt;", ">หยุดรับอีเมลเหล่านี้</a>"],
          ['<html lang="en"', "While you were away", "Hello", "mentioned you", "wrote to you", "Open the message",
           "Stop these emails", "<b>&</b>", " UTC<"])
    # Times in her zone (Bangkok), on the 24-hour clock Thai uses.
    for body in ("@ana look at this", "a reply to you", "just between us"):
        written = (await Message.get(body=body)).created_at
        hours = clock_for("Asia/Bangkok", "24").local(written.astimezone(UTC)).strftime("%H:%M")
        assert re.search(rf"เมื่อ [^\n]*{hours}:\n", text), (hours, text)
    # Its unsubscribe page, in Thai for a Thai reader.
    path = message["List-Unsubscribe"].strip("<>")[len(PUBLIC):]
    visitor = Browser(mail_app)
    shows(await thai_page(visitor, path),
          ["<title>อีเมลสรุปขณะไม่อยู่", "หยุดส่งอีเมลสรุปสิ่งที่คุณพลาดไประหว่างไม่อยู่ไปยัง <strong>ana@example.org</strong>",
           ">หยุดอีเมลสรุปขณะไม่อยู่</button>"],
          ["Away digests", "Stop the emails", "Stop away digests"])
    assert (await visitor.post(path)).status == 303
    shows(await thai_page(visitor, path), ["ปิดอีเมลสรุปขณะไม่อยู่สำหรับ <strong>ana@example.org</strong> แล้ว"],
          ["Away digests are off"])
