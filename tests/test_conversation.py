"""The conversation around messages, without JavaScript: formatting as stored and shown, permanent
links to a message, reactions and replies. Every test runs on SQLite and PostgreSQL (the `app`
fixture); what is live through both brokers is in tests/test_conversation_live.py."""

from __future__ import annotations

import re

from webchat.models import Message, Reaction


def items(html: str) -> list[str]:
    """Each message's fragment (it ends with its bubble: a list inside a body does not end it)."""
    return re.findall(r'<li id="m-\d+"[^>]*>.*?</div>\n</li>', html, re.S)


def numbers(html: str) -> list[int]:
    """The "message number N" bodies shown, in order."""
    return [int(n) for n in re.findall(r'<div class="body"[^>]*>message number (\d+)</div>', html)]


async def test_formatting_is_stored_once_and_shown_on_the_page(ana):
    room = await ana.create_room("General")
    await ana.say(room, "**bold** and `code`\n\n- one\n- two\n\n```sh\nrm -rf <x>\n```")
    message = await Message.get(room_id=room)
    assert message.html.startswith('<p dir="auto"><strong>bold</strong> and <code>code</code></p>')
    page = await ana.get(f"/rooms/{room}")
    li = items(page.text)[0]
    assert '<ul dir="auto">\n<li dir="auto">one</li>' in li
    assert '<figcaption class="code-language">sh</figcaption><pre dir="auto"><code>rm -rf &lt;x&gt;' in li
    # Formatted: the body is read as it is shown (lists and code heard), not as typed.
    assert re.search(r'<span class="said visually-hidden">[^<]*: </span>', li)
    # Edited: rendered again.
    await ana.post(f"/rooms/{room}/messages/{message.id}/edit", {"body": "~~gone~~"})
    assert (await Message.get(id=message.id)).html == "<s>gone</s>"


async def test_the_composer_has_a_formatting_help(ana):
    room = await ana.create_room("General")
    page = await ana.get(f"/rooms/{room}")
    composer = re.search(r'<form id="composer".*?</form>', page.text, re.S).group(0)
    # A <details> after Send: reachable by Tab from the composer, open without script.
    assert composer.index("<details class=\"format-help\">") > composer.index('<button type="submit">Send</button>')
    assert "<summary>Formatting</summary>" in composer and "<code>**bold**</code>" in composer


