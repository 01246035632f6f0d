"""Search: the same corpus finds the same messages on SQLite (FTS5 trigram) and PostgreSQL
(pg_trgm), in English, Thai, mixed scripts, with diacritics, emoji and code; special characters of
either query language are only text; readers find only what they may read; deleted messages are
never found and edited ones by their current text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from webchat.models import Message

CORPUS = {
    "en1": "The budget review is on Monday",
    "en2": "Budget: 100% approved_final (see notes)",
    "en3": "budget budget budget",
    "th1": "ประชุมงบประมาณวันจันทร์",
    "th2": "สวัสดีครับ ทุกคน",
    "mix": "Deploy ไปที่ production แล้ว 🚀",
    "dia1": "Le café est fermé à São Paulo",
    "dia2": "ÉCOLE primaire",
    "greek": "Καλημέρα κόσμε",
    "emoji": "party time 🎉🎉🎉 tonight",
    "code": 'SELECT * FROM users WHERE name LIKE "%ana_%"; -- AND NEAR(x) ^y',
    "code2": "def f(x): return x[0] # path C:\\temp\\new",
    "short": "ok go",
}

# The query as typed, and the corpus entries it must find: the same on both engines.
EXPECTED = [
    ("budget", {"en1", "en2", "en3"}),
    ("BUDGET monday", {"en1"}),
    ('"review is on"', {"en1"}),
    ('"is on review"', set()),
    ("งบประมาณ", {"th1"}),  # inside a run of Thai with no spaces
    ("ประชุม จันทร์", {"th1"}),
    ("สวัสดี", {"th2"}),
    ("production ไปที่", {"mix"}),
    ("🎉🎉🎉", {"emoji"}),
    ("café", {"dia1"}),
    ("cafe", set()),  # diacritics are letters of their own
    ("São", {"dia1"}),
    ("école", {"dia2"}),  # case folded beyond ASCII
    ("καλημέρα", {"greek"}),
    ("100%", {"en2"}),
    ("_final", {"en2"}),
    ("approved%final", set()),  # % is a percent sign, not "anything"
    ("approved_final", {"en2"}),
    ('"%ana_%"', {"code"}),
    ("AND", {"code"}),
    ("NEAR(x)", {"code"}),
    ("^y", {"code"}),  # two characters: compared without the index
    ("* FROM", {"code"}),
    ("x[0]", {"code2"}),
    ("C:\\temp", {"code2"}),
    ("ok", {"short"}),
    ("ok go", {"short"}),
    ("'; DROP TABLE messages; --", set()),
    ("budget 🚀", set()),
    ("ไป 🚀", {"mix"}),  # two short terms, neither indexed
]


def found_ids(page) -> list[int]:
    assert page.status == 200, page.text[:2000]
    return [int(mid) for mid in re.findall(r'class="result-link" href="/rooms/\d+/messages/(\d+)"', page.text)]


async def corpus(author, room) -> dict[str, int]:
    ids = {}
    for key, body in CORPUS.items():
        page = await author.say(room, body)
        assert page.status == 303
        ids[key] = int(page.location.rsplit("-", 1)[1])
    return ids


async def test_the_same_corpus_finds_the_same_messages(no_limits, ana):
    room = await ana.create_room("General")
    ids = await corpus(ana, room)
    names = {v: k for k, v in ids.items()}
    got = {}
    for q, _ in EXPECTED:
        got[q] = {names[i] for i in found_ids(await ana.get(f"/search?q={quote(q)}"))}
    assert got == {q: want for q, want in EXPECTED}


async def test_results_newest_first_or_best_first_with_marked_escaped_excerpts(no_limits, ana):
    room = await ana.create_room("General")
    ids = await corpus(ana, room)
    page = await ana.get("/search?q=budget")
    assert found_ids(page) == [ids["en3"], ids["en2"], ids["en1"]]
    assert "3 results for “budget”" in page.text
    assert "<title>3 results for “budget” · webchat</title>" in page.text
    best = await ana.get("/search?q=budget&sort=best")
    assert found_ids(best)[0] == ids["en3"]  # three times in a short message
    assert "<mark>budget</mark> <mark>budget</mark> <mark>budget</mark>" in best.text
    assert "<mark>Budget</mark>: 100% approved_final" in best.text  # as written, case and all
    # Each result: room, author, time, and its permanent link.
    assert f'href="/rooms/{room}/messages/{ids["en1"]}"' in page.text
    assert re.search(r'Ana Lima <span class="username">@ana</span> in General, <time datetime="[^"]+Z">', page.text)
    one = await ana.get("/search?q=" + quote("ไปที่"))
    assert "1 result for “ไปที่”" in one.text and "Deploy <mark>ไปที่</mark> production" in one.text


async def test_hostile_text_is_escaped_in_excerpts_and_headings(no_limits, ana):
    room = await ana.create_room("General")
    hostile = ['<script>alert(1)</script> marker', '<img src=x onerror=alert(1)> marker',
               '"><mark>fake</mark> marker', "marker &amp; &lt;b&gt;", "<<mark>>marker</mark>"]
    for body in hostile:
        await ana.say(room, body)
    page = await ana.get("/search?q=marker")
    assert found_ids(page) and len(found_ids(page)) == len(hostile)
    results = page.text.split('id="search-results"', 1)[1]
    assert "<script>" not in results and "<img" not in results
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>marker</mark>" in results
    assert "&lt;mark&gt;fake&lt;/mark&gt;" in results
    assert "<mark>marker</mark> &amp;amp; &amp;lt;b&amp;gt;" in results
    assert "&lt;&lt;mark&gt;&gt;<mark>marker</mark>&lt;/mark&gt;" in results
    # The query itself, echoed in the heading, the title and the field.
    q = '<img src=x onerror=alert(1)>'
    page = await ana.get(f"/search?q={quote(q)}")
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    # A term that is markup-like is marked as text.
    page = await ana.get(f"/search?q={quote('<mark>')}")
    assert "&lt;&lt;mark&gt;&gt;marker" not in page.text or "<mark>&lt;mark&gt;</mark>" in page.text
    assert "<mark>&lt;mark&gt;</mark>" in page.text


async def test_deleted_never_found_and_edited_only_by_their_current_text(no_limits, ana):
    room = await ana.create_room("General")
    ids = await corpus(ana, room)
    assert (await ana.post(f"/rooms/{room}/messages/{ids['en1']}/edit", {"body": "The forecast is on Friday"})).status == 303
    assert (await ana.post(f"/rooms/{room}/messages/{ids['th1']}/delete")).status == 303
    assert found_ids(await ana.get("/search?q=budget")) == [ids["en3"], ids["en2"]]
    assert found_ids(await ana.get("/search?q=forecast")) == [ids["en1"]]
    assert found_ids(await ana.get("/search?q=" + quote("งบประมาณ"))) == []
    # Removed from the database altogether (a room's messages go with it): out of the index too.
    await Message.filter(id=ids["en2"]).delete()
    assert found_ids(await ana.get("/search?q=budget")) == [ids["en3"]]


async def test_only_rooms_the_reader_may_read(no_limits, ana, ben, cleo):
    private = await ana.create_room("Secret plans", "private")
    public = await ana.create_room("Agora", "public")
    other_private = await ben.create_room("Ben's den", "private")
    await ana.say(private, "zebra in private")
    await ana.say(public, "zebra in public")
    await ben.say(other_private, "zebra in ben's den")
    direct = int((await ben.post("/dm", {"username": "cleo"})).location.rsplit("/", 1)[1])
    await ben.say(direct, "zebra between ben and cleo")

    def bodies(page):
        return re.findall(r'<span class="excerpt" dir="auto">([^<]*)<mark>zebra</mark>', page.text)

    assert sorted(bodies(await ana.get("/search?q=zebra"))) == ["", ""]
    assert "2 results" in (await ana.get("/search?q=zebra")).text
    # Cleo: a public room she never joined, and her direct room with Ben (titled as she sees it).
    page = await cleo.get("/search?q=zebra")
    assert "2 results" in page.text and "in Direct: Ben Okafor" in page.text and "in Agora" in page.text
    assert "Secret" not in page.text and "s den" not in page.text
    # Asking for a room one may not read is refused as the room itself is.
    assert (await cleo.get(f"/search?q=zebra&room={private}")).status == 403
    assert (await cleo.get("/search?q=zebra&room=999999")).status == 404
    assert (await cleo.get(f"/search?q={quote('zebra in:Secret plans')}")).status == 422
    assert (await ana.get(f"/search?q=zebra&room={private}")).text.count('class="result"') == 1


async def test_filters_typed_or_given_as_fields(no_limits, ana, ben):
    general = await ana.create_room("General plans", "public")
    other = await ana.create_room("Other", "public")
    assert (await ben.post(f"/rooms/{general}/join")).status == 303
    old = await ana.say(general, "quokka one")
    await ben.say(general, "quokka two")
    await ana.say(other, "quokka three")
    await ana.say(other, "quokka four")
    await Message.filter(id=int(old.location.rsplit("-", 1)[1])).update(created_at=datetime(2020, 5, 17, 12, tzinfo=UTC))

    def texts(page):
        assert page.status == 200, page.text[:1500]
        return re.findall(r"<mark>quokka</mark> (\w+)", page.text)

    assert texts(await ana.get("/search?q=quokka")) == ["four", "three", "two", "one"]
    assert texts(await ana.get(f"/search?q=quokka&room={general}")) == ["two", "one"]
    assert texts(await ana.get("/search?q=" + quote('quokka in:"general plans"'))) == ["two", "one"]
    assert texts(await ana.get("/search?q=quokka&from=ben")) == ["two"]
    assert texts(await ana.get("/search?q=" + quote("from:@ben quokka"))) == ["two"]
    assert texts(await ana.get("/search?q=quokka&before=2020-05-18")) == ["one"]
    assert texts(await ana.get("/search?q=quokka&after=2020-05-18")) == ["four", "three", "two"]
    assert texts(await ana.get("/search?q=" + quote("quokka after:2020-05-17 before:2020-05-18"))) == ["one"]
    assert texts(await ana.get("/search?q=" + quote("quokka after:2020-05-18 before:2020-05-19"))) == []


@pytest.mark.parametrize("query,field,message", [
    ("q=", "search-q", "Enter a word or words to search for."),
    ("q=%20%20", "search-q", "Enter a word or words to search for."),
    ("q=a", "search-q", "Enter at least 2 characters"),
    ("q=" + "x" * 201, "search-q", "at most 200 characters"),
    ("q=budget&after=yesterday", "search-after", "give a date as YYYY-MM-DD"),
    ("q=budget&before=2026-02-30", "search-before", "give a date as YYYY-MM-DD"),
    ("q=budget&after=2026-02-03&before=2026-02-01", "search-before", "must be later"),
    ("q=budget&from=nobody-here", "search-from", "There is nobody called “nobody-here”"),
    ("q=budget&room=Nowhere", "search-room", "no public room has that name"),
])
async def test_a_search_that_cannot_run_explains_itself(ana, query, field, message):
    page = await ana.get(f"/search?{query}")
    assert page.status == 422
    assert 'class="error-summary"' in page.text and f'href="#{field}"' in page.text and message in page.text
    assert 'role="search"' in page.text
    kept = dict(p.split("=", 1) for p in query.split("&"))
    if len(kept.get("q", "")) < 50 and kept.get("q", "").strip("%20"):
        assert f'value="{kept["q"]}"' in page.text  # the form kept


async def test_hostile_queries_never_fail(ana):
    room = await ana.create_room("General")
    await ana.say(room, "plain text")
    for q in ("%", "_%_", '"', '""', '"unterminated', "\\", "'", "NOT", "a OR b", "col:val", "in:", "from:",
              "after:", "x" * 5000, "\x00\x00abc", "\ud800abc", "*", "(((", "NEAR(a b)", "in:99999999999999 text",
              "plain in:999999", "🎉" * 3, "\u202eplain"):
        page = await ana.get(f"/search?q={quote(q, errors='surrogatepass')}")
        assert page.status in (200, 404, 422), (q, page.status)
    for args in ("page=0", "page=-1", "page=x", "page=99999999999", "sort=%00", "room=%00", "after=%00"):
        assert (await ana.get(f"/search?q=plain&{args}")).status in (200, 422), args


async def test_pages_of_twenty(no_limits, ana):
    room = await ana.create_room("General")
    for n in range(45):
        await ana.say(room, f"numbat {n:02d}")
    first = await ana.get("/search?q=numbat")
    assert "45 results for “numbat”" in first.text and len(found_ids(first)) == 20
    assert "Page 1 of 3" in first.text and 'rel="next" href="/search?q=numbat&amp;' in first.text
    last = await ana.get("/search?q=numbat&page=3")
    assert len(found_ids(last)) == 5 and "numbat</mark> 00" in last.text


async def test_htmx_gets_the_results_and_the_count_for_the_status_once(no_limits, ana):
    room = await ana.create_room("General")
    await ana.say(room, "wombat")
    page = await ana.get("/search?q=wombat", htmx=True)
    assert page.status == 200 and "<html" not in page.text
    assert page.text.count("1 result for “wombat”") == 2  # the heading, and the status once
    assert '<p id="search-status" hx-swap-oob="innerHTML">1 result for “wombat”</p>' in page.text
    bad = await ana.get("/search?q=", htmx=True)
    assert bad.status == 422 and 'class="error-summary"' in bad.text


async def test_every_signed_in_page_has_the_search_form(ana):
    room = await ana.create_room("General")
    for path in ("/rooms", f"/rooms/{room}", "/people", "/settings", "/search"):
        page = await ana.get(path)
        assert '<form method="get" action="/search" class="site-search" role="search" aria-label="Messages">' in page.text
        assert '<label for="site-search-q" class="visually-hidden">Search messages</label>' in page.text


async def test_counted_up_to_a_hundred_then_more_than(no_limits, ana):
    room = await ana.create_room("General")
    for n in range(105):
        await ana.say(room, f"dingo {n:03d}")
    first = await ana.get("/search?q=dingo")
    assert "More than 100 results for “dingo”" in first.text
    assert "<p>Page 1</p>" in first.text and 'rel="next"' in first.text and 'rel="prev"' not in first.text
    last = await ana.get("/search?q=dingo&page=6")
    assert len(found_ids(last)) == 5 and "dingo</mark> 000" in last.text
    assert 'rel="next"' not in last.text and 'rel="prev"' in last.text


def _reference(body: str, terms: list[str]) -> bool:
    """What a term means, written plainly: three characters or more, contained regardless of case;
    shorter, ASCII letters regardless of case and other characters as written."""
    for term in terms:
        if len(term) >= 3 or term.isascii():
            if term.lower() not in body.lower():
                return False
        elif term not in body:
            return False
    return True


async def test_random_corpus_agrees_with_the_plain_meaning(no_limits, ana):
    """Random text from a small alphabet that mixes cases, accents, Thai, emoji and both query
    languages' special characters; random substrings of it as queries: each engine finds exactly
    the messages the plain meaning says."""
    import random

    from webchat.search.query import parse

    rng = random.Random(20261201)
    alphabet = list("aAbBéÉกข%_\"*-:") + ["🎉", " "]
    room = await ana.create_room("Random")
    bodies = {}
    for _ in range(60):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 30))).strip() or "ab"
        page = await ana.say(room, body)
        mid = int(page.location.rsplit("-", 1)[1])
        bodies[mid] = (await Message.get(id=mid)).body  # as stored (trimmed)
    misses, checked, found_some = [], 0, 0
    for _ in range(80):
        source = rng.choice(list(bodies.values()))
        start = rng.randrange(len(source))
        q = source[start:start + rng.randint(2, 6)]
        if rng.random() < 0.5:
            q = q.swapcase()
        terms = parse(q).terms
        if not terms or max(len(t) for t in terms) < 2 or any(op in q.lower() for op in ("in:", "from:", "after:", "before:")):
            continue
        want = sorted((i for i, b in bodies.items() if _reference(b, terms)), reverse=True)
        page = await ana.get(f"/search?q={quote(q)}&page=1")
        got = found_ids(page)
        checked += 1
        found_some += bool(want)
        if got != want[:20]:
            misses.append((q, terms, got, want[:20]))
    assert not misses
    assert checked >= 50 and found_some >= 40, (checked, found_some)
