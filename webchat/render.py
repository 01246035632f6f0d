"""Fragments rendered once and shared: messages, typing, presence, read markers, unread counts.

These render outside any request (inside a publish, or a stream's replay), so the templates they
use may not depend on the reader.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from jinja2 import Environment, pass_context
from markupsafe import Markup

from webchat.clock import UTC_CLOCK, Clock, long_date
from webchat import i18n
from webchat.emoji import QUICK, emoji_name, reaction_label
from webchat.files import present
from webchat.live import sse
from webchat.live.hub import Envelope
from webchat.text import is_plain, mentions


def isotime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def shorttime(value: datetime) -> str:
    return UTC_CLOCK.time(value)


def clock_of(context) -> Clock:
    """The reader's clock of a page (its `clock`), or UTC for what is rendered for everyone."""
    clock = context.get("clock")
    return clock if isinstance(clock, Clock) else UTC_CLOCK


@pass_context
def readertime(context, value: datetime) -> str:
    """A moment in the reader's zone and clock when the page has one (UTC, labelled, otherwise)."""
    return clock_of(context).time(value)


def isodate(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def longdate(value: datetime) -> str:
    """A day as words in the current language: "Monday 30 November 2026", "วันจันทร์ที่ 30
    พฤศจิกายน 2569" (Thai in the Buddhist era, as the day headings and the browser write it)."""
    if i18n.current() == i18n.DEFAULT:
        return f"{value:%A} {value.day} {value:%B %Y}"
    return long_date(value)


EXCERPT_MAX = 140


def excerpt(body: str) -> str:
    """The first ~140 characters of a body as one line of text, for a reply's quote."""
    text = " ".join(body.split())
    if len(text) <= EXCERPT_MAX:
        return text
    return text[: EXCERPT_MAX - 1].rstrip() + "…"


def quoted(message):
    """The message this one answers, if it was loaded with it (else None: the fragment then links
    to it without an excerpt)."""
    return message.__dict__.get("_reply_to")


def _quote_key(message) -> tuple | None:
    """What of the original shows in a reply: part of the reply's cache key."""
    if message.reply_to_id is None:
        return None
    original = quoted(message)
    if original is None:
        return (message.reply_to_id,)
    return (original.id, original.revision, original.deleted, original.author.display_name)


def remover(removed_by: str) -> str:
    """Who removed a message, as kept on it ("the owner, Ana Lima", "a moderator, Ben Okafor",
    "an administrator": webchat.messages.views and webchat.admin write these), in the current
    language; anything else as it was kept."""
    if removed_by.startswith("the owner, "):
        return i18n.gettext("the owner, %(name)s", name=removed_by.removeprefix("the owner, "))
    if removed_by.startswith("a moderator, "):
        return i18n.gettext("a moderator, %(name)s", name=removed_by.removeprefix("a moderator, "))
    if removed_by == "an administrator":
        return i18n.gettext("an administrator")
    return removed_by


def message_said(m, time: str, plain: bool) -> str:
    """What a screen reader hears of a message, in one breath and one sentence per shape, so that
    each language orders it its own way: "Ana Lima @ana, 6:40 PM, edited: Good morning, 1 image:
    a cat". A body with links or formatting is not in it (it follows, readable): the sentence then
    ends at the colon. (The page's script swaps the time for the reader's own where the sentence
    starts "NAME @USERNAME, TIME", as it does in English and Thai.)"""
    author = m.author
    names = {"name": author.display_name, "username": author.username, "time": time}
    bot = author.is_bot
    if m.deleted:
        if m.removed_by:
            if bot:
                return i18n.gettext("%(name)s (bot) @%(username)s, %(time)s: message deleted by %(remover)s",
                                    remover=remover(m.removed_by), **names)
            return i18n.gettext("%(name)s @%(username)s, %(time)s: message deleted by %(remover)s",
                                remover=remover(m.removed_by), **names)
        if bot:
            return i18n.gettext("%(name)s (bot) @%(username)s, %(time)s: message deleted", **names)
        return i18n.gettext("%(name)s @%(username)s, %(time)s: message deleted", **names)
    text = m.body if plain else ""
    if m.files:
        files = present.attachments_said(m.files)
        text = i18n.gettext("%(text)s, %(attachments)s", text=text, attachments=files) if text else files
    if m.edited_at:
        if bot:
            return i18n.gettext("%(name)s (bot) @%(username)s, %(time)s, edited: %(text)s", text=text, **names)
        return i18n.gettext("%(name)s @%(username)s, %(time)s, edited: %(text)s", text=text, **names)
    if bot:
        return i18n.gettext("%(name)s (bot) @%(username)s, %(time)s: %(text)s", text=text, **names)
    return i18n.gettext("%(name)s @%(username)s, %(time)s: %(text)s", text=text, **names)


def _gettext(message: str) -> str:
    return i18n.catalog().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.catalog().ngettext(singular, plural, n)


def _pgettext(context: str, message: str) -> str:
    return i18n.catalog().pgettext(context, message)


def init_jinja(env: Environment) -> None:
    # `{{ _("…") }}` and `{% trans %}` in every template, in the language of the render (Jinja
    # does the %-formatting and escaping of variables itself: newstyle).
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True, pgettext=_pgettext)
    env.globals["current_language"] = i18n.current
    env.globals["languages"] = i18n.LANGUAGES
    env.filters["isotime"] = isotime
    env.filters["shorttime"] = readertime
    env.filters["isodate"] = isodate
    env.filters["longdate"] = longdate
    env.globals["mentions"] = mentions
    env.tests["plain"] = is_plain
    env.globals["quick_reactions"] = QUICK
    env.globals["emoji_name"] = emoji_name
    env.globals["reaction_label"] = reaction_label
    env.globals["message_said"] = message_said
    env.globals["remover"] = remover
    present.init(env)
    env.globals["quoted"] = quoted
    env.filters["excerpt"] = excerpt