async def test_a_permanent_link_opens_the_room_around_its_message(ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    for n in range(120):
        await ana.say(room, f"message number {n}")
    target = await Message.get(room_id=room, body="message number 40")
    page = await ben.get(f"/rooms/{room}/messages/{target.id}")
    assert page.status == 200 and "<h1" in page.text
    assert numbers(page.text) == list(range(15, 66))  # 25 older, the message, 25 newer
    current = [li for li in items(page.text) if 'aria-current="true"' in li]
    assert len(current) == 1 and current[0].startswith(f'<li id="m-{target.id}"')
    assert 'tabindex="-1" autofocus' in current[0]
    assert f'data-current="{target.id}"' in page.text
    # Paging both ways, and no live appending after a gap.
    first = (await Message.get(room_id=room, body="message number 15")).id
    last = (await Message.get(room_id=room, body="message number 65")).id
    assert f'href="/rooms/{room}/messages?before={first}"' in page.text
    assert f'href="/rooms/{room}/messages?after={last}"' in page.text
    assert 'sse-swap="message"' not in page.text
    newer = await ben.get(f"/rooms/{room}/messages?after={last}")
    assert numbers(newer.text) == list(range(66, 116))
    assert "Newer messages in General" in newer.text and "?after=" in newer.text
    fragment = await ben.get(f"/rooms/{(room)}/messages?after={last}", htmx=True)
    assert "<html" not in fragment.text and '<p id="newer" class="newer" hx-swap-oob="true">' in fragment.text
    end = (await Message.get(room_id=room, body="message number 115")).id
    final = await ben.get(f"/rooms/{room}/messages?after={end}", htmx=True)
    assert numbers(final.text) == list(range(116, 120)) and "Go to the newest messages" in final.text
    # Opening a permanent link reads nothing: Ben's unread messages stay unread.
    listing = await ben.get("/rooms")
    assert re.search(rf'id="unread-{room}"[^>]*>120 unread<', listing.text)


async def test_a_permanent_link_near_the_newest_message_follows_the_stream(ana):
    room = await ana.create_room("General")
    for n in range(5):
        await ana.say(room, f"message number {n}")
    target = await Message.get(room_id=room, body="message number 1")
    page = await ana.get(f"/rooms/{room}/messages/{target.id}")
    assert numbers(page.text) == list(range(5))
    assert 'sse-swap="message"' in page.text and 'id="newer"' not in page.text
    assert "This is the start of the conversation." in page.text


async def test_every_message_offers_its_link(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "mine")
    await ben.say(room, "theirs")
    for li in items((await ben.get(f"/rooms/{room}")).text):
        mid = re.match(r'<li id="m-(\d+)"', li).group(1)
        assert f'<a class="act-link" href="/rooms/{room}/messages/{mid}">Copy link</a>' in li


async def test_a_permanent_link_to_another_rooms_message_is_not_found(ana):
    general = await ana.create_room("General")
    other = await ana.create_room("Other")
    await ana.say(other, "elsewhere")
    message = await Message.get(room_id=other)
    assert (await ana.get(f"/rooms/{general}/messages/{message.id}")).status == 404
    assert (await ana.get(f"/rooms/{general}/messages/x1")).status == 404
    assert (await ana.get(f"/rooms/{general}/messages?after=x")).status == 400


# -- Reactions ------------------------------------------------------------------------------------

def reaction_buttons(li: str) -> list[str]:
    return re.findall(r'<button type="submit" class="reaction"[^>]*>.*?</button>', li, re.S)


async def test_a_reaction_toggles_by_form_post_and_shows_for_everyone_alike(ana, ben, cleo):
    room = await ana.create_room("General")
    for person in (ben, cleo):
        await person.post(f"/rooms/{room}/join")
    await ana.say(room, "lunch?")
    message = await Message.get(room_id=room)
    path = f"/rooms/{room}/messages/{message.id}/reactions"
    page = await ben.post(path, {"emoji": "👍"})
    assert page.status == 303 and page.location == f"/rooms/{room}/messages/{message.id}"
    assert (await cleo.post(path, {"emoji": "👍"}, htmx=True)).status == 204
    assert (await ana.post(path, {"emoji": " 🎉 "})).status == 303
    seen = {}
    for person in (ana, ben, cleo):
        li = items((await person.get(f"/rooms/{room}")).text)[0]
        seen[person] = reaction_buttons(li)
    assert seen[ana] == seen[ben] == seen[cleo]  # one fragment for every reader
    thumbs, party = seen[ana]
    assert 'aria-label="thumbs up: Ben Okafor and Cleo"' in thumbs
    assert 'data-users=" ben cleo "' in thumbs and '<span class="count" aria-hidden="true">2</span>' in thumbs
    assert f'formaction="{path}"' in thumbs and 'form="react-form"' in thumbs and 'value="👍"' in thumbs
    assert 'aria-label="party: Ana Lima"' in party
    # Each page carries the one form the buttons submit, with that reader's token.
    assert re.search(r'<form id="react-form" method="post"[^>]*hidden><input type="hidden" name="csrf_token"',
                     (await ben.get(f"/rooms/{room}")).text)
    # The reader's own, marked by the per-reader style (without script too).
    assert '.reaction[data-users~="ben"] { --mine: 1; }' in (await ben.get(f"/rooms/{room}")).text
    # Again: taken back.
    assert (await ben.post(path, {"emoji": "👍"})).status == 303
    li = items((await ben.get(f"/rooms/{room}")).text)[0]
    assert 'aria-label="thumbs up: Cleo"' in reaction_buttons(li)[0]
    assert await Reaction.filter(message_id=message.id).count() == 2


async def test_every_message_offers_the_quick_six_and_any_emoji(ana):
    room = await ana.create_room("General")
    await ana.say(room, "hello")
    message = await Message.get(room_id=room)
    li = items((await ana.get(f"/rooms/{room}")).text)[0]
    quick = re.findall(r'<button type="submit" class="react"[^>]*aria-label="([^"]+)"', li)
    assert quick == ["thumbs up", "heart", "laughing", "party", "surprised", "sad"]
    assert f'href="/rooms/{room}/messages/{message.id}/reactions"' in li
    page = await ana.get(f"/rooms/{room}/messages/{message.id}/reactions")
    assert page.status == 200 and '<input id="reaction-emoji" name="emoji"' in page.text
    assert (await ana.post(f"/rooms/{room}/messages/{message.id}/reactions", {"emoji": "🇹🇭"})).status == 303
    page = await ana.get(f"/rooms/{room}/messages/{message.id}/reactions")
    assert "flag TH: Ana Lima" in page.text


async def test_what_is_not_one_emoji_is_refused_with_the_form_again(ana):
    room = await ana.create_room("General")
    await ana.say(room, "hello")
    message = await Message.get(room_id=room)
    path = f"/rooms/{room}/messages/{message.id}/reactions"
    for bad in ("", "ok", "<script>", "👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍", "🏽", "x" * 5000):
        page = await ana.post(path, {"emoji": bad})
        assert page.status == 422, bad
        assert 'href="#reaction-emoji"' in page.text and 'aria-invalid="true"' in page.text
    assert (await ana.post(path, {"emoji": "nope"}, htmx=True)).status == 422
    assert (await ana.post(path, {})).status == 422
    assert await Reaction.all().count() == 0


async def test_at_most_twenty_different_reactions(ana, ben, no_limits):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "react away")
    message = await Message.get(room_id=room)
    path = f"/rooms/{room}/messages/{message.id}/reactions"
    emoji = [chr(0x1F600 + n) for n in range(21)]
    for e in emoji[:20]:
        assert (await ana.post(path, {"emoji": e})).status == 303
    page = await ben.post(path, {"emoji": emoji[20]})
    assert page.status == 422 and "at most 20 different reactions" in page.text
    assert (await ben.post(path, {"emoji": emoji[0]})).status == 303  # one of the twenty: fine
    assert await Reaction.filter(message_id=message.id).count() == 21


