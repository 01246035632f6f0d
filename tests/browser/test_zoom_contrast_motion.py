"""Zoom, contrast and motion.

- At 320 CSS px wide (what 400 % zoom leaves of a 1280 px window) no page needs horizontal
  scrolling, and axe-core finds nothing there either (in the dark scheme: the light one is
  checked at 320 px by the screenshot tour and at every width by test_axe).
- Text enlarged to 200 % at 1280 px: no horizontal scrolling, nothing clipped.
- Forced colours (Windows high contrast): the controls are all still there, with borders, and
  focus is still outlined; marks carried by colour or shadow (own messages, mentions) survive.
- prefers-reduced-motion: reduce turns every transition and animation off.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import unique
from tests.browser.support import (
    NARROW,
    WIDE,
    Session,
    assert_focus_visible,
    axe,
    no_horizontal_scroll,
    open_actions,
    press,
    tab_to,
)

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2
LONG_LINK = "https://example.org/" + "a-very-long-path-segment/" * 6 + "?q=" + "x" * 60
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaft"[:64]


async def world(session: Session) -> dict:
    """Two people and rooms full of awkward content: long words, long links, long names."""
    ana = await session.user(unique("ana"), LONG_NAME)
    ben = await session.user(unique("ben"), "Ben Okafor")
    room = await ana.create_room("Room" + "x" * 70, "public")
    await ben.post(f"/rooms/{room}/join")
    other = await ben.create_room("Ben's room", "public")
    await ana.post(f"/rooms/{other}/join")
    await ben.say(other, "unread for Ana")
    for i in range(54):
        who = ana if i % 2 else ben
        await who.say(room, f"Message {i}: the quick brown fox jumps over the lazy dog.")
    await ben.say(room, f"A word too long for any screen: {LONG_WORD}")
    await ben.say(room, f"A link: {LONG_LINK}")
    await ben.say(room, f"Line one\nline two\nline three, for @{ana.username}")
    await ana.say(room, "My own message, with an Edit link")
    page = await ana.page(f"/rooms/{room}")
    ids = [int(n) for n in re.findall(rf'<li id="m-(\d+)"[^>]*data-author="{ana.username}"', page.text)]
    first = min(int(n) for n in re.findall(r'<li id="m-(\d+)"', page.text))
    await ben.post(f"/rooms/{room}/typing", htmx=True)
    return {"ana": ana, "ben": ben, "room": room, "other": other, "own": ids[-1], "first": first}


def pages(w: dict) -> list[tuple[str, str]]:
    room = w["room"]
    return [
        ("room list", "/rooms"),
        ("room", f"/rooms/{room}"),
        ("edit page", f"/rooms/{room}/messages/{w['own']}/edit"),
        ("history page", f"/rooms/{room}/messages?before={w['first']}"),
        ("members", f"/rooms/{room}/members"),
        ("settings", "/settings"),
        ("404", "/rooms/999999999"),
    ]


SIGNED_OUT = [("landing", "/"), ("register", "/register"), ("sign in", "/login")]


async def with_errors(page: Page, path: str) -> None:
    """The signed-out forms, submitted empty: the error summary, messages and marked fields."""
    await page.goto(path)
    await page.locator("main form button[type=submit]").click()
    await expect(page.locator("#error-summary")).to_be_visible()


async def test_reflow_at_320_css_pixels(session: Session):
    w = await world(session)
    signed_out = await session.page(viewport=NARROW, color_scheme="dark")
    for name, path in SIGNED_OUT:
        await signed_out.goto(path)
        await no_horizontal_scroll(signed_out, f"{name} at 320 px")
        await axe(signed_out, f"{name} at 320 px, dark")
        if path != "/":
            await with_errors(signed_out, path)
            await no_horizontal_scroll(signed_out, f"{name} with errors at 320 px")
            await axe(signed_out, f"{name} with errors at 320 px, dark")

    page = await session.page(w["ana"], viewport=NARROW, color_scheme="dark")
    for name, path in pages(w):
        await page.goto(path)
        await no_horizontal_scroll(page, f"{name} at 320 px")
        await axe(page, f"{name} at 320 px, dark")
    # The room with its edit form open in place, and with older messages loaded.
    await page.goto(f"/rooms/{w['room']}")
    await open_actions(page.locator(f"#m-{w['own']}"))
    await page.locator(f"#m-{w['own']} .act-own").click()
    await expect(page.locator("#edit-body")).to_be_visible()
    await no_horizontal_scroll(page, "room, editing in place, at 320 px")
    await page.get_by_role("link", name="Show older messages").click()
    await expect(page.locator("#older")).to_have_text("This is the start of the conversation.")
    await no_horizontal_scroll(page, "room, all history, at 320 px")
    await axe(page, "room, editing and all history, at 320 px, dark")


CLIPPED_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.visually-hidden, [hidden], script, style, textarea, input, select')) continue;
    const s = getComputedStyle(el);
    const clipsX = ['hidden', 'clip'].includes(s.overflowX), clipsY = ['hidden', 'clip'].includes(s.overflowY);
    if ((clipsX && el.scrollWidth > el.clientWidth + 1) || (clipsY && el.scrollHeight > el.clientHeight + 1)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + el.className);
    }
  }
  return out;
}"""

