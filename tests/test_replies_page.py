"""A message's replies on a page of their own (`/rooms/ID/messages/MID/replies`, where its "N
replies" leads): the message, then every reply, oldest first, each the usual message fragment with a
link to it in the conversation; paged past 50; a deleted original; who may read it; in Thai. Every
test runs on SQLite and PostgreSQL (the `app` fixture)."""

from __future__ import annotations

import re

from tests.test_thai_pages_th1 import shows, thai_page
from webchat.models import Message


def items(html: str) -> list[str]:
    """Each message's item, as the page shows it."""
    return re.findall(r'<li id="m-\d+"[^>]*>.*?\n</li>', html, re.S)


def ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li id="m-(\d+)"', html)]


def replies_list(html: str) -> str:
    return re.search(r'<ol id="messages" class="messages replies">.*?</ol>', html, re.S).group(0)


async def _reply(person, room: int, original: int, body: str) -> int:
    page = await person.post(f"/rooms/{room}/messages", {"body": body, "reply_to": str(original)})
    assert page.status == 303, page.text
    return (await Message.get(body=body)).id


async def test_the_page_shows_the_original_then_every_reply_in_order(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Lunch at noon?")
    original = (await Message.get(body="Lunch at noon?")).id
    await ana.say(room, "unrelated words")
    first = await _reply(ben, room, original, "yes please")
    second = await _reply(ana, room, original, "see you there")
    third = await _reply(ben, room, first, "an answer to an answer")  # not a reply to the original
    path = f"/rooms/{room}/messages/{original}/replies"
    # The room's "1 reply"… "2 replies" leads here, and the page is a page (no redirect).
    assert f'<a href="{path}">2 replies</a>' in (await ana.get(f"/rooms/{room}")).text
    page = await ben.get(path)
    assert page.status == 200
    html = page.text
    assert "<title>Replies to Ana Lima · General" in html
    assert len(re.findall(r"<h1[ >]", html)) == 1 and "<h1>Replies to Ana Lima</h1>" in html
    assert '<main id="main"' in html and "<h2>2 replies</h2>" in html
    # The original at the top, then its replies oldest first; nothing else from the room.
    assert ids(html) == [original, first, second]
    assert third not in ids(html) and "unrelated words" not in html
    listed = replies_list(html)
    assert ids(listed) == [first, second]
    # Each reply: the usual fragment (with its actions), then a link to it in the conversation.
    for reply in (first, second):
        li = next(li for li in items(listed) if li.startswith(f'<li id="m-{reply}"'))
        assert '<details class="msg-actions">' in li
        assert li.endswith(f'<p class="in-conversation"><a href="/rooms/{room}/messages/{reply}">'
                           "Show in conversation</a></p>\n</li>")
    # The original has no such link, and keeps its own actions and count.
    top = items(html)[0]
    assert top.startswith(f'<li id="m-{original}"') and "Show in conversation" not in top
    assert '<details class="msg-actions">' in top and f'<a href="{path}">2 replies</a>' in top
    # Back to the room, and Reply opens the room's composer answering the original.
    assert f'<a href="/rooms/{room}">Back to General</a>' in html
    assert f'<a href="/rooms/{room}?reply_to={original}#composer">Reply to Ana Lima</a>' in html
    # The reaction buttons' one form, and the reader's own style for the actions.
    assert '<form id="react-form" method="post"' in html
    assert '.message[data-author="ben"] .act-own' in html
    # "Show in conversation" opens the room around the reply.
    around = await ben.get(f"/rooms/{room}/messages/{second}")
    assert around.status == 200 and f'data-current="{second}"' in around.text


async def test_a_message_without_replies_says_so(ana):
    room = await ana.create_room("General")
    await ana.say(room, "anyone?")
    original = (await Message.get(body="anyone?")).id
    page = await ana.get(f"/rooms/{room}/messages/{original}/replies")
    assert page.status == 200
    assert ids(page.text) == [original] and "<h2>0 replies</h2>" in page.text
    assert "No one has replied to this message yet." in page.text and 'id="messages"' not in page.text
    assert f'href="/rooms/{room}?reply_to={original}#composer"' in page.text


async def test_more_than_fifty_replies_are_paged(ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "count off")
    original = (await Message.get(body="count off")).id
    made = [await _reply(ben if n % 2 else ana, room, original, f"number {n}") for n in range(53)]
    path = f"/rooms/{room}/messages/{original}/replies"
    page = await ana.get(path)
    assert "<h2>53 replies</h2>" in page.text
    assert ids(replies_list(page.text)) == made[:50]
    later = f"{path}?after={made[49]}"
    assert f'<p class="newer"><a href="{later}">Show later replies</a></p>' in page.text
    assert "Show the first replies" not in page.text
    rest = await ana.get(later)
    assert rest.status == 200
    assert ids(rest.text) == [original, *made[50:]]  # the original stays at the top
    assert "Show later replies" not in rest.text and "<h2>53 replies</h2>" in rest.text
    assert f'<a href="{path}">Show the first replies</a>' in rest.text
    # Past the last one: none left, said plainly; a cursor that is not a number is refused.
    end = await ana.get(f"{path}?after={made[-1]}")
    assert end.status == 200 and "There are no later replies." in end.text
    assert (await ana.get(f"{path}?after=x")).status == 400


async def test_a_deleted_original_keeps_its_tombstone_and_its_replies(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "original words")
    original = (await Message.get(body="original words")).id
    reply = await _reply(ben, room, original, "an answer")
    gone = await _reply(ben, room, original, "a second answer")
    assert (await ana.post(f"/rooms/{room}/messages/{original}/delete")).status == 303
    assert (await ben.post(f"/rooms/{room}/messages/{gone}/delete")).status == 303
    page = await ben.get(f"/rooms/{room}/messages/{original}/replies")
    assert page.status == 200
    html = page.text
    assert "original words" not in html and "a second answer" not in html
    assert "<h1>Replies to Ana Lima</h1>" in html and "<h2>2 replies</h2>" in html
    top = items(html)[0]
    assert top.startswith(f'<li id="m-{original}" class="message deleted"') and "Message deleted" in top
    # No reply can be made to it any more, so no Reply link; its replies stay, a deleted one as a tombstone.
    assert "?reply_to=" not in html.replace(f"?reply_to={reply}", "")
    assert ids(replies_list(html)) == [reply, gone]
    assert "an answer" in html and "In reply to: original message deleted" in html


async def test_only_readers_of_the_room_and_only_its_own_messages(ana, ben, browser_factory):
    private = await ana.create_room("Secret", visibility="private")
    public = await ana.create_room("Open")
    await ana.say(private, "hush")
    hush = (await Message.get(body="hush")).id
    await _reply(ana, private, hush, "hush hush")
    await ana.say(public, "elsewhere")
    elsewhere = (await Message.get(body="elsewhere")).id
    path = f"/rooms/{private}/messages/{hush}/replies"
    # A non-member is refused as on the message's permanent link, and learns nothing of it.
    for target in (path, f"/rooms/{private}/messages/{hush}"):
        refused = await ben.get(target)
        assert refused.status == 403 and "hush" not in refused.text
    # Signed out: sent to sign in, as everywhere.
    assert (await browser_factory().get(path)).status == 303
    # A message of another room is not found through this one.
    assert (await ana.get(f"/rooms/{public}/messages/{hush}/replies")).status == 404
    assert (await ana.get(f"/rooms/{private}/messages/{elsewhere}/replies")).status == 404
    assert (await ana.get(f"/rooms/{private}/messages/999999/replies")).status == 404
    # A public room's replies are readable by anyone signed in, as its messages are.
    assert (await ben.get(f"/rooms/{public}/messages/{elsewhere}/replies")).status == 200
    assert (await ana.get(path)).status == 200


async def test_the_page_in_thai(ana, ben, no_limits):
    room = await ana.create_room("Harbour")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "hello all")
    original = (await Message.get(body="hello all")).id
    made = [await _reply(ben, room, original, f"reply {n}") for n in range(51)]
    path = f"/rooms/{room}/messages/{original}/replies"
    html = await thai_page(ben, path)
    shows(html, ["<h1>การตอบกลับข้อความของ Ana Lima</h1>", ">กลับไปที่ Harbour<", "ข้อความต้นฉบับ",
                 "การตอบกลับ 51 รายการ", ">แสดงในการสนทนา<", ">ตอบกลับ Ana Lima<", ">แสดงการตอบกลับที่ใหม่กว่า<"],
          ["Replies to", "Back to", "Original message", "51 replies", "Show in conversation", "Reply to Ana Lima",
           "Show later replies"])
    html = await thai_page(ben, f"{path}?after={made[-1]}")
    shows(html, ["ไม่มีการตอบกลับที่ใหม่กว่านี้", ">แสดงการตอบกลับชุดแรก<"],
          ["There are no later replies.", "Show the first replies"])
    await ana.say(room, "quiet")
    quiet = (await Message.get(body="quiet")).id
    shows(await thai_page(ben, f"/rooms/{room}/messages/{quiet}/replies"),
          ["ยังไม่มีผู้ใดตอบกลับข้อความนี้", "การตอบกลับ 0 รายการ"], ["No one has replied to this message yet."])