async def test_a_deleted_message_takes_no_reactions_and_shows_none(ana):
    room = await ana.create_room("General")
    await ana.say(room, "soon gone")
    message = await Message.get(room_id=room)
    path = f"/rooms/{room}/messages/{message.id}/reactions"
    assert (await ana.post(path, {"emoji": "😢"})).status == 303
    await ana.post(f"/rooms/{room}/messages/{message.id}/delete")
    assert (await ana.post(path, {"emoji": "👍"})).status == 410
    assert (await ana.get(path)).status == 410
    li = items((await ana.get(f"/rooms/{room}")).text)[0]
    assert "reaction" not in li


# -- Replies --------------------------------------------------------------------------------------

async def test_a_reply_quotes_its_original_which_counts_it(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "Lunch at the <b>new</b> place?\n" + "x" * 200)
    original = await Message.get(room_id=room)
    # Without script, Reply is a link to the room with the composer answering it.
    page = await ben.get(f"/rooms/{room}")
    assert f'<a class="act-reply" href="/rooms/{room}?reply_to={original.id}#composer"' in page.text
    replying = await ben.get(f"/rooms/{room}?reply_to={original.id}")
    composer = re.search(r'<form id="composer".*?</form>', replying.text, re.S).group(0)
    assert f'<input type="hidden" name="reply_to" value="{original.id}">' in composer
    assert '<p id="composer-reply-label">Replying to Ana Lima: Lunch at the &lt;b&gt;new&lt;/b&gt; place? xxx' in composer
    assert f'<a class="reply-cancel" href="/rooms/{room}#composer">Cancel reply</a>' in composer
    assert 'aria-describedby="composer-reply-label composer-hint"' in composer
    posted = await ben.post(f"/rooms/{room}/messages", {"body": "yes!", "reply_to": str(original.id)})
    assert posted.status == 303
    reply = await Message.get(room_id=room, body="yes!")
    assert reply.reply_to_id == original.id
    assert (await Message.get(id=original.id)).reply_count == 1
    shown = {int(re.match(r'<li id="m-(\d+)"', li).group(1)): li for li in items((await ana.get(f"/rooms/{room}")).text)}
    quote = re.search(r'<p class="reply-quote">(.*?)</p>', shown[reply.id], re.S).group(1)
    text = re.sub(r"<[^>]+>", "", quote)
    assert quote.startswith(f'<a href="/rooms/{room}/messages/{original.id}">In reply to Ana Lima: ')
    # The first ~140 characters, as text (the markup typed is not markup here), on one line.
    assert text.startswith("In reply to Ana Lima: Lunch at the &lt;b&gt;new&lt;/b&gt; place? xxx") and text.endswith("x…")
    assert len(text.removeprefix("In reply to Ana Lima: ").replace("&lt;", "<").replace("&gt;", ">")) == 140
    assert f'<a href="/rooms/{room}/messages/{original.id}/replies">1 reply</a>' in shown[original.id]
    # "1 reply" leads to the replies' own page, each reply linked to its place in the conversation
    # (the page itself: tests/test_replies_page.py).
    first = await ana.get(f"/rooms/{room}/messages/{original.id}/replies")
    assert first.status == 200
    assert f'<a href="/rooms/{room}/messages/{reply.id}">Show in conversation</a>' in first.text
    await ana.post(f"/rooms/{room}/messages", {"body": "me too", "reply_to": str(original.id)}, htmx=True)
    again = await ana.get(f"/rooms/{room}")
    assert f'<a href="/rooms/{room}/messages/{original.id}/replies">2 replies</a>' in again.text