KEY_CONTAINERS = ".site-header, main, .site-footer, .composer, .message, .room-side, form, fieldset, .error-summary, button, .button"


async def test_text_enlarged_to_200_percent(session: Session):
    w = await world(session)
    page = await session.page(w["ana"], viewport=WIDE)
    anon = await session.page(viewport=WIDE)
    targets = [(anon, name, path) for name, path in SIGNED_OUT] + [(page, n, p) for n, p in pages(w)]
    for tab, name, path in targets:
        await tab.goto(path)
        base = await tab.evaluate("parseFloat(getComputedStyle(document.querySelector('main p, main label, h1')).fontSize)")
        await tab.evaluate("document.documentElement.style.fontSize = '200%'")
        bigger = await tab.evaluate("parseFloat(getComputedStyle(document.querySelector('main p, main label, h1')).fontSize)")
        assert bigger >= 1.95 * base, f"{name}: text did not grow with the root font size ({base} -> {bigger})"
        await no_horizontal_scroll(tab, f"{name} with text at 200 %")
        clipped = await tab.evaluate(CLIPPED_JS)
        assert not clipped, f"{name} with text at 200 %: content is clipped in {clipped}"
        outside = await tab.evaluate(
            """sel => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length)
                 .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                 .map(e => e.tagName.toLowerCase() + ' ' + e.className)""",
            KEY_CONTAINERS,
        )
        assert not outside, f"{name} with text at 200 %: containers run off the page: {outside}"


VISIBLE_JS = """sel => [...document.querySelectorAll(sel)].map(el => {
  const s = getComputedStyle(el), r = el.getBoundingClientRect();
  return {sel, html: el.outerHTML.slice(0, 90), width: r.width, height: r.height,
          visibility: s.visibility, opacity: parseFloat(s.opacity), display: s.display,
          color: s.color, background: s.backgroundColor,
          border: [s.borderTopStyle, parseFloat(s.borderTopWidth)],
          outline: [s.outlineStyle, parseFloat(s.outlineWidth)], forced: matchMedia('(forced-colors: active)').matches};
})"""

# What must still be seen and used in forced colours: (selector, needs a border of its own)
CONTROLS = [
    ("header a", False),
    ('form[action="/logout"] button', True),
    ("#composer-body", True),
    ("#composer button[type=submit]", True),
    ("details.msg-actions > summary", True),
    ("#older a", False),
    (".unread:not(:empty)", True),
    (".room-nav .room-list a", False),
    (".message > .bubble", True),
]


