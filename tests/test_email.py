"""Email against a real SMTP server (aiosmtpd): addresses verified by a signed link, away digests
(contents, escaping, timing, never twice), one-click unsubscribe, the outbox retrying while the
server is away and sending each email once however many workers run, "Forgot password?", and no
email at all without SMTP_URL. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest

from tests.conftest import make_settings
from tests.helpers import Browser
from tests.helpers.mail import Inbox, certificate_authority, parts
from webchat.app import create_app
from webchat.config import ConfigError
from webchat.mail import digest, links, outbox, smtp
from webchat.messages import notices
from webchat.models import (
    DigestedMessage,
    EmailAddress,
    Membership,
    Message,
    Notice,
    OutgoingEmail,
    PasswordReset,
    User,
)
from webchat.ratelimit import Limit, LocalRateLimiter

PUBLIC = "https://chat.example.org"
SECRET = "test-secret-key"


@pytest.fixture
def inbox():
    box = Inbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def mail_app(database_url, tmp_path, inbox):
    # A long digest delay: the tests make their digest rounds themselves, at the moments they choose.
    application = create_app(make_settings(database_url, tmp_path, SMTP_URL=inbox.url, WEBCHAT_PUBLIC_URL=PUBLIC,
                                           WEBCHAT_DIGEST_DELAY="86400"))
    async with application.test_app():
        yield application


def env(app):
    return app.extensions["webchat"].renderer.env


async def a_round(app, delay: float = 0) -> int:
    return await digest.run_round(env(app), secret=SECRET, base_url=PUBLIC, delay=delay)


async def verified(username: str, address: str) -> None:
    user = await User.get(username_key=username)
    await EmailAddress.create(user_id=user.id, address=address, verified_at=datetime.now(UTC))


def link_in(text: str, path: str) -> str:
    match = re.search(re.escape(PUBLIC) + re.escape(path) + r"[A-Za-z0-9_.\-]+", text)
    assert match, text
    return match.group(0)[len(PUBLIC):]


@pytest.mark.parametrize("env", [{"SMTP_URL": "http://mail.example.org"}, {"SMTP_URL": "smtp://"},
                                 {"SMTP_URL": "smtp://host:port"}, {"WEBCHAT_PUBLIC_URL": "chat.example.org"},
                                 {"SMTP_FROM": "nobody"}, {"WEBCHAT_DIGEST_DELAY": "soon"}])
def test_bad_email_settings_stop_the_start_saying_why(env, tmp_path):
    with pytest.raises(ConfigError) as refused:
        make_settings("sqlite://x", tmp_path, **env)
    assert next(iter(env)) in str(refused.value)


def test_email_settings_are_read_from_the_url(tmp_path):
    settings = make_settings("sqlite://x", tmp_path, SMTP_URL="smtps://me%40example.org:p%2Fw@mail.example.org",
                             WEBCHAT_PUBLIC_URL="https://chat.example.org/")
    server = smtp.Server.from_url(settings.smtp_url)
    assert (server.host, server.port, server.implicit_tls) == ("mail.example.org", 465, True)
    assert (server.username, server.password) == ("me@example.org", "p/w")
    assert settings.smtp_from == "webchat@chat.example.org" and settings.public_url == "https://chat.example.org"
    assert settings.digest_delay == 900
    plain = smtp.Server.from_url("smtp://mail.example.org")
    assert (plain.port, plain.implicit_tls, plain.username) == (587, False, None)
    assert not make_settings("sqlite://x", tmp_path).email


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd, of TLS from the start
async def test_smtp_url_speaks_tls_checks_the_certificate_and_signs_in(tls, tmp_path, monkeypatch):
    """`smtp://` upgrades with STARTTLS (this server refuses mail until it does), `smtps://` is TLS
    from the first byte; the server's certificate is checked; the URL's user name and password
    sign in."""
    authority, certificate, key = certificate_authority(tmp_path)
    inbox = Inbox(tls=tls, certificate=(certificate, key), login=("me@example.org", "p/w:secret"))
    inbox.start()
    try:
        server = smtp.Server.from_url(inbox.url)
        assert server.implicit_tls is (tls == "implicit") and server.password == "p/w:secret"
        row = OutgoingEmail(id=1, recipient="ana@example.org", subject="Over TLS", text="hello", html="")
        # A certificate nobody vouches for is refused: nothing is sent in the clear instead.
        with pytest.raises((aiosmtplib.SMTPException, OSError)):
            await smtp.send(server, outbox.build(row, "webchat@chat.example.org"))
        assert inbox.messages == []
        monkeypatch.setenv("SSL_CERT_FILE", str(authority))  # the default trust store: our authority
        await smtp.send(server, outbox.build(row, "webchat@chat.example.org"))
        [message] = await inbox.wait_for(1)
        assert message["Subject"] == "Over TLS" and inbox.signed_in == ["me@example.org"]
    finally:
        inbox.stop()


async def test_no_email_at_all_without_smtp_url(app):
    ana = Browser(app)
    await ana.register("ana", "Ana")
    settings = await ana.get("/settings")
    assert "Email is not configured on this site" in settings.text
    page = await ana.get("/settings/email")
    assert page.status == 200 and "Email is not configured" in page.text and 'name="email"' not in page.text
    assert (await ana.post("/settings/email", {"email": "ana@example.org"})).status == 404
    signed_out = Browser(app)
    assert "Forgot password?" not in (await signed_out.get("/login")).text
    assert (await signed_out.get("/forgot")).status == 404
    assert (await signed_out.post("/forgot", {"account": "ana"})).status == 404
    assert await EmailAddress.all().count() == 0
    assert await OutgoingEmail.all().count() == 0


async def test_an_address_is_verified_by_the_signed_link_sent_to_it(mail_app, inbox, monkeypatch):
    ana = Browser(mail_app)
    await ana.register("ana", "Ana")
    assert "Forgot password?" in (await Browser(mail_app).get("/login")).text
    assert 'name="email"' in (await ana.get("/settings/email")).text
    bad = await ana.post("/settings/email", {"email": "not an address"})
    assert bad.status == 422 and 'href="#email"' in bad.text
    assert (await ana.post("/settings/email", {"email": "ana@example.org"})).status == 303
    [message] = await inbox.wait_for(1)
    assert message["To"] == "ana@example.org" and "Confirm" in message["Subject"]
    path = link_in(parts(message)[0], "/email/verify/")
    assert "not confirmed yet" in (await ana.get("/settings/email")).text
    # Anyone holding the link confirms it, signed in or not; a damaged one opens nothing.
    stranger = Browser(mail_app)
    assert (await stranger.get(path[:-3] + "xyz")).status == 404
    page = await stranger.get(path)
    assert page.status == 200 and "ana@example.org" in page.text
    assert (await EmailAddress.get(address="ana@example.org")).verified_at is None
    assert (await stranger.post(path)).status == 303
    assert (await EmailAddress.get(address="ana@example.org")).verified_at is not None
    assert "confirmed." in (await ana.get("/settings/email")).text
    # Changed: unconfirmed again, and the old link no longer fits it.
    assert (await ana.post("/settings/email", {"email": "ana@example.net"})).status == 303
    assert (await EmailAddress.get(user__username_key="ana")).verified_at is None
    assert (await stranger.get(path)).status == 404
    [_, second] = await inbox.wait_for(2)
    new_path = link_in(parts(second)[0], "/email/verify/")
    monkeypatch.setattr(links, "VERIFY_SECONDS", -1)
    expired = await stranger.get(new_path)
    assert expired.status == 410 and "expired" in expired.text
    monkeypatch.undo()
    assert (await ana.post("/settings/email/remove")).status == 303
    assert not await EmailAddress.exists()


@pytest.fixture
async def away(mail_app):
    """Ana (verified address) is away; Ben, whose display name and words are hostile, writes."""
    ana, ben = Browser(mail_app), Browser(mail_app)
    await ana.register("ana", "Ana")
    await ben.register("ben", "<b>Ben</b> & \"co\"")
    await verified("ana", "ana@example.org")
    room = await ana.create_room("General")
    await ben.post(f"/rooms/{room}/join")
    await ana.say(room, "my question")
    return ana, ben, room


async def test_digest_carries_mentions_replies_and_direct_messages_escaped_and_linked(away, mail_app, inbox):
    ana, ben, room = away
    question = await Message.get(body="my question")
    await ben.say(room, "@ana look <script>alert(1)</script> & <b>this</b>")
    await ben.say(room, "nothing for ana here")
    await ben.post(f"/rooms/{room}/messages", {"body": "a reply to you", "reply_to": str(question.id)})
    reply = await Message.get(body="a reply to you")
    if not await Notice.exists(message_id=reply.id):  # however replies come to be made
        await Message.filter(id=reply.id).update(reply_to_id=question.id)
        await Notice.create(user_id=question.author_id, message_id=reply.id, room_id=room, kind="reply")
    dm = int((await ben.post("/dm", {"username": "ana"})).location.rsplit("/", 1)[1])
    await ben.say(dm, "just between us")
    assert await a_round(mail_app) == 1
    [message] = await inbox.wait_for(1)
    assert message["To"] == "ana@example.org"
    assert "3 messages" in message["Subject"], parts(message)[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith(f"<{PUBLIC}/unsubscribe/")
    text, html = parts(message)
    ids = [m.id for m in await Message.filter(body__in=[
        "@ana look <script>alert(1)</script> & <b>this</b>", "a reply to you", "just between us"]).order_by("id")]
    for mid, room_id in zip(ids, (room, room, dm), strict=True):
        assert f"{PUBLIC}/rooms/{room_id}/messages/{mid}" in text
        assert f'href="{PUBLIC}/rooms/{room_id}/messages/{mid}"' in html
    assert "nothing for ana here" not in text and "nothing for ana" not in html
    assert "<script>alert(1)</script>" in text  # plain text is shown as written
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;this&lt;/b&gt;" in html
    assert "&lt;b&gt;Ben&lt;/b&gt; &amp; &#34;co&#34;" in html
    assert "<b>Ben</b>" not in html and "<script" not in html
    assert "mentioned you in" in text and "replied to you in" in text and "wrote to you" in text
    assert f"{PUBLIC}/unsubscribe/" in text


async def test_digest_waits_for_the_delay_skips_what_was_seen_and_never_repeats(away, mail_app, inbox):
    ana, ben, room = away
    await ben.say(room, "@ana first")
    assert await a_round(mail_app, delay=60) == 0  # not before the delay
    await Message.filter(body="@ana first").update(created_at=datetime.now(UTC) - timedelta(seconds=120))
    assert await a_round(mail_app, delay=60) == 1
    assert await a_round(mail_app, delay=60) == 0  # never twice
    assert await a_round(mail_app, delay=0) == 0
    await ben.say(room, "@ana second, which she reads")
    seen = await Message.get(body="@ana second, which she reads")
    assert (await ana.post(f"/rooms/{room}/read", {"last_message_id": str(seen.id)})).status == 303
    assert await a_round(mail_app) == 0
    # Seen on /mentions (its notice marked seen) without reading the room: not emailed either.
    await ben.say(room, "@ana third, seen among her mentions")
    await notices.mark_seen(await User.get(username_key="ana"))
    assert await a_round(mail_app) == 0
    # An address not yet confirmed receives nothing but its confirmation link.
    cleo = Browser(mail_app)
    await cleo.register("cleo", "Cleo")
    await cleo.post(f"/rooms/{room}/join")
    await EmailAddress.create(user_id=(await User.get(username_key="cleo")).id, address="cleo@example.org")
    await ben.say(room, "@cleo hello")
    assert await a_round(mail_app) == 0
    messages = await inbox.wait_for(1)
    await asyncio.sleep(0)
    assert [m["To"] for m in messages] == ["ana@example.org"]
    assert await DigestedMessage.filter(user__username_key="ana").count() == 1
    assert "@ana first" in parts(messages[0])[0]


async def test_what_came_while_the_first_waited_goes_in_the_same_digest(away, mail_app, inbox):
    """Someone is due a digest once the oldest thing unseen has waited the delay; the digest then
    carries everything unseen so far, so a conversation arrives as one email, not one per round."""
    ana, ben, room = away
    await ben.say(room, "@ana the start of it")
    await Message.filter(body="@ana the start of it").update(created_at=datetime.now(UTC) - timedelta(seconds=120))
    dm = int((await ben.post("/dm", {"username": "ana"})).location.rsplit("/", 1)[1])
    await ben.say(dm, "and more, a moment ago")
    await ben.say(room, "@ana and the end of it")
    assert await a_round(mail_app, delay=60) == 1
    [message] = await inbox.wait_for(1)
    assert "3 messages" in message["Subject"]
    for body in ("the start of it", "and more, a moment ago", "and the end of it"):
        assert body in parts(message)[0]
    assert await a_round(mail_app, delay=60) == 0
    # The next one waits its own delay.
    await ben.say(room, "@ana after the digest")
    assert await a_round(mail_app, delay=60) == 0
    await Message.filter(body="@ana after the digest").update(created_at=datetime.now(UTC) - timedelta(seconds=120))
    assert await a_round(mail_app, delay=60) == 1


async def test_digests_follow_notification_levels_and_do_not_disturb(away, mail_app, inbox):
    ana, ben, room = away
    await ben.say(room, "@ana while the room is silenced")
    assert (await ana.post(f"/rooms/{room}/notifications", {"level": "none"})).status == 303
    assert await a_round(mail_app) == 0  # the room's level says nothing
    assert (await ana.post(f"/rooms/{room}/notifications", {"level": "mentions"})).status == 303
    await User.filter(username_key="ana").update(do_not_disturb=True)
    assert await a_round(mail_app) == 0  # do not disturb: nothing, whatever the level
    await User.filter(username_key="ana").update(do_not_disturb=False)
    assert await a_round(mail_app) == 1
    [message] = await inbox.wait_for(1)
    assert "while the room is silenced" in parts(message)[0]


def emailed(room: str, level: str | None, kind: str) -> bool:
    """Whether what Ben writes (`kind`) in a room (`room`: its kind) reaches Ana's digest at her
    level there (None: the room's default). A public room's other messages never do, whatever
    the level: digests are for what is addressed to you."""
    if level == "none":
        return False
    return kind in ("mention", "reply") or room == "direct" and level in (None, "all")


DIGEST_CASES = [(room, level, kind, emailed(room, level, kind)) for room in ("public", "direct")
                for level in (None, "all", "mentions", "none") for kind in ("message", "mention", "reply")]


async def test_digests_follow_the_levels_for_mentions_replies_and_direct_messages(away, mail_app, inbox):
    ana, ben, public = away
    direct = int((await ben.post("/dm", {"username": "ana"})).location.rsplit("/", 1)[1])
    await ana.say(direct, "my question here")
    rooms = {"public": public, "direct": direct}
    questions = {"public": await Message.get(body="my question"), "direct": await Message.get(body="my question here")}
    for number, (room_kind, level, kind, expected) in enumerate(DIGEST_CASES):
        room = rooms[room_kind]
        await Membership.filter(room_id=room, user__username_key="ana").update(notify=level)
        body = f"case {number}" + (" @ana" if kind == "mention" else "")
        form = {"body": body, **({"reply_to": str(questions[room_kind].id)} if kind == "reply" else {})}
        assert (await ben.post(f"/rooms/{room}/messages", form)).status == 303
        assert await a_round(mail_app) == int(expected), (room_kind, level, kind)
        # Read, so that the next case starts with nothing unseen.
        said = await Message.get(body=body)
        assert (await ana.post(f"/rooms/{room}/read", {"last_message_id": str(said.id)})).status == 303
    sent = await inbox.wait_for(sum(expected for *_, expected in DIGEST_CASES))
    assert len(sent) == 14


async def test_one_click_unsubscribe_needs_no_sign_in_and_a_good_signature(away, mail_app, inbox):
    ana, ben, room = away
    await ben.say(room, "@ana ping")
    assert await a_round(mail_app) == 1
    [message] = await inbox.wait_for(1)
    path = message["List-Unsubscribe"].strip("<>")[len(PUBLIC):]
    stranger = Browser(mail_app)
    page = await stranger.get(path)
    assert page.status == 200 and "Stop away digests" in page.text
    # A mail program's one-click POST (RFC 8058): no cookie, no CSRF token.
    forged = await stranger.client.post(path[:-2] + "xx", form={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 404
    assert (await EmailAddress.get(address="ana@example.org")).digests
    response = await mail_app.test_client().post(path, form={"List-Unsubscribe": "One-Click"},
                                                 headers={"Origin": "https://mail.example.com"})
    assert response.status_code == 303
    assert not (await EmailAddress.get(address="ana@example.org")).digests
    assert "Away digests are off" in (await stranger.get(path)).text
    await ben.say(room, "@ana again")
    assert await a_round(mail_app) == 0
    # Turned on again in the settings.
    assert (await ana.post("/settings/email/digests", {"digests": "1"})).status == 303
    assert await a_round(mail_app) == 1


async def test_outbox_retries_while_the_server_is_away_and_delivers_once(mail_app, inbox):
    inbox.stop()
    assert await outbox.enqueue("ana@example.org", "verify", "Held back", "text", dedupe_key="held")
    assert not await outbox.enqueue("ana@example.org", "verify", "Held back", "text", dedupe_key="held")
    for _ in range(1500):  # the app's own worker tries, and fails
        row = await OutgoingEmail.get(dedupe_key="held")
        if row.attempts >= 1:
            break
        await asyncio.sleep(0.02)
    assert row.state == "pending" and row.attempts >= 1 and row.last_error
    inbox.start()
    [message] = await inbox.wait_for(1, timeout=30)  # the next try comes after its backoff
    assert message["Subject"] == "Held back"
    for _ in range(500):  # the worker marks it sent once the server has answered
        row = await OutgoingEmail.get(dedupe_key="held")
        if row.state != "pending":
            break
        await asyncio.sleep(0.02)
    assert row.state == "sent" and row.sent_at is not None
    await asyncio.sleep(1.5)  # a second worker turn sends nothing more
    assert len(inbox.messages) == 1


async def test_an_email_queued_before_a_restart_is_sent_after_it_once(database_url, tmp_path, inbox):
    """The server stops while the SMTP server is away; the process that starts next sends what
    was queued, once."""
    inbox.stop()
    settings = make_settings(database_url, tmp_path, SMTP_URL=inbox.url, WEBCHAT_PUBLIC_URL=PUBLIC,
                             WEBCHAT_DIGEST_DELAY="86400")
    first = create_app(settings)
    async with first.test_app():
        assert await outbox.enqueue("ana@example.org", "verify", "Across a restart", "text", dedupe_key="restart")
        for _ in range(1500):  # its worker tries, and fails
            if (await OutgoingEmail.get(dedupe_key="restart")).attempts >= 1:
                break
            await asyncio.sleep(0.02)
    inbox.start()
    second = create_app(settings)
    async with second.test_app():
        [message] = await inbox.wait_for(1, timeout=30)
        assert message["Subject"] == "Across a restart"
        for _ in range(500):
            row = await OutgoingEmail.get(dedupe_key="restart")
            if row.state != "pending":
                break
            await asyncio.sleep(0.02)
        assert row.state == "sent" and row.attempts >= 2
        await asyncio.sleep(1.5)  # further turns of the worker send nothing more
        assert len(inbox.messages) == 1


async def test_several_workers_at_once_send_each_email_once(mail_app, inbox):
    for number in range(30):
        await outbox.enqueue(f"p{number}@example.org", "digest", f"Email {number}", "text", dedupe_key=f"k{number}")
    server = outbox.smtp.Server.from_url(inbox.url)

    async def work() -> None:
        while await OutgoingEmail.filter(state="pending").exists():
            await outbox.send_due(server, "webchat@chat.example.org")
            await asyncio.sleep(0)

    await asyncio.gather(work(), work(), work())
    messages = await inbox.wait_for(30)
    await asyncio.sleep(1.2)  # the app's own worker has had its turn too
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == sorted(f"Email {n}" for n in range(30))
    assert messages[0]["From"] == "webchat@chat.example.org"


async def test_forgot_password_answers_alike_is_limited_and_its_link_works_once(mail_app, inbox):
    ana, ben = Browser(mail_app), Browser(mail_app)
    await ana.register("ana", "Ana")
    await ben.register("ben", "Ben")  # no address
    await verified("ana", "ana@example.org")
    visitor = Browser(mail_app)
    form = await visitor.get("/forgot")
    assert form.status == 200 and 'name="account"' in form.text
    answers = []
    for account in ("nobody", "ben", "nobody@example.org", "ANA@example.org"):
        page = await visitor.post("/forgot", {"account": account})
        answers.append((page.status, page.location))
    assert set(answers) == {(303, "/forgot/sent")}
    assert "If an account has this name or address" in (await visitor.get("/forgot/sent")).text
    [message] = await inbox.wait_for(1)
    assert message["To"] == "ana@example.org"
    path = link_in(parts(message)[0], "/reset/")
    assert (await visitor.get(path)).status == 200
    assert (await visitor.post(path, {"password": "a brand new secret"})).status == 303
    used = await visitor.get(path)
    assert used.status == 404 and "used already" in used.text
    assert (await Browser(mail_app).login("ana", "a brand new secret")).status == 303
    # Per account: more requests still get the same answer, and no more emails.
    mail_app.config["RATE_LIMITS"]["forgot_account"] = Limit(2, 3600)  # one used above
    mail_app.config["RATE_LIMITS"]["forgot"] = Limit(100, 3600)
    for _ in range(2):
        page = await visitor.post("/forgot", {"account": "ana"})
        assert (page.status, page.location) == (303, "/forgot/sent")
    await inbox.wait_for(2)
    await asyncio.sleep(1.5)
    assert len(inbox.messages) == 2
    assert await PasswordReset.filter(user__username_key="ana").count() == 2
    # Per address: then 429.
    mail_app.config["RATE_LIMITS"]["forgot"] = Limit(1, 3600)
    mail_app.extensions["webchat"].limiter = LocalRateLimiter()
    assert (await visitor.post("/forgot", {"account": "nobody"})).status == 303
    assert (await visitor.post("/forgot", {"account": "nobody"})).status == 429
    assert (await visitor.post("/forgot", {"account": ""})).status == 429


async def test_two_digest_rounds_at_once_send_one_digest(away, mail_app, inbox):
    ana, ben, room = away
    await ben.say(room, "@ana two processes, one digest")
    assert sorted(await asyncio.gather(a_round(mail_app), a_round(mail_app))) == [0, 1]
    assert len(await inbox.wait_for(1)) == 1
    assert await OutgoingEmail.filter(kind="digest").count() == 1


@pytest.fixture
def empty_postgres(postgres_database) -> str:
    from tests.helpers import services

    services.empty_postgres_database(postgres_database)
    return postgres_database


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_server_processes_send_each_email_once(empty_postgres, inbox, tmp_path):
    """Two real servers on one PostgreSQL database, each with its outbox worker: every queued
    email arrives once."""
    from tests.helpers.live import LiveServer, wait_healthy
    from tests.helpers.net import free_port
    from webchat import db

    postgres_database = empty_postgres
    servers = [LiveServer(free_port(), tmp_path / f"p{n}", postgres_database, SMTP_URL=inbox.url,
                          WEBCHAT_RATE_LIMITS="off") for n in range(2)]
    try:
        wait_healthy([server.spawn() for server in servers])
        await db.open_database(postgres_database)
        try:
            for number in range(60):
                await outbox.enqueue(f"p{number}@example.org", "digest", f"Email {number}", "text",
                                     dedupe_key=f"two{number}")
            await inbox.wait_for(60, timeout=60)
            await asyncio.sleep(2)  # both workers have had further turns
            assert sorted(m["Subject"] for m in inbox.messages) == sorted(f"Email {n}" for n in range(60))
            assert await OutgoingEmail.filter(state="sent").count() == 60
        finally:
            await db.close_database()
    finally:
        for server in servers:
            server.stop()


async def test_a_direct_message_that_mentions_or_answers_is_one_item_of_the_digest(away, mail_app, inbox):
    """In a direct room a message can be a mention or a reply as well as a direct message: it is
    one item of the digest, and the digest goes out."""
    ana, ben, _ = away
    dm = int((await ben.post("/dm", {"username": "ana"})).location.rsplit("/", 1)[1])
    await ana.say(dm, "a question between us")
    question = await Message.get(body="a question between us")
    await ben.say(dm, "@ana named in our room")
    await ben.post(f"/rooms/{dm}/messages", {"body": "an answer between us", "reply_to": str(question.id)})
    assert await a_round(mail_app) == 1
    [message] = await inbox.wait_for(1)
    text, html = parts(message)
    assert "2 messages" in message["Subject"], text
    for body in ("@ana named in our room", "an answer between us"):
        mid = (await Message.get(body=body)).id
        assert text.count(f"/rooms/{dm}/messages/{mid}") == 1
        assert html.count(f'href="{PUBLIC}/rooms/{dm}/messages/{mid}"') == 1
    # Both written to her, as a direct room's messages are (it has no name to be "in").
    assert text.count("wrote to you") == 2 and "in Direct" not in text and "in Direct" not in html
    assert await a_round(mail_app) == 0