async def test_a_reply_must_answer_a_shown_message_of_the_same_room(ana, ben):
    room = await ana.create_room("General")
    other = await ana.create_room("Other")
    private = await ben.create_room("Ben's", visibility="private")
    await ana.say(other, "elsewhere")
    await ben.say(private, "secret")
    await ana.say(room, "gone soon")
    elsewhere = await Message.get(room_id=other)
    secret = await Message.get(room_id=private)
    gone = await Message.get(room_id=room)
    await ana.post(f"/rooms/{room}/messages/{gone.id}/delete")
    for reply_to, says in [
        (elsewhere.id, "You can only reply to a message of this room"),
        (secret.id, "You can only reply to a message of this room"),  # not readable: not even named
        (999999, "You can only reply to a message of this room"),
        (gone.id, "That message was deleted; it can no longer be replied to."),
        ("x1", "reply_to must be the number of a message in this room."),
    ]:
        page = await ana.post(f"/rooms/{room}/messages", {"body": "hello", "reply_to": str(reply_to)})
        assert page.status == 422 and says in page.text, (reply_to, page.status)
        assert 'id="composer-error"' in page.text and ">hello</textarea>" in page.text
        fragment = await ana.post(f"/rooms/{room}/messages", {"body": "hello", "reply_to": str(reply_to)}, htmx=True)
        assert fragment.status == 422 and says in fragment.text and "<html" not in fragment.text
        link = await ana.get(f"/rooms/{room}?reply_to={reply_to}")
        assert link.status == 422 and says in link.text
    assert await Message.filter(body="hello").count() == 0
    assert (await Message.get(id=elsewhere.id)).reply_count == 0
    # An empty reply_to is no reply at all.
    assert (await ana.post(f"/rooms/{room}/messages", {"body": "plain", "reply_to": ""})).status == 303
    assert (await Message.get(body="plain")).reply_to_id is None
    # Another room's message has no replies page here.
    assert (await ana.get(f"/rooms/{room}/messages/{elsewhere.id}/replies")).status == 404


async def test_a_deleted_original_leaves_its_replies_saying_so(ana, ben):
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "original words")
    original = await Message.get(room_id=room)
    await ben.post(f"/rooms/{room}/messages", {"body": "an answer", "reply_to": str(original.id)})
    reply = await Message.get(body="an answer")
    assert "In reply to Ana Lima: <span dir=\"auto\">original words</span>" in (await ben.get(f"/rooms/{room}")).text
    await ana.post(f"/rooms/{room}/messages/{original.id}/delete")
    page = (await ben.get(f"/rooms/{room}")).text
    li = next(li for li in items(page) if li.startswith(f'<li id="m-{reply.id}"'))
    assert '<p class="reply-quote">In reply to: original message deleted</p>' in li
    assert "original words" not in page
    # A deleted reply shows no quote, and its original keeps counting what was said.
    await ben.post(f"/rooms/{room}/messages/{reply.id}/delete")
    li = next(li for li in items((await ben.get(f"/rooms/{room}")).text) if li.startswith(f'<li id="m-{reply.id}"'))
    assert "reply-quote" not in li


async def test_the_api_posts_replies_with_the_same_rules(app, ana, ben):
    from tests.helpers.api import ApiClient, token_for

    room = await ana.create_room("General")
    other = await ana.create_room("Other")
    await ana.say(other, "elsewhere")
    api = ApiClient(app, await token_for("ana"))
    first = (await api.post(f"/api/v1/rooms/{room}/messages", {"body": "first"})).json
    assert first["reply_to"] is None and first["reply_count"] == 0
    reply = await api.post(f"/api/v1/rooms/{room}/messages", {"body": "answer", "reply_to": first["id"]})
    assert reply.status == 201 and reply.json["reply_to"] == first["id"]
    assert (await Message.get(id=first["id"])).reply_count == 1
    elsewhere = await Message.get(room_id=other)
    refused = await api.post(f"/api/v1/rooms/{room}/messages", {"body": "no", "reply_to": elsewhere.id})
    assert refused.status == 422 and refused.headers["Content-Type"].startswith("application/problem+json")
    assert "reply to a message of this room" in refused.text and "reply_to" in refused.text
    bad = await api.post(f"/api/v1/rooms/{room}/messages", {"body": "no", "reply_to": "1"})
    assert bad.status == 422