async def test_forced_colors_keep_everything(session: Session):
    w = await world(session)
    page = await session.page(w["ana"], forced_colors="active")
    await page.goto(f"/rooms/{w['room']}")
    assert await page.evaluate("matchMedia('(forced-colors: active)').matches")
    await expect(page.locator(f"#unread-{w['other']}")).to_have_text("1 unread")
    for selector, bordered in CONTROLS:
        selector = selector.format(me=w["ana"].username)
        found = await page.evaluate(VISIBLE_JS, selector)
        assert found, f"forced colours: nothing matches {selector}"
        for el in found:
            where = f"forced colours: {el['html']}"
            assert el["width"] > 0 and el["height"] > 0, f"{where} has no size: {el}"
            assert el["visibility"] == "visible" and el["opacity"] >= 0.9, f"{where} is hidden: {el}"
            assert el["color"] != el["background"], f"{where}: text colour is its background: {el}"
            if bordered:
                assert el["border"][0] != "none" and el["border"][1] >= 1, f"{where} lost its border: {el}"

    # Marks that were colour or shadow: the reader's own messages and mentions stay distinct.
    marks = await page.evaluate(
        """own => {
          const pick = sel => { const el = document.querySelector(sel + ' > .bubble'); const s = getComputedStyle(el);
            return [s.borderInlineStartWidth, s.outlineStyle, s.outlineWidth, s.borderStyle].join(' '); };
          return {own: pick('.message[data-author="' + own + '"]'),
                  mention: pick('.message[data-mentions~="' + own.toLowerCase() + '"]'),
                  plain: pick('.message:not([data-author="' + own + '"]):not([data-mentions~="' + own.toLowerCase() + '"])')};
        }""",
        w["ana"].username,
    )
    assert marks["own"] != marks["plain"], f"forced colours: own messages look like any other: {marks}"
    assert marks["mention"] != marks["plain"], f"forced colours: mentions look like any other: {marks}"

    # Focus is still outlined, in the system highlight colour.
    await tab_to(page, "#composer-body", where="forced colours: composer")
    info = await press(page, "Tab", "forced colours: Send")
    assert_focus_visible(info, "forced colours: Send button")
    assert info["outlineWidth"] >= 2


ANIMATED_JS = """() => {
  const moving = [];
  for (const el of [document.documentElement, ...document.querySelectorAll('*')]) {
    for (const pseudo of [null, '::before', '::after']) {
      const s = getComputedStyle(el, pseudo);
      const durations = (s.transitionDuration + ',' + s.animationDuration).split(',').map(parseFloat);
      if (s.animationName !== 'none' || durations.some(d => d > 0)) {
        moving.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className : '') + (pseudo || '')
          + ' ' + s.transitionProperty + ' ' + s.transitionDuration + ' ' + s.animationName);
      }
    }
  }
  return {moving: moving.slice(0, 10), count: moving.length,
          smooth: getComputedStyle(document.documentElement).scrollBehavior};
}"""


async def test_reduced_motion_turns_every_animation_off(session: Session):
    w = await world(session)
    # With no preference the page does move a little (the skip link slides, buttons fade):
    # proof that the check below can see motion.
    moving = await session.page(w["ana"])
    await moving.goto(f"/rooms/{w['room']}")
    assert (await moving.evaluate(ANIMATED_JS))["count"] > 0, "the check cannot see any motion"

    still = await session.page(w["ana"], reduced_motion="reduce")
    anon = await session.page(reduced_motion="reduce")
    for tab, path in [(anon, "/"), (anon, "/login"), (still, "/rooms"), (still, f"/rooms/{w['room']}")]:
        await tab.goto(path)
        await tab.keyboard.press("Tab")  # the skip link appears: no slide
        found = await tab.evaluate(ANIMATED_JS)
        assert found["count"] == 0, f"{path}: still moving under reduced motion: {found['moving']}"
        assert found["smooth"] != "smooth"
        assert await tab.evaluate("document.getAnimations().length") == 0
    # A message arriving (and the history keeping up with it) moves nothing either.
    await w["ben"].say(w["room"], "A new message while reducing motion")
    await expect(still.locator("#messages > li").last).to_contain_text("while reducing motion")
    assert await still.evaluate("document.getAnimations().length") == 0
    assert (await still.evaluate(ANIMATED_JS))["count"] == 0