class Renderer:
    """Synchronous rendering of shared fragments (Quart's own environment is async-only).

    Counts its renders, so tests can prove that one event means one render.
    """

    # What the kept renders may take: a Thai render is twice the bytes of an English one, so a
    # count of renders would not bound the memory.
    CACHE_BYTES = 48 * 1024 * 1024

    def __init__(self, app_env: Environment) -> None:
        self.env = Environment(
            loader=app_env.loader, autoescape=True, trim_blocks=True, lstrip_blocks=True,
            auto_reload=False,
        )
        init_jinja(self.env)
        self.renders = 0
        # Each message as last rendered, by everything that shows in it: the publish renders it
        # once, and pages and history pages take it from here (least recently used go first).
        # Kept as UTF-8: a str holding one emoji (the quick reactions) stores every character in
        # four bytes, so a fragment takes about four times its UTF-8 size as a str.
        self._messages: OrderedDict[tuple, bytes] = OrderedDict()
        self.cached_bytes = 0
        # False while an event is rendered in the languages other than the default: those
        # renders go into the event, not the cache, which keeps what pages and the default
        # language ask for (a Thai page renders and keeps its own when one is asked for).
        self._keep = True
        app_env.globals["message_html"] = self._page_message

    @pass_context
    def _page_message(self, context, message, **options) -> Markup:
        # A page's message is in its reader's time (`clock` in the page's context), and folded
        # when the reader blocked its author (`blocked`, their usernames).
        folded = message.author.username in (context.get("blocked") or ())
        return self.message(message, clock=clock_of(context), folded=folded, **options)

    def fragment(self, template: str, **context) -> str:
        self.renders += 1
        return self.env.get_template(template).render(**context)

    def message(self, message, *, oob: bool = False, replayed: bool = False, day_heading: bool = False,
                new_divider: bool = False, current: bool = False, clock: Clock = UTC_CLOCK,
                folded: bool = False) -> Markup:
        """The one message fragment. `day_heading`, `new_divider` and `current` come from the page
        around it (the first message of a day, the reader's first unread, the message a permanent
        link is to), never from a stream; so does `clock`, the reader's time on a page (UTC,
        labelled, in the stream)."""
        author = message.author
        shape = (message.id, message.revision, message.deleted, message.edited_at, author.username,
                 author.display_name, author.bot_owner_id is not None, message.removed_by,
                 _quote_key(message), oob, replayed, day_heading, new_divider, current, clock.key, folded)
        # A render that looked up no translated string is the same in every language: kept once,
        # under no language (and the other languages' publish finds it rendered already).
        for key in ((None, *shape), (i18n.current(), *shape)):
            kept = self._messages.get(key)
            if kept is not None:
                self._messages.move_to_end(key)
                return Markup(kept.decode())
        before = i18n.lookups
        html = Markup(self.fragment(
            "messages/_message.html", m=message, oob=oob, replayed=replayed, day_heading=day_heading,
            new_divider=new_divider, current=current, clock=clock, folded=folded))
        if self._keep or i18n.lookups == before:
            self._remember((i18n.current() if i18n.lookups != before else None, *shape), html)
        return html

    def forget_messages(self) -> None:
        self._messages.clear()
        self.cached_bytes = 0

    def _remember(self, key: tuple, html: Markup) -> None:
        replaced = self._messages.pop(key, None)
        if replaced is not None:
            self.cached_bytes -= len(replaced)
        kept = self._messages[key] = html.encode()
        self.cached_bytes += len(kept)
        while self.cached_bytes > self.CACHE_BYTES and len(self._messages) > 1:
            self.cached_bytes -= len(self._messages.popitem(last=False)[1])

    def in_every_language(self, make: Callable[[], Envelope]) -> Envelope:
        """The envelope `make` builds, in the default language, carrying its versions in the other
        languages where their words differ: each rendered once, whatever language the request
        that caused it was in."""
        with i18n.speaking(i18n.DEFAULT):
            envelope = make()
        others = {}
        self._keep = False
        try:
            for language in i18n.OTHERS:
                with i18n.speaking(language):
                    other = make()
                if other.frame != envelope.frame or other.variants != envelope.variants:
                    others[language] = other
        finally:
            self._keep = True
        envelope.languages = others or None
        return envelope

    def message_frame(self, kind: str, message, event_id: int, *, replayed: bool = False) -> bytes:
        html = self.message(message, oob=kind == "message_updated", replayed=replayed)
        return sse.frame(kind, html, event_id)


def typing_text(names: list[str]) -> str:
    """The sentence in #typing, in the current language: one whole sentence per number of names,
    so each language joins the names and agrees the verb its own way."""
    if not names:
        return ""
    if len(names) == 1:
        return i18n.gettext("%(name)s is typing…", name=names[0])
    if len(names) == 2:
        return i18n.gettext("%(first)s and %(second)s are typing…", first=names[0], second=names[1])
    if len(names) == 3:
        return i18n.gettext("%(first)s, %(second)s and %(third)s are typing…",
                            first=names[0], second=names[1], third=names[2])
    return i18n.gettext("Several people are typing…")