async def test_a_reply_edited_in_place_keeps_its_link_to_the_conversation(ana, ben):
    """htmx swaps the edited (or cancelled, or deleted) reply back into its item: on the replies
    page the item keeps "Show in conversation"; in the room, a reply has no such link."""
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Lunch at noon?")
    original = (await Message.get(body="Lunch at noon?")).id
    reply = await _reply(ben, room, original, "yes please")
    link = (f'<p class="in-conversation"><a href="/rooms/{room}/messages/{reply}">'
            "Show in conversation</a></p>\n</li>")
    on_page = {"HX-Current-URL": f"http://localhost/rooms/{room}/messages/{original}/replies?after=1"}
    in_room = {"HX-Current-URL": f"http://localhost/rooms/{room}"}

    edited = await ben.post(f"/rooms/{room}/messages/{reply}/edit", {"body": "yes, please"}, htmx=True,
                            headers=on_page)
    assert edited.status == 200 and "yes, please" in edited.text
    assert edited.text.rstrip().endswith(link) and edited.text.count("Show in conversation") == 1
    cancelled = await ben.get(f"/rooms/{room}/messages/{reply}", htmx=True, headers=on_page)
    assert cancelled.text.rstrip().endswith(link)
    # The same reply swapped back in the room, and the original on its own replies page: no link.
    assert "Show in conversation" not in (await ben.post(
        f"/rooms/{room}/messages/{reply}/edit", {"body": "yes!"}, htmx=True, headers=in_room)).text
    assert "Show in conversation" not in (await ana.get(
        f"/rooms/{room}/messages/{original}", htmx=True, headers=on_page)).text
    # The page itself shows the edited reply with its link once.
    page = (await ben.get(f"/rooms/{room}/messages/{original}/replies")).text
    assert page.count("Show in conversation") == 1 and "yes!" in page
